// Twin bodies: the GET answer `{"desired":{...,"$version":n},"reported":{...,"$version":m}}` and desired patches
// `{...,"$version":n}`. The objects are returned as received (including `$version` and any `$metadata`); the
// versions are lifted out because the client must ignore desired patches not newer than the GET it applied.

import { isJsonObject, parseJsonObject, type JsonObject, type JsonValue } from './json';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export interface TwinDocument {
  desired: JsonObject;
  reported: JsonObject;
  desiredVersion: number;
  reportedVersion: number;
}

export interface DesiredPatch {
  patch: JsonObject;
  version: number;
}

function versionOf(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export function parseTwinDocument(body: Uint8Array | string): Result<TwinDocument, AzureError> {
  const doc = parseJsonObject(body, 'twin');
  if (!doc.ok) return doc;
  const desired = doc.value['desired'];
  const reported = doc.value['reported'];
  if (!isJsonObject(desired)) return fail('invalid-payload', 'twin.desired', 'is missing or not an object');
  if (!isJsonObject(reported)) return fail('invalid-payload', 'twin.reported', 'is missing or not an object');
  const desiredVersion = versionOf(desired['$version']);
  if (desiredVersion === undefined) return fail('invalid-payload', 'twin.desired.$version', 'is missing or not a non-negative integer');
  const reportedVersion = versionOf(reported['$version']);
  if (reportedVersion === undefined) return fail('invalid-payload', 'twin.reported.$version', 'is missing or not a non-negative integer');
  return ok({ desired, reported, desiredVersion, reportedVersion });
}

/** The body's `$version` wins; `topicVersion` (from the PATCH topic) covers bodies without one. */
export function parseDesiredPatch(body: Uint8Array | string, topicVersion?: number): Result<DesiredPatch, AzureError> {
  const patch = parseJsonObject(body, 'desired patch');
  if (!patch.ok) return patch;
  const raw = patch.value['$version'];
  if (raw !== undefined) {
    const version = versionOf(raw);
    if (version === undefined) return fail('invalid-payload', 'desired patch.$version', 'is not a non-negative integer');
    return ok({ patch: patch.value, version });
  }
  if (topicVersion === undefined) return fail('missing-field', 'desired patch.$version', 'is in neither the body nor the topic');
  return ok({ patch: patch.value, version: topicVersion });
}
