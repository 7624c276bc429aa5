// What an identity may publish and subscribe to on the hub, and the property-bag encoding in topics.
// Pure functions: the hub server maps each result to an outcome (handle, close, 0x80).

export interface Identity {
  deviceId: string;
  moduleId?: string;
}

/** The MQTT client id of an identity: `{deviceId}` or `{deviceId}/{moduleId}`. */
export function identityKey(identity: Identity): string {
  return identity.moduleId === undefined ? identity.deviceId : `${identity.deviceId}/${identity.moduleId}`;
}

export type PropertyBag = Array<[name: string, value: string | null]>;

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A stray `%` is kept as sent: the hub passes what it cannot decode through.
    return text;
  }
}

/** Parses `a=1&b=&c` into [['a','1'],['b',''],['c',null]]; names and values are URL-decoded. */
export function parsePropertyBag(text: string): PropertyBag {
  if (text.length === 0) return [];
  const bag: PropertyBag = [];
  for (const part of text.split('&')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    if (eq < 0) bag.push([decodeComponent(part), null]);
    else bag.push([decodeComponent(part.slice(0, eq)), decodeComponent(part.slice(eq + 1))]);
  }
  return bag;
}

/** Percent-encodes every byte outside `A-Z a-z 0-9 - _ . ~` (stricter than encodeURIComponent). */
export function encodeComponent(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function formatPropertyBag(bag: PropertyBag): string {
  return bag.map(([name, value]) => (value === null ? encodeComponent(name) : `${encodeComponent(name)}=${encodeComponent(value)}`)).join('&');
}

/** Parses the query after `?` (e.g. `$rid=1&$version=2`); repeated names keep the first value. */
export function parseQuery(text: string): Map<string, string> {
  const query = new Map<string, string>();
  for (const [name, value] of parsePropertyBag(text)) {
    if (!query.has(name)) query.set(name, value ?? '');
  }
  return query;
}

export function telemetryTopicPrefix(identity: Identity): string {
  return identity.moduleId === undefined
    ? `devices/${identity.deviceId}/messages/events`
    : `devices/${identity.deviceId}/modules/${identity.moduleId}/messages/events`;
}

export function c2dTopicPrefix(deviceId: string): string {
  return `devices/${deviceId}/messages/devicebound/`;
}

export type DevicePublishTopic =
  | { kind: 'telemetry'; properties: PropertyBag }
  | { kind: 'twin-get'; rid: string }
  | { kind: 'twin-patch-reported'; rid: string }
  | { kind: 'method-response'; status: number; rid: string }
  | { kind: 'forbidden'; reason: string };

function requestId(query: string, what: string): { rid: string } | { reason: string } {
  const rid = parseQuery(query).get('$rid');
  if (!rid) return { reason: `${what} needs a non-empty $rid` };
  return { rid };
}

/** Classifies a topic an identity publishes to; anything not allowed is `forbidden` with the reason. */
export function classifyDevicePublish(identity: Identity, topic: string): DevicePublishTopic {
  const telemetry = telemetryTopicPrefix(identity);
  if (topic === telemetry || topic === `${telemetry}/`) return { kind: 'telemetry', properties: [] };
  if (topic.startsWith(`${telemetry}/`)) {
    let bag = topic.slice(telemetry.length + 1);
    // Some clients end the bag with a `/`; it is not part of the last value.
    if (bag.endsWith('/')) bag = bag.slice(0, -1);
    return { kind: 'telemetry', properties: parsePropertyBag(bag) };
  }
  if (topic.startsWith('$iothub/twin/GET/?')) {
    const r = requestId(topic.slice('$iothub/twin/GET/?'.length), 'twin GET');
    return 'rid' in r ? { kind: 'twin-get', rid: r.rid } : { kind: 'forbidden', reason: r.reason };
  }
  if (topic.startsWith('$iothub/twin/PATCH/properties/reported/?')) {
    const r = requestId(topic.slice('$iothub/twin/PATCH/properties/reported/?'.length), 'reported patch');
    return 'rid' in r ? { kind: 'twin-patch-reported', rid: r.rid } : { kind: 'forbidden', reason: r.reason };
  }
  const method = /^\$iothub\/methods\/res\/(\d{3})\/\?(.*)$/.exec(topic);
  if (method) {
    const r = requestId(method[2], 'method response');
    return 'rid' in r ? { kind: 'method-response', status: Number(method[1]), rid: r.rid } : { kind: 'forbidden', reason: r.reason };
  }
  return { kind: 'forbidden', reason: `publishing to ${topic} is not allowed for ${identityKey(identity)}` };
}

export const TWIN_RESPONSE_FILTER = '$iothub/twin/res/#';
export const TWIN_DESIRED_FILTER = '$iothub/twin/PATCH/properties/desired/#';
export const METHODS_FILTER = '$iothub/methods/POST/#';

/** The only topic filters the hub accepts from an identity (modules get no cloud-to-device messages). */
export function allowedFilters(identity: Identity): string[] {
  const filters = [TWIN_RESPONSE_FILTER, TWIN_DESIRED_FILTER, METHODS_FILTER];
  if (identity.moduleId === undefined) filters.unshift(`${c2dTopicPrefix(identity.deviceId)}#`);
  return filters;
}

export function isAllowedFilter(identity: Identity, filter: string): boolean {
  return allowedFilters(identity).includes(filter);
}

/** MQTT filter matching (`+` one level, `#` the rest), for deciding whether a subscription covers a topic. */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export function twinResponseTopic(status: number, rid: string, version?: number): string {
  return `$iothub/twin/res/${status}/?$rid=${encodeComponent(rid)}${version === undefined ? '' : `&$version=${version}`}`;
}

export function desiredPatchTopic(version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
}

export function methodRequestTopic(methodName: string, rid: string): string {
  return `$iothub/methods/POST/${methodName}/?$rid=${encodeComponent(rid)}`;
}
