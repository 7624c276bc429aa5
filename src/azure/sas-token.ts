// Shared access signature tokens for IoT Hub and DPS.
// `resource` is the `sr` text exactly as it appears in the token, already URL-encoded: the signer never encodes
// it again, so what is signed is byte for byte what is sent (the hub rejects a token whose `%2f` differs in case
// from what was signed). Build it with hubSasResource / dpsSasResource, which apply Azure's encoding rules.
// The device only builds tokens; reading and checking one (the hub's side) is in sas-verify.ts.

import type { CryptoPort } from '../ports';
import { base64Decode, base64Encode } from '../encoding/base64';
import { percentEncode } from '../encoding/percent';
import { utf8Encode } from '../encoding/utf8';
import { checkDeviceId, checkHostName, checkIdScope, checkModuleId, checkRegistrationId } from './identifiers';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export type HmacSha256 = CryptoPort['hmacSha256'];

/** A symmetric key as base64 text (as in connection strings) or as its raw bytes. */
export type SymmetricKey = string | Uint8Array;

export interface SasTokenInput {
  /** The `sr` value as sent: URL-encoded, only `A-Z a-z 0-9 - _ . ~` and `%XX`. */
  resource: string;
  key: SymmetricKey;
  expiryUnixSeconds: number;
  /** Sent as `skn`, URL-encoded. Hub device tokens have none; DPS uses `registration`. */
  keyName?: string;
}

/** How every SAS token begins. */
export const SAS_TOKEN_PREFIX = 'SharedAccessSignature ';
const PREFIX = SAS_TOKEN_PREFIX;
/** The Node SDK's default lifetime; renewing early is the caller's job. */
export const DEFAULT_SAS_TTL_SECONDS = 3600;

export function keyBytes(key: SymmetricKey, field = 'key'): Result<Uint8Array, AzureError> {
  let bytes: Uint8Array;
  if (typeof key === 'string') {
    const decoded = base64Decode(key);
    if (!decoded.ok) return fail('invalid-base64', field, `is not valid base64 (${decoded.error.message})`);
    bytes = decoded.value;
  } else {
    bytes = key;
  }
  if (bytes.length === 0) return fail('invalid-value', field, 'is empty');
  return ok(bytes);
}

/** base64(HMAC-SHA256(key, utf8(message))), not URL-encoded. */
export function hmacBase64(key: SymmetricKey, message: string, hmac: HmacSha256, keyField = 'key'): Result<string, AzureError> {
  const k = keyBytes(key, keyField);
  if (!k.ok) return k;
  let mac: Uint8Array;
  try {
    mac = hmac(k.value, utf8Encode(message));
  } catch {
    return fail('crypto-failed', 'hmacSha256', 'the crypto port threw');
  }
  if (!(mac instanceof Uint8Array) || mac.length !== 32) {
    return fail('crypto-failed', 'hmacSha256', 'the crypto port did not return 32 bytes');
  }
  return ok(base64Encode(mac));
}

function isEncodedResource(text: string): boolean {
  return /^(?:[A-Za-z0-9\-_.~]|%[0-9A-Fa-f]{2})+$/.test(text);
}

function isExpiry(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

export function buildSasToken(input: SasTokenInput, hmac: HmacSha256): Result<string, AzureError> {
  if (!isEncodedResource(input.resource)) {
    return fail('invalid-argument', 'resource', 'must be the URL-encoded sr text (see hubSasResource / dpsSasResource)');
  }
  if (!isExpiry(input.expiryUnixSeconds)) {
    return fail('invalid-argument', 'expiryUnixSeconds', 'must be a positive integer number of seconds');
  }
  if (input.keyName !== undefined && input.keyName.length === 0) {
    return fail('empty-field', 'keyName', 'must not be empty when given');
  }
  const se = String(input.expiryUnixSeconds);
  const sig = hmacBase64(input.key, `${input.resource}\n${se}`, hmac);
  if (!sig.ok) return sig;
  let token = `${PREFIX}sr=${input.resource}&sig=${percentEncode(sig.value)}&se=${se}`;
  if (input.keyName !== undefined) token += `&skn=${percentEncode(input.keyName)}`;
  return ok(token);
}

/** `sr` for a hub device or module: url-encode(`{host}/devices/{deviceId}[/modules/{moduleId}]`). */
export function hubSasResource(hostName: string, deviceId: string, moduleId?: string): Result<string, AzureError> {
  const host = checkHostName(hostName);
  if (!host.ok) return host;
  const device = checkDeviceId(deviceId);
  if (!device.ok) return device;
  let raw = `${hostName}/devices/${deviceId}`;
  if (moduleId !== undefined) {
    const mod = checkModuleId(moduleId);
    if (!mod.ok) return mod;
    raw += `/modules/${moduleId}`;
  }
  return ok(percentEncode(raw));
}

/** `sr` for DPS: url-encode(`{idScope}/registrations/{registrationId}`). */
export function dpsSasResource(idScope: string, registrationId: string): Result<string, AzureError> {
  const scope = checkIdScope(idScope);
  if (!scope.ok) return scope;
  const reg = checkRegistrationId(registrationId);
  if (!reg.ok) return reg;
  return ok(percentEncode(`${idScope}/registrations/${registrationId}`));
}

export interface HubSasTokenInput {
  hostName: string;
  deviceId: string;
  moduleId?: string;
  key: SymmetricKey;
  /** Only for tokens signed with a hub-level policy key; device keys have no name. */
  keyName?: string;
  expiryUnixSeconds: number;
}

export function buildHubSasToken(input: HubSasTokenInput, hmac: HmacSha256): Result<string, AzureError> {
  const resource = hubSasResource(input.hostName, input.deviceId, input.moduleId);
  if (!resource.ok) return resource;
  const token: SasTokenInput = { resource: resource.value, key: input.key, expiryUnixSeconds: input.expiryUnixSeconds };
  if (input.keyName !== undefined) token.keyName = input.keyName;
  return buildSasToken(token, hmac);
}

export interface DpsSasTokenInput {
  idScope: string;
  registrationId: string;
  /** The device's own key (individual enrollment, or derived with deriveDeviceKey for a group). */
  key: SymmetricKey;
  expiryUnixSeconds: number;
}

export function buildDpsSasToken(input: DpsSasTokenInput, hmac: HmacSha256): Result<string, AzureError> {
  const resource = dpsSasResource(input.idScope, input.registrationId);
  if (!resource.ok) return resource;
  return buildSasToken(
    { resource: resource.value, key: input.key, expiryUnixSeconds: input.expiryUnixSeconds, keyName: 'registration' },
    hmac,
  );
}

/** Expiry in Unix seconds `ttlSeconds` from now; refuses to sign against a clock that was never set. */
export function expiryFromClock(nowMs: number | undefined, ttlSeconds: number): Result<number, AzureError> {
  if (nowMs === undefined) return fail('clock-not-set', 'clock', 'the wall clock is not set (no SNTP yet): cannot sign');
  if (!Number.isFinite(nowMs) || nowMs < 0) return fail('invalid-argument', 'nowMs', 'must be a non-negative Unix time in ms');
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    return fail('invalid-argument', 'ttlSeconds', 'must be a positive integer');
  }
  return ok(Math.floor(nowMs / 1000) + ttlSeconds);
}
