// Which of the hub's features an incoming topic is for, found by chaining the azure layer's parsers: each one
// answers `topic-mismatch` for a topic that is not its own, so the first that answers anything else owns the
// topic, and a malformed topic of a known feature is told apart from a topic of no feature at all. The topic
// prefixes live only in those parsers. The one SUBSCRIBE's filters are listed here too, beside their routes.

import type { AzureError } from '../azure/azure-error';
import type { Result } from '../result';
import type { Subscription } from '../mqtt/packets';
import { c2dSubscribeFilter, parseC2dTopic, type C2dMessageTopic } from '../azure/c2d-topic';
import { METHODS_FILTER, parseMethodRequestTopic, type MethodRequest } from '../azure/method-topics';
import {
  TWIN_DESIRED_FILTER,
  TWIN_RESPONSE_FILTER,
  parseTwinDesiredTopic,
  parseTwinResponseTopic,
  type TwinDesiredUpdate,
  type TwinResponse,
} from '../azure/twin-topics';
import type { IncomingKind } from './hub-types';

export type HubRoute =
  | { to: 'twin-response'; topic: TwinResponse }
  | { to: 'twin-desired'; topic: TwinDesiredUpdate }
  | { to: 'method'; topic: MethodRequest }
  | { to: 'c2d'; topic: C2dMessageTopic }
  /** The topic is a feature's, but malformed; `what` names the feature for the error report. */
  | { to: 'malformed'; kind: 'twin' | 'method'; what: string; error: AzureError }
  | { to: 'none' };

/** A parser's answer: the route when the topic is its own, undefined when it is another feature's. */
function owned<T>(parsed: Result<T, AzureError>, kind: 'twin' | 'method', what: string, route: (topic: T) => HubRoute): HubRoute | undefined {
  if (parsed.ok) return route(parsed.value);
  if (parsed.error.code === 'topic-mismatch') return undefined;
  return { to: 'malformed', kind, what, error: parsed.error };
}

export function routeTopic(topic: string, deviceId: string): HubRoute {
  const route =
    owned(parseTwinResponseTopic(topic), 'twin', 'twin response', (t) => ({ to: 'twin-response', topic: t })) ??
    owned(parseTwinDesiredTopic(topic), 'twin', 'desired patch', (t) => ({ to: 'twin-desired', topic: t })) ??
    owned(parseMethodRequestTopic(topic), 'method', 'method request', (t) => ({ to: 'method', topic: t }));
  if (route !== undefined) return route;
  // A malformed devicebound topic, or one for another device, is no message for this device.
  const c2d = parseC2dTopic(topic, deviceId);
  return c2d.ok ? { to: 'c2d', topic: c2d.value } : { to: 'none' };
}

/** What a route carries, as far as the topic tells; `topic` is undefined when it was itself over the limit. */
export function incomingKind(topic: string | undefined, deviceId: string): { kind: IncomingKind; methodRid?: string } {
  if (topic === undefined) return { kind: 'unknown' };
  const route = routeTopic(topic, deviceId);
  switch (route.to) {
    case 'twin-response':
    case 'twin-desired':
      return { kind: 'twin' };
    case 'method':
      return { kind: 'method', methodRid: route.topic.rid };
    case 'malformed':
      return { kind: route.kind };
    case 'c2d':
      return { kind: 'c2d' };
    case 'none':
      return { kind: 'unknown' };
  }
}

/** Everything the device listens to, in one SUBSCRIBE: C2D (devices only; modules get none), methods, twin. */
export function hubSubscriptions(deviceId: string, moduleId: string | undefined): Subscription[] {
  const filters: Subscription[] = [];
  if (moduleId === undefined) {
    const c2d = c2dSubscribeFilter(deviceId);
    if (c2d.ok) filters.push({ topic: c2d.value, qos: 1 });
  }
  filters.push({ topic: METHODS_FILTER, qos: 0 }, { topic: TWIN_RESPONSE_FILTER, qos: 0 }, { topic: TWIN_DESIRED_FILTER, qos: 0 });
  return filters;
}

/** Twin answers can only arrive on a connection whose SUBACK granted the response filter. */
export function grantsTwinAnswers(filter: Subscription): boolean {
  return filter.topic === TWIN_RESPONSE_FILTER;
}
