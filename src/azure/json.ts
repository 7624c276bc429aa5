// JSON from the network (twin documents, method requests, DPS answers) parsed into a typed result: a payload that
// is not UTF-8 or not JSON becomes an error value, never an exception inside a protocol handler.

import { utf8Decode } from '../encoding/utf8';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface ParseJsonOptions {
  /** Return null for an empty payload instead of an error (method requests may have no body). */
  allowEmpty?: boolean;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function decodePayloadText(payload: Uint8Array | string, field: string): Result<string, AzureError> {
  if (typeof payload === 'string') return ok(payload);
  const text = utf8Decode(payload);
  return text === undefined ? fail('invalid-utf8', field, 'is not valid UTF-8') : ok(text);
}

export function parseJson(payload: Uint8Array | string, field = 'payload', options: ParseJsonOptions = {}): Result<JsonValue, AzureError> {
  const text = decodePayloadText(payload, field);
  if (!text.ok) return text;
  // A leading byte-order mark is legal UTF-8 but JSON.parse rejects it.
  const body = text.value.charCodeAt(0) === 0xfeff ? text.value.slice(1) : text.value;
  if (body.trim().length === 0) {
    return options.allowEmpty === true ? ok(null) : fail('invalid-json', field, 'is empty');
  }
  try {
    return ok(JSON.parse(body) as JsonValue);
  } catch {
    // Engine messages can quote the input, so they are not passed on.
    return fail('invalid-json', field, 'is not valid JSON');
  }
}

export function parseJsonObject(payload: Uint8Array | string, field = 'payload'): Result<JsonObject, AzureError> {
  const value = parseJson(payload, field);
  if (!value.ok) return value;
  if (!isJsonObject(value.value)) return fail('invalid-payload', field, 'is not a JSON object');
  return ok(value.value);
}
