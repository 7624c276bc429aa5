// Cloud-to-device messages arrive on `devices/{deviceId}/messages/devicebound/{property bag}`. The bag mixes
// system properties (`$.mid`, `$.to`, ... and `iothub-*`) with the sender's application properties; both are
// returned, plus the common system ones by name. Completing the message is the PUBACK, not our concern here.

import { checkDeviceId } from './identifiers';
import { findProperty, parsePropertyBag, type Property } from './property-bag';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

const MARKER = '/messages/devicebound';

export function c2dSubscribeFilter(deviceId: string): Result<string, AzureError> {
  const id = checkDeviceId(deviceId);
  if (!id.ok) return id;
  return ok(`devices/${deviceId}${MARKER}/#`);
}

export interface C2dMessageTopic {
  deviceId: string;
  /** Every property, in topic order. */
  properties: Property[];
  /** Properties that are not system properties (not `$.`-prefixed, not `iothub-`-prefixed). */
  applicationProperties: Property[];
  messageId?: string;
  correlationId?: string;
  to?: string;
  userId?: string;
  contentType?: string;
  contentEncoding?: string;
  expiryTimeUtc?: string;
  creationTimeUtc?: string;
}

type NamedSystemProperty = 'messageId' | 'correlationId' | 'to' | 'userId' | 'contentType' | 'contentEncoding' | 'expiryTimeUtc' | 'creationTimeUtc';

const NAMED: ReadonlyArray<[NamedSystemProperty, string]> = [
  ['messageId', '$.mid'],
  ['correlationId', '$.cid'],
  ['to', '$.to'],
  ['userId', '$.uid'],
  ['contentType', '$.ct'],
  ['contentEncoding', '$.ce'],
  ['expiryTimeUtc', '$.exp'],
  ['creationTimeUtc', '$.ctime'],
];

export function isSystemPropertyName(name: string): boolean {
  return name.startsWith('$.') || name.toLowerCase().startsWith('iothub-');
}

/** With `expectedDeviceId`, a message for another device is a mismatch rather than a message. */
export function parseC2dTopic(topic: string, expectedDeviceId?: string): Result<C2dMessageTopic, AzureError> {
  if (!topic.startsWith('devices/')) return fail('topic-mismatch', 'c2d topic', "does not start with 'devices/'");
  const slash = topic.indexOf('/', 'devices/'.length);
  if (slash < 0 || !topic.startsWith(MARKER, slash)) {
    return fail('topic-mismatch', 'c2d topic', 'is not a devicebound topic');
  }
  const deviceId = topic.slice('devices/'.length, slash);
  if (deviceId.length === 0) return fail('invalid-topic', 'c2d topic', 'has an empty device id');
  if (expectedDeviceId !== undefined && deviceId !== expectedDeviceId) {
    return fail('topic-mismatch', 'c2d topic', 'is for another device');
  }
  const rest = topic.slice(slash + MARKER.length);
  if (rest.length > 0 && rest[0] !== '/') return fail('topic-mismatch', 'c2d topic', 'is not a devicebound topic');
  const bag = parsePropertyBag(rest.slice(1));
  if (!bag.ok) return fail('invalid-topic', 'c2d topic', bag.error.message);
  const message: C2dMessageTopic = {
    deviceId,
    properties: bag.value,
    applicationProperties: bag.value.filter((p) => !isSystemPropertyName(p.name)),
  };
  for (const [key, name] of NAMED) {
    const value = findProperty(bag.value, name);
    if (typeof value === 'string') message[key] = value;
  }
  return ok(message);
}
