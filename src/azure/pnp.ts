// IoT Plug and Play twin conventions. A component's properties sit in an object marked `"__t":"c"` so the
// service can tell a component from a property whose value is an object. A writable property is acknowledged
// by reporting `{value, ac: status, av: desired $version, ad: description}` under its name.
// The builders return patch objects (not JSON) so several can be merged before checkTwinPatch serializes them.

import type { JsonObject, JsonValue } from './json';
import { checkTwinKey } from './limits';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export const COMPONENT_MARKER = '__t';

export interface WritablePropertyAck {
  name: string;
  value: JsonValue;
  /** HTTP-like status: 200 applied, 202 in progress, 400 rejected, 500 failed. */
  ackCode: number;
  /** The desired `$version` this answers. */
  ackVersion: number;
  description?: string;
  component?: string;
}

function wrap(component: string | undefined, name: string, value: JsonValue): Result<JsonObject, AzureError> {
  const key = checkTwinKey(name, 'name');
  if (!key.ok) return key;
  if (component === undefined) return ok({ [name]: value });
  const comp = checkTwinKey(component, 'component');
  if (!comp.ok) return comp;
  if (name === COMPONENT_MARKER) return fail('invalid-name', 'name', `'${COMPONENT_MARKER}' is the component marker`);
  return ok({ [component]: { [COMPONENT_MARKER]: 'c', [name]: value } });
}

export function buildWritablePropertyAck(ack: WritablePropertyAck): Result<JsonObject, AzureError> {
  if (!Number.isSafeInteger(ack.ackCode)) return fail('invalid-argument', 'ackCode', 'must be an integer status');
  if (!Number.isSafeInteger(ack.ackVersion) || ack.ackVersion < 0) {
    return fail('invalid-argument', 'ackVersion', 'must be the non-negative desired $version');
  }
  const body: JsonObject = { ac: ack.ackCode, av: ack.ackVersion };
  if (ack.description !== undefined) body['ad'] = ack.description;
  body['value'] = ack.value;
  return wrap(ack.component, ack.name, body);
}

/** A read-only (or any plain) reported property, in component form when `component` is given. */
export function buildReportedProperty(name: string, value: JsonValue, component?: string): Result<JsonObject, AzureError> {
  return wrap(component, name, value);
}

/** The desired properties addressed to `component`, without the marker; undefined when the component is absent. */
export function componentProperties(desired: JsonObject, component: string): JsonObject | undefined {
  const section = desired[component];
  if (typeof section !== 'object' || section === null || Array.isArray(section)) return undefined;
  const result: JsonObject = {};
  for (const key of Object.keys(section)) if (key !== COMPONENT_MARKER) result[key] = section[key]!;
  return result;
}
