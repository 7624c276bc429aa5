// The device's direct methods. Each handler is a plain function from the request to a reply, so the replies can be
// checked without a hub; registerCommands wires them to the client and logs each call.
// - reboot: answers first, then restarts after a short delay so the answer reaches the hub before the connection goes.
// - getStatus: uptime, messages sent, last error, interval (see app-status.ts).
// - setTelemetryInterval: a number, or {"telemetryIntervalMs": n}; 200 with the interval now in force, 400 otherwise.

import type { JsonObject, JsonValue } from '../azure/json';
import type { MethodCall, MethodResult } from '../hub/method-dispatcher';
import type { LogLevel, TimerHandle, Timers } from '../ports';
import type { AppHub } from './app-hub';
import { checkTelemetryInterval } from './interval-rules';
import { err, ok, type Result } from '../result';

/** Time between the reboot reply and the restart. */
export const REBOOT_DELAY_MS = 1_000;

export interface CommandDeps {
  timers: Timers;
  log(level: LogLevel, message: string): void;
  status(): JsonObject;
  currentIntervalMs(): number;
  /** Applies a checked interval (and reports it to the twin). */
  setIntervalMs(ms: number): void;
  reboot(): void;
}

/** The interval asked for in ms, or why the request is refused. */
export type IntervalRequest = Result<number, string>;

/** Reads the interval out of a setTelemetryInterval payload. */
export function readIntervalRequest(payload: JsonValue): IntervalRequest {
  let value: JsonValue | undefined = payload;
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    value = payload['telemetryIntervalMs'] ?? payload['telemetryInterval'];
    if (value === undefined) return err('the payload must be a number of milliseconds or {"telemetryIntervalMs": n}');
  }
  const problem = checkTelemetryInterval(value);
  if (problem !== undefined) return err(`telemetryIntervalMs ${problem}`);
  return ok(value as number);
}

export function setTelemetryIntervalReply(payload: JsonValue): { result: MethodResult; apply?: number } {
  const request = readIntervalRequest(payload);
  if (!request.ok) return { result: { status: 400, payload: { error: request.error } } };
  return { result: { status: 200, payload: { telemetryIntervalMs: request.value } }, apply: request.value };
}

/** Registers every method on `hub`; returns a function that unregisters them. */
export function registerCommands(hub: Pick<AppHub, 'onMethod'>, deps: CommandDeps): () => void {
  const answered = (name: string, result: MethodResult): MethodResult => {
    deps.log('info', `method ${name} answered ${result.status}${result.status >= 400 ? `: ${describe(result.payload)}` : ''}`);
    return result;
  };

  let rebootTimer: TimerHandle | undefined;
  const offs = [
    hub.onMethod('getStatus', (call: MethodCall) => answered(call.name, { status: 200, payload: deps.status() })),
    hub.onMethod('setTelemetryInterval', (call: MethodCall) => {
      const { result, apply } = setTelemetryIntervalReply(call.payload);
      if (apply !== undefined) {
        const before = deps.currentIntervalMs();
        deps.setIntervalMs(apply);
        deps.log('info', `telemetry interval ${before} ms -> ${apply} ms (setTelemetryInterval)`);
      }
      return answered(call.name, result);
    }),
    hub.onMethod('reboot', (call: MethodCall) => {
      deps.log('info', `reboot requested; restarting in ${REBOOT_DELAY_MS} ms`);
      if (rebootTimer === undefined) {
        rebootTimer = deps.timers.setTimeout(() => {
          rebootTimer = undefined;
          deps.reboot();
        }, REBOOT_DELAY_MS);
      }
      return answered(call.name, { status: 200, payload: { rebooting: true, inMs: REBOOT_DELAY_MS } });
    }),
  ];
  return () => {
    for (const off of offs) off();
    // A stopped app must not restart itself later.
    if (rebootTimer !== undefined) deps.timers.clearTimeout(rebootTimer);
    rebootTimer = undefined;
  };
}

function describe(payload: JsonValue | undefined): string {
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload) && typeof payload['error'] === 'string') return payload['error'];
  return JSON.stringify(payload ?? null);
}
