// Device twin topics. The hub answers GET and PATCH on `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]`
// and pushes desired changes on `$iothub/twin/PATCH/properties/desired/?$version={v}`.

import { percentEncode } from '../encoding/percent';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';
import { parseCount, parseStatusTopic, requiredParam, splitTopic } from './topic-parts';

export const TWIN_RESPONSE_FILTER = '$iothub/twin/res/#';
export const TWIN_DESIRED_FILTER = '$iothub/twin/PATCH/properties/desired/#';

const RESPONSE_PREFIX = '$iothub/twin/res/';
const DESIRED_PREFIX = '$iothub/twin/PATCH/properties/desired';

/** Publish with an empty payload; the answer arrives on the response topic with the same rid. */
export function twinGetTopic(rid: string): string {
  return `$iothub/twin/GET/?$rid=${percentEncode(rid)}`;
}

/** Publish the reported-properties patch (JSON) here. */
export function twinPatchReportedTopic(rid: string): string {
  return `$iothub/twin/PATCH/properties/reported/?$rid=${percentEncode(rid)}`;
}

export interface TwinResponse {
  status: number;
  rid: string;
  /** The reported properties' new version, sent with 204 answers to a PATCH. */
  version?: number;
}

export function parseTwinResponseTopic(topic: string): Result<TwinResponse, AzureError> {
  return parseStatusTopic(topic, RESPONSE_PREFIX, 'twin response topic', '$version', 'version', 'is not a non-negative integer');
}

export interface TwinDesiredUpdate {
  version: number;
}

export function parseTwinDesiredTopic(topic: string): Result<TwinDesiredUpdate, AzureError> {
  const parts = splitTopic(topic, DESIRED_PREFIX, 'twin desired topic');
  if (!parts.ok) return parts;
  if (parts.value.head !== '') return fail('invalid-topic', 'twin desired topic', "has extra text after 'desired'");
  const versionText = requiredParam(parts.value.query, '$version', 'twin desired topic');
  if (!versionText.ok) return versionText;
  const version = parseCount(versionText.value);
  if (version === undefined) return fail('invalid-topic', 'twin desired topic', '$version is not a non-negative integer');
  return ok({ version });
}
