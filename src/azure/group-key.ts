// DPS group enrollment: each device signs with a key derived from the group key and its registration id, so
// one leaked device key exposes one device, not the whole group.

import { checkRegistrationId } from './identifiers';
import type { Result } from '../result';
import { type AzureError } from './azure-error';
import { hmacBase64, type HmacSha256, type SymmetricKey } from './sas-token';

/** base64(HMAC-SHA256(groupKey, utf8(registrationId))). */
export function deriveDeviceKey(groupKey: SymmetricKey, registrationId: string, hmac: HmacSha256): Result<string, AzureError> {
  const reg = checkRegistrationId(registrationId);
  if (!reg.ok) return reg;
  return hmacBase64(groupKey, registrationId, hmac, 'groupKey');
}
