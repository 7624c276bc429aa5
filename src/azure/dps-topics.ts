// Device Provisioning Service topics. Responses come on `$dps/registrations/res/{status}/?$rid={rid}` with an
// optional `retry-after={seconds}`; DPS does not promise the parameter order, so they are looked up by name.

import { percentEncode } from '../encoding/percent';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';
import { optionalParam, parseCount, parseStatus, requiredParam, splitTopic } from './topic-parts';

export const DPS_RESPONSE_FILTER = '$dps/registrations/res/#';

const RESPONSE_PREFIX = '$dps/registrations/res/';

export function dpsRegisterTopic(rid: string): string {
  return `$dps/registrations/PUT/iotdps-register/?$rid=${percentEncode(rid)}`;
}

export function dpsPollTopic(rid: string, operationId: string): string {
  return `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${percentEncode(rid)}&operationId=${percentEncode(operationId)}`;
}

export interface DpsResponseTopic {
  status: number;
  rid: string;
  /** Seconds to wait before polling or retrying, when DPS says. */
  retryAfterSeconds?: number;
}

export function parseDpsResponseTopic(topic: string): Result<DpsResponseTopic, AzureError> {
  const parts = splitTopic(topic, RESPONSE_PREFIX, 'dps response topic');
  if (!parts.ok) return parts;
  const status = parseStatus(parts.value.head, 'dps response topic');
  if (!status.ok) return status;
  const rid = requiredParam(parts.value.query, '$rid', 'dps response topic');
  if (!rid.ok) return rid;
  const retry = optionalParam(parts.value.query, 'retry-after', 'dps response topic');
  if (!retry.ok) return retry;
  const response: DpsResponseTopic = { status: status.value, rid: rid.value };
  if (retry.value !== undefined) {
    const seconds = parseCount(retry.value);
    if (seconds === undefined) return fail('invalid-topic', 'dps response topic', 'retry-after is not a whole number of seconds');
    response.retryAfterSeconds = seconds;
  }
  return ok(response);
}
