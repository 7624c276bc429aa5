// Device-to-cloud telemetry topics: `devices/{d}[/modules/{m}]/messages/events/{property bag}`.
// System properties come first in a fixed order, then application properties in the caller's order.
// Send contentType `application/json` and contentEncoding `utf-8` with JSON bodies, or hub routing queries
// cannot look inside the body.

import { checkDeviceId, checkModuleId } from './identifiers';
import { checkApplicationProperties } from './limits';
import { buildPropertyBag, toPropertyList, type Property, type PropertyInput } from './property-bag';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export interface TelemetryTopicOptions {
  deviceId: string;
  moduleId?: string;
  /** $.mid */
  messageId?: string;
  /** $.cid */
  correlationId?: string;
  /** $.ct, e.g. `application/json` */
  contentType?: string;
  /** $.ce, e.g. `utf-8` */
  contentEncoding?: string;
  /** $.ctime: ISO 8601 text, or Unix ms turned into ISO 8601 UTC. */
  creationTime?: string | number;
  /** $.sub: the IoT Plug and Play component that sends it. */
  component?: string;
  properties?: PropertyInput;
}

export function telemetryTopicPrefix(deviceId: string, moduleId?: string): Result<string, AzureError> {
  const device = checkDeviceId(deviceId);
  if (!device.ok) return device;
  if (moduleId === undefined) return ok(`devices/${deviceId}/messages/events/`);
  const mod = checkModuleId(moduleId);
  if (!mod.ok) return mod;
  return ok(`devices/${deviceId}/modules/${moduleId}/messages/events/`);
}

function creationTimeText(value: string | number): Result<string, AzureError> {
  if (typeof value === 'string') {
    if (value.length === 0) return fail('empty-field', 'creationTime', 'must not be empty when given');
    return ok(value);
  }
  // toISOString throws outside +-8.64e15 ms, so range-check first.
  if (!Number.isFinite(value) || Math.abs(value) > 8.64e15) {
    return fail('invalid-argument', 'creationTime', 'must be a Unix time in ms');
  }
  return ok(new Date(value).toISOString());
}

export function telemetryTopic(options: TelemetryTopicOptions): Result<string, AzureError> {
  const prefix = telemetryTopicPrefix(options.deviceId, options.moduleId);
  if (!prefix.ok) return prefix;

  const system: Property[] = [];
  const add = (name: string, field: string, value: string | undefined): Result<true, AzureError> => {
    if (value === undefined) return ok(true);
    if (value.length === 0) return fail('empty-field', field, 'must not be empty when given');
    system.push({ name, value });
    return ok(true);
  };
  let r = add('$.mid', 'messageId', options.messageId);
  if (r.ok) r = add('$.cid', 'correlationId', options.correlationId);
  if (r.ok) r = add('$.ct', 'contentType', options.contentType);
  if (r.ok) r = add('$.ce', 'contentEncoding', options.contentEncoding);
  if (!r.ok) return r;
  if (options.creationTime !== undefined) {
    const time = creationTimeText(options.creationTime);
    if (!time.ok) return time;
    system.push({ name: '$.ctime', value: time.value });
  }
  r = add('$.sub', 'component', options.component);
  if (!r.ok) return r;

  const application = options.properties === undefined ? [] : toPropertyList(options.properties);
  const checked = checkApplicationProperties(application);
  if (!checked.ok) return checked;

  const bag = buildPropertyBag(system.concat(application));
  if (!bag.ok) return bag;
  return ok(prefix.value + bag.value);
}
