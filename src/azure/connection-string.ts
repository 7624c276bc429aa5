// Device connection strings: `HostName=...;DeviceId=...;SharedAccessKey=...` with optional ModuleId,
// SharedAccessKeyName, GatewayHostName and `x509=true` (certificate authentication, no key).
// Field names are case-sensitive like the Azure SDKs; a near miss in case gets a hint instead of a generic error.
// The whole string is trimmed (pasted strings often carry a newline) and empty segments such as a trailing `;`
// are ignored; values are taken verbatim. Errors never quote a value or an unrecognised name, since a stray
// fragment of the key could sit in either.

import { base64Decode } from '../encoding/base64';
import { checkHostName, checkHubDevice, checkModuleId } from './identifiers';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export interface DeviceConnectionString {
  hostName: string;
  deviceId: string;
  moduleId?: string;
  /** Base64 text, checked to decode. Absent exactly when `x509` is true. */
  sharedAccessKey?: string;
  sharedAccessKeyName?: string;
  /** Where to connect (an IoT Edge gateway); tokens and usernames still name `hostName`. */
  gatewayHostName?: string;
  x509: boolean;
}

const FIELDS = [
  'HostName',
  'DeviceId',
  'ModuleId',
  'SharedAccessKey',
  'SharedAccessKeyName',
  'GatewayHostName',
  'x509',
] as const;

type FieldName = (typeof FIELDS)[number];

function knownField(name: string): FieldName | undefined {
  return (FIELDS as readonly string[]).indexOf(name) >= 0 ? (name as FieldName) : undefined;
}

function caseInsensitiveMatch(name: string): FieldName | undefined {
  const lower = name.toLowerCase();
  return FIELDS.find((f) => f.toLowerCase() === lower);
}

export function parseConnectionString(text: string): Result<DeviceConnectionString, AzureError> {
  const values: Partial<Record<FieldName, string>> = {};
  const segments = text.trim().split(';');
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!;
    if (segment.length === 0) continue;
    const eq = segment.indexOf('=');
    if (eq < 0) return fail('malformed', 'connection string', `segment ${s + 1} has no '='`);
    const name = segment.slice(0, eq);
    const value = segment.slice(eq + 1);
    const field = knownField(name);
    if (field === undefined) {
      const near = caseInsensitiveMatch(name);
      if (near !== undefined) return fail('unknown-field', near, `segment ${s + 1} spells it with the wrong case (names are case-sensitive)`);
      return fail('unknown-field', 'connection string', `segment ${s + 1} has an unknown name (expected one of ${FIELDS.join(', ')})`);
    }
    if (values[field] !== undefined) return fail('duplicate-field', field, 'appears more than once');
    if (value.length === 0) return fail('empty-field', field, 'has an empty value');
    values[field] = value;
  }

  if (values.HostName === undefined) return fail('missing-field', 'HostName', 'is required');
  if (values.DeviceId === undefined) return fail('missing-field', 'DeviceId', 'is required');
  const ids = checkHubDevice(values.HostName, 'HostName', values.DeviceId, 'DeviceId');
  if (!ids.ok) return ids;
  if (values.ModuleId !== undefined) {
    const mod = checkModuleId(values.ModuleId, 'ModuleId');
    if (!mod.ok) return mod;
  }
  if (values.GatewayHostName !== undefined) {
    const gateway = checkHostName(values.GatewayHostName, 'GatewayHostName');
    if (!gateway.ok) return gateway;
  }

  let x509 = false;
  if (values.x509 !== undefined) {
    const flag = values.x509.toLowerCase();
    if (flag !== 'true' && flag !== 'false') return fail('invalid-value', 'x509', "must be 'true' or 'false'");
    x509 = flag === 'true';
  }
  if (x509 && values.SharedAccessKey !== undefined) {
    return fail('conflicting-fields', 'SharedAccessKey', 'cannot be combined with x509=true');
  }
  if (!x509 && values.SharedAccessKey === undefined) {
    return fail('missing-field', 'SharedAccessKey', 'is required unless x509=true');
  }
  if (values.SharedAccessKeyName !== undefined && values.SharedAccessKey === undefined) {
    return fail('conflicting-fields', 'SharedAccessKeyName', 'needs a SharedAccessKey');
  }
  if (values.SharedAccessKey !== undefined) {
    const key = base64Decode(values.SharedAccessKey);
    if (!key.ok) return fail('invalid-base64', 'SharedAccessKey', `is not valid base64 (${key.error.message})`);
    if (key.value.length === 0) return fail('invalid-value', 'SharedAccessKey', 'decodes to zero bytes');
  }

  const result: DeviceConnectionString = { hostName: values.HostName, deviceId: values.DeviceId, x509 };
  if (values.ModuleId !== undefined) result.moduleId = values.ModuleId;
  if (values.SharedAccessKey !== undefined) result.sharedAccessKey = values.SharedAccessKey;
  if (values.SharedAccessKeyName !== undefined) result.sharedAccessKeyName = values.SharedAccessKeyName;
  if (values.GatewayHostName !== undefined) result.gatewayHostName = values.GatewayHostName;
  return ok(result);
}
