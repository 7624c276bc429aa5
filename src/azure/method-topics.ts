// Direct methods: requests arrive on `$iothub/methods/POST/{method}/?$rid={rid}`, replies go to
// `$iothub/methods/res/{status}/?$rid={rid}`. The rid is decoded on the way in and encoded on the way out, so
// it round-trips exactly for any rid the hub writes in the canonical encoding.

import { percentDecode, percentEncode } from '../encoding/percent';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';
import { requiredParam, splitTopic } from './topic-parts';

export const METHODS_FILTER = '$iothub/methods/POST/#';

const REQUEST_PREFIX = '$iothub/methods/POST/';

export interface MethodRequest {
  methodName: string;
  rid: string;
}

export function parseMethodRequestTopic(topic: string): Result<MethodRequest, AzureError> {
  const parts = splitTopic(topic, REQUEST_PREFIX, 'method topic');
  if (!parts.ok) return parts;
  const rawName = parts.value.head;
  if (rawName.length === 0) return fail('invalid-topic', 'method topic', 'has an empty method name');
  if (rawName.indexOf('/') >= 0) return fail('invalid-topic', 'method topic', "method name contains '/'");
  const name = percentDecode(rawName);
  if (!name.ok) return fail('invalid-topic', 'method topic', `method name: ${name.error.message}`);
  const rid = requiredParam(parts.value.query, '$rid', 'method topic');
  if (!rid.ok) return rid;
  return ok({ methodName: name.value, rid: rid.value });
}

export interface CommandName {
  /** Present for IoT Plug and Play component commands (`{component}*{command}`). */
  component?: string;
  command: string;
}

/** Splits at the first `*`; a name with nothing on either side of it is a plain command name. */
export function splitCommandName(methodName: string): CommandName {
  const star = methodName.indexOf('*');
  if (star <= 0 || star === methodName.length - 1) return { command: methodName };
  return { component: methodName.slice(0, star), command: methodName.slice(star + 1) };
}

/** The hub hands the status to the service caller unchanged; 200-299 conventionally means success. */
export function methodResponseTopic(status: number, rid: string): Result<string, AzureError> {
  if (!Number.isSafeInteger(status) || status < 0) {
    return fail('invalid-argument', 'status', 'must be a non-negative integer');
  }
  if (rid.length === 0) return fail('invalid-argument', 'rid', 'must not be empty');
  return ok(`$iothub/methods/res/${status}/?$rid=${percentEncode(rid)}`);
}
