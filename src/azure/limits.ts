// Checks run before sending, so an oversized or ill-formed message fails here with a reason instead of being
// dropped by the hub (which often just closes the connection). Rules applied:
// - telemetry: payload plus topic (which carries every property) <= 256 KB, the hub's per-message limit;
//   the topic alone <= 65,535 UTF-8 bytes, MQTT's hard limit.
// - application property names: 1+ characters from ASCII letters, digits and ! # $ % & ' * + - . ^ _ ` | ~,
//   the set Azure allows for names over HTTPS and in C2D messages, so a name survives whichever protocol a
//   back end uses to read it; names starting with `$.` (system properties) or `iothub-` are reserved.
// - application property values: any well-formed Unicode (they are URL-encoded on the wire).
// - twin patches: a JSON object, <= 32 KB serialized; keys 1..1024 UTF-8 bytes with no `.`, `$`, space or
//   control characters (C0, DEL, C1); strings <= 4 KB in UTF-8; at most 10 levels of objects or arrays below the
//   patch itself; only null, booleans, finite numbers, strings, arrays and plain objects.
// - direct method replies: <= 128 KB.

import { isWellFormedUtf16, utf8Length } from '../encoding/utf8';
import type { Property } from './property-bag';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export const MAX_TELEMETRY_BYTES = 256 * 1024;
export const MAX_MQTT_TOPIC_BYTES = 65535;
export const MAX_TWIN_PATCH_BYTES = 32 * 1024;
export const MAX_TWIN_KEY_BYTES = 1024;
export const MAX_TWIN_STRING_BYTES = 4 * 1024;
export const MAX_TWIN_DEPTH = 10;
export const MAX_METHOD_PAYLOAD_BYTES = 128 * 1024;

const NAME_PUNCTUATION = "!#$%&'*+-.^_`|~";

export function checkApplicationPropertyName(name: string): Result<string, AzureError> {
  if (name.length === 0) return fail('invalid-name', 'property name', 'must not be empty');
  if (name.startsWith('$.')) return fail('invalid-name', name, "names starting with '$.' are reserved for system properties");
  if (name.toLowerCase().startsWith('iothub-')) return fail('invalid-name', name, "names starting with 'iothub-' are reserved");
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && NAME_PUNCTUATION.indexOf(name[i]!) < 0) {
      return fail('invalid-name', 'property name', `character at offset ${i} is not allowed (letters, digits and ${NAME_PUNCTUATION})`);
    }
  }
  return ok(name);
}

export function checkApplicationProperties(properties: readonly Property[]): Result<readonly Property[], AzureError> {
  for (const { name, value } of properties) {
    const n = checkApplicationPropertyName(name);
    if (!n.ok) return n;
    if (value !== null && !isWellFormedUtf16(value)) return fail('invalid-value', name, 'is not well-formed Unicode');
  }
  return ok(properties);
}

export function checkTelemetrySize(payloadBytes: number, topic: string): Result<number, AzureError> {
  const topicBytes = utf8Length(topic);
  if (topicBytes > MAX_MQTT_TOPIC_BYTES) {
    return fail('too-large', 'topic', `is ${topicBytes} bytes with its properties; MQTT allows ${MAX_MQTT_TOPIC_BYTES}`);
  }
  const total = payloadBytes + topicBytes;
  if (total > MAX_TELEMETRY_BYTES) {
    return fail('too-large', 'telemetry', `payload and properties are ${total} bytes; the hub allows ${MAX_TELEMETRY_BYTES}`);
  }
  return ok(total);
}

export function checkMethodPayloadSize(payloadBytes: number): Result<number, AzureError> {
  if (payloadBytes > MAX_METHOD_PAYLOAD_BYTES) {
    return fail('too-large', 'method payload', `is ${payloadBytes} bytes; the hub allows ${MAX_METHOD_PAYLOAD_BYTES}`);
  }
  return ok(payloadBytes);
}

export function checkTwinKey(key: string, path = key): Result<string, AzureError> {
  if (key.length === 0) return fail('invalid-name', path || 'twin key', 'twin keys must not be empty');
  if (utf8Length(key) > MAX_TWIN_KEY_BYTES) {
    return fail('invalid-name', 'twin key', `is longer than ${MAX_TWIN_KEY_BYTES} bytes`);
  }
  if (!isWellFormedUtf16(key)) return fail('invalid-name', path, 'is not well-formed Unicode');
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0x2e || c === 0x24 || c === 0x20) {
      return fail('invalid-name', path, `twin keys may not contain '${key[i]}' (offset ${i})`);
    }
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      return fail('invalid-name', path, `twin keys may not contain control characters (offset ${i})`);
    }
  }
  return ok(key);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkTwinValue(value: unknown, path: string, depth: number): Result<true, AzureError> {
  if (value === null || typeof value === 'boolean') return ok(true);
  if (typeof value === 'number') {
    return Number.isFinite(value) ? ok(true) : fail('invalid-value', path, 'numbers must be finite');
  }
  if (typeof value === 'string') {
    if (!isWellFormedUtf16(value)) return fail('invalid-value', path, 'is not well-formed Unicode');
    const bytes = utf8Length(value);
    if (bytes > MAX_TWIN_STRING_BYTES) {
      return fail('too-large', path, `string is ${bytes} bytes; twins allow ${MAX_TWIN_STRING_BYTES}`);
    }
    return ok(true);
  }
  if (typeof value !== 'object') return fail('invalid-value', path, `a ${typeof value} cannot be stored in a twin`);
  if (depth > MAX_TWIN_DEPTH) return fail('too-deep', path, `nests deeper than ${MAX_TWIN_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = checkTwinValue(value[i], `${path}[${i}]`, depth + 1);
      if (!r.ok) return r;
    }
    return ok(true);
  }
  if (!isPlainObject(value)) return fail('invalid-value', path, 'only plain objects and arrays can be stored in a twin');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const keyPath = path ? `${path}.${key}` : key;
    const k = checkTwinKey(key, keyPath);
    if (!k.ok) return k;
    const r = checkTwinValue(record[key], keyPath, depth + 1);
    if (!r.ok) return r;
  }
  return ok(true);
}

/** Validates a reported-properties patch and returns its JSON text, ready to publish. */
export function checkTwinPatch(patch: unknown): Result<string, AzureError> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch) || !isPlainObject(patch)) {
    return fail('invalid-argument', 'patch', 'must be a plain JSON object');
  }
  const valid = checkTwinValue(patch, '', 0);
  if (!valid.ok) return valid;
  const json = JSON.stringify(patch);
  const bytes = utf8Length(json);
  if (bytes > MAX_TWIN_PATCH_BYTES) {
    return fail('too-large', 'patch', `is ${bytes} bytes; the hub allows ${MAX_TWIN_PATCH_BYTES}`);
  }
  return ok(json);
}
