// The writable property `telemetryInterval` (milliseconds): what to do when the desired side sets it. Pure: the
// caller applies the interval and sends the acknowledgement. IoT Plug and Play acknowledges every desired value,
// accepted or not: 200 with the value now in force, or 400 with the value kept and a description of the problem,
// both carrying the desired $version they answer so the service can tell which request they belong to.

import type { JsonObject } from '../azure/json';
import type { WritablePropertyAck } from '../azure/pnp';
import { checkTelemetryInterval } from './interval-rules';

export const INTERVAL_PROPERTY = 'telemetryInterval';

export interface IntervalDecision {
  /** The new interval to apply; absent when the desired value was refused. */
  apply?: number;
  ack: WritablePropertyAck;
}

/** undefined when the desired properties do not mention the interval (or delete it: the current one stays). */
export function decideDesiredInterval(desired: JsonObject, version: number, currentMs: number): IntervalDecision | undefined {
  if (!Object.prototype.hasOwnProperty.call(desired, INTERVAL_PROPERTY)) return undefined;
  const value = desired[INTERVAL_PROPERTY];
  if (value === null || value === undefined) return undefined;
  const problem = checkTelemetryInterval(value);
  if (problem !== undefined) {
    return {
      ack: { name: INTERVAL_PROPERTY, value: currentMs, ackCode: 400, ackVersion: version, description: `${INTERVAL_PROPERTY} ${problem}; keeping ${currentMs} ms` },
    };
  }
  const ms = value as number;
  return { apply: ms, ack: { name: INTERVAL_PROPERTY, value: ms, ackCode: 200, ackVersion: version, description: 'applied' } };
}
