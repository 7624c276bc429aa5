// Device Provisioning Service topics. Responses come on `$dps/registrations/res/{status}/?$rid={rid}` with an
// optional `retry-after={seconds}`; DPS does not promise the parameter order, so they are looked up by name.

import { percentEncode } from '../encoding/percent';
import type { Result } from '../result';
import type { AzureError } from './azure-error';
import { parseStatusTopic } from './topic-parts';

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
  return parseStatusTopic(topic, RESPONSE_PREFIX, 'dps response topic', 'retry-after', 'retryAfterSeconds', 'is not a whole number of seconds');
}
