// Fault injection: rules the hub consults at each decision point (CONNECT, PUBACK, twin and method responses),
// immediate actions on live connections, and Azure's own `AzIoTHub_FaultOperationType` telemetry properties.
// A target is an identity key (`d1`, `d1/m1`) or `*` for every identity.
import type { Wire } from './wire';

/** A rule lasts for `count` uses or `durationMs`, whichever ends first; with neither, until cleared. */
export interface FaultWindow {
  count?: number;
  durationMs?: number;
}

export interface TwinFault {
  /** Answer with this status instead of serving the request (the request is not applied). */
  status?: number;
  /** Send the answer this much later. */
  delayMs?: number;
  /** Never answer. */
  drop?: boolean;
}

export interface MethodFault {
  /** Hand the device's reply to the caller this much later (it may then be too late: 504). */
  delayMs?: number;
  /** Lose the device's reply (the caller gets 504). */
  drop?: boolean;
}

/**
 * Holds each SUBACK for `holdMs`. While a connection has a held SUBACK, the hub delivers only to filters it has
 * already acknowledged: a publish to a topic whose SUBACK has not gone out is dropped, never delivered later.
 */
export interface LateSubscriptionFault {
  holdMs: number;
}

/** What the hub publishes to a device, as the out-of-order fault names it. */
export type DeviceBoundKind = 'twin-response' | 'desired-patch' | 'method-request' | 'c2d';
export const DEVICE_BOUND_KINDS: readonly DeviceBoundKind[] = ['twin-response', 'desired-patch', 'method-request', 'c2d'];

/**
 * Holds one publish to the device and sends it right after `after` later publishes (of any kind), so answers
 * arrive in another order than asked, across topics. Deterministic: the order depends only on what follows.
 */
export interface OutOfOrderFault {
  /** Which publish to hold (default `twin-response`). */
  hold?: DeviceBoundKind | 'any';
  /** Send it right after this many later publishes to the device (default 1). */
  after?: number;
  /** Send it anyway this long after it was held if fewer publishes followed (default 2000 ms). */
  maxHoldMs?: number;
}

export interface LatencyFault {
  inboundMs?: number;
  outboundMs?: number;
}

export type AzureFaultType = 'KillTcp' | 'ShutDownMqtt' | 'InvokeThrottling' | 'InvokeMaxMessageQuota' | 'InvokeAuthError';

export interface FaultEvent {
  kind: string;
  target: string;
  detail: string;
}

/** What the controller needs from the hub. */
export interface FaultHost {
  wiresOf(target: string): Wire[];
  closeConnections(target: string, how: 'kill' | 'graceful', reason: string): number;
  emitFault(event: FaultEvent): void;
}

interface Rule<T> {
  target: string;
  value: T;
  remaining?: number;
  until?: number;
}

function matches(ruleTarget: string, key: string): boolean {
  return ruleTarget === '*' || ruleTarget === key;
}

class RuleList<T> {
  private rules: Rule<T>[] = [];

  add(target: string, value: T, window: FaultWindow = {}): void {
    const rule: Rule<T> = { target, value };
    if (window.count !== undefined) rule.remaining = Math.max(0, Math.floor(window.count));
    if (window.durationMs !== undefined) rule.until = Date.now() + Math.max(0, window.durationMs);
    this.rules.push(rule);
  }

  /** The first live rule for `key` (and `accept`ing it), consuming one use of it. */
  take(key: string, accept: (value: T) => boolean = () => true): T | undefined {
    const now = Date.now();
    this.rules = this.rules.filter((r) => (r.until === undefined || r.until > now) && r.remaining !== 0);
    const rule = this.rules.find((r) => matches(r.target, key) && accept(r.value));
    if (!rule) return undefined;
    if (rule.remaining !== undefined) rule.remaining--;
    return rule.value;
  }

  clear(target?: string): void {
    this.rules = target === undefined ? [] : this.rules.filter((r) => r.target !== target);
  }

  get size(): number {
    return this.rules.length;
  }
}

type ArmedWireFault = { kind: 'bytes'; bytes: number } | { kind: 'mid-packet' };

const AZURE_FAULTS: readonly string[] = ['KillTcp', 'ShutDownMqtt', 'InvokeThrottling', 'InvokeMaxMessageQuota', 'InvokeAuthError'];

export class FaultController {
  private readonly connectRefusals = new RuleList<number>();
  private readonly pubackWithholds = new RuleList<true>();
  private readonly twinFaults = new RuleList<TwinFault>();
  private readonly methodFaults = new RuleList<MethodFault>();
  private readonly lateSubscriptions = new RuleList<LateSubscriptionFault>();
  private readonly outOfOrders = new RuleList<Required<OutOfOrderFault>>();
  private readonly latencies = new Map<string, LatencyFault>();
  private readonly armed = new Map<string, ArmedWireFault[]>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly host: FaultHost) {}

  // ---- immediate actions ----

  /** Drops the target's live connections now (abruptly, or with a clean TLS close); returns how many. */
  dropConnection(target: string, options: { graceful?: boolean; reason?: string } = {}): number {
    const reason = options.reason ?? (options.graceful ? 'fault: graceful close' : 'fault: connection killed');
    return this.host.closeConnections(target, options.graceful ? 'graceful' : 'kill', reason);
  }

  /** Cuts the target's connection after `bytes` more bytes to it (armed for the next connection if offline). */
  dropAfterBytes(target: string, bytes: number): void {
    this.arm(target, { kind: 'bytes', bytes });
  }

  /** Writes half of the next packet sent to the target, then cuts the connection. */
  dropMidPacket(target: string): void {
    this.arm(target, { kind: 'mid-packet' });
  }

  // ---- rules ----

  /** Refuses CONNECT from the target with this CONNACK code (1-5). */
  refuseConnect(target: string, returnCode: number, window?: FaultWindow): void {
    if (!Number.isInteger(returnCode) || returnCode < 1 || returnCode > 5) throw new RangeError('returnCode must be 1..5');
    this.connectRefusals.add(target, returnCode, window);
  }

  /** Keeps the hub's PUBACKs to the target's publishes from going out. */
  withholdPubacks(target: string, window?: FaultWindow): void {
    this.pubackWithholds.add(target, true, window);
  }

  twinResponses(target: string, fault: TwinFault, window?: FaultWindow): void {
    this.twinFaults.add(target, fault, window);
  }

  methodResponses(target: string, fault: MethodFault, window?: FaultWindow): void {
    this.methodFaults.add(target, fault, window);
  }

  /** Holds each SUBACK to the target for `holdMs`; publishes on not-yet-acknowledged filters are dropped. A count window counts SUBACKs. */
  lateSubscription(target: string, fault: LateSubscriptionFault, window?: FaultWindow): void {
    if (!Number.isFinite(fault.holdMs) || fault.holdMs < 0) throw new RangeError('holdMs must be a number >= 0');
    this.lateSubscriptions.add(target, { holdMs: fault.holdMs }, window);
  }

  /** Reorders publishes to the target: each use holds one matching publish until `after` later ones went out. */
  outOfOrder(target: string, fault: OutOfOrderFault = {}, window?: FaultWindow): void {
    const hold = fault.hold ?? 'twin-response';
    if (hold !== 'any' && !DEVICE_BOUND_KINDS.includes(hold)) throw new RangeError(`hold must be any or one of ${DEVICE_BOUND_KINDS.join(', ')}`);
    const after = fault.after ?? 1;
    if (!Number.isInteger(after) || after < 1) throw new RangeError('after must be a whole number >= 1');
    const maxHoldMs = fault.maxHoldMs ?? 2000;
    if (!Number.isFinite(maxHoldMs) || maxHoldMs < 0) throw new RangeError('maxHoldMs must be a number >= 0');
    this.outOfOrders.add(target, { hold, after, maxHoldMs }, window);
  }

  /** Adds latency to every packet of the target's connections, both directions; `undefined` removes it. */
  latency(target: string, latency: LatencyFault | undefined): void {
    if (latency) this.latencies.set(target, latency);
    else this.latencies.delete(target);
    for (const wire of this.host.wiresOf(target)) wire.setLatency(latency?.inboundMs ?? 0, latency?.outboundMs ?? 0);
  }

  /** Removes every rule (of one target, or all), cancels scheduled Azure faults when clearing all. */
  clear(target?: string): void {
    this.connectRefusals.clear(target);
    this.pubackWithholds.clear(target);
    this.twinFaults.clear(target);
    this.methodFaults.clear(target);
    this.lateSubscriptions.clear(target);
    this.outOfOrders.clear(target);
    if (target === undefined) {
      this.latencies.clear();
      this.armed.clear();
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
    } else {
      this.latencies.delete(target);
      this.armed.delete(target);
    }
  }

  // ---- consulted by the hub ----

  takeConnectRefusal(key: string): number | undefined {
    return this.connectRefusals.take(key);
  }

  takePubackWithhold(key: string): boolean {
    return this.pubackWithholds.take(key) === true;
  }

  takeTwinFault(key: string): TwinFault | undefined {
    return this.twinFaults.take(key);
  }

  takeMethodFault(key: string): MethodFault | undefined {
    return this.methodFaults.take(key);
  }

  takeLateSubscription(key: string): LateSubscriptionFault | undefined {
    return this.lateSubscriptions.take(key);
  }

  takeOutOfOrder(key: string, kind: DeviceBoundKind): Required<OutOfOrderFault> | undefined {
    return this.outOfOrders.take(key, (f) => f.hold === 'any' || f.hold === kind);
  }

  /** Applies latency and armed faults to a connection that just became active. */
  attach(key: string, wire: Wire): void {
    const latency = this.latencies.get(key) ?? this.latencies.get('*');
    if (latency) wire.setLatency(latency.inboundMs ?? 0, latency.outboundMs ?? 0);
    for (const target of [key, '*']) {
      for (const fault of this.armed.get(target) ?? []) this.applyArmed(wire, fault);
      this.armed.delete(target);
    }
  }

  /**
   * Honours Azure's fault-injection telemetry properties. Returns true when the message asked for a fault.
   * Delay and duration are seconds (fractions allowed here; Azure takes whole seconds).
   */
  applyTelemetryProperties(key: string, properties: Record<string, string | null>): boolean {
    const type = properties['AzIoTHub_FaultOperationType'];
    if (!type || !AZURE_FAULTS.includes(type)) return false;
    const seconds = (name: string): number => {
      const n = Number(properties[name] ?? '0');
      return Number.isFinite(n) && n > 0 ? n : 0;
    };
    const delayMs = seconds('AzIoTHub_FaultOperationDelayInSecs') * 1000;
    const durationMs = seconds('AzIoTHub_FaultOperationDurationInSecs') * 1000;
    const closeReason = properties['AzIoTHub_FaultOperationCloseReason'] ?? type;
    const fire = (): void => {
      this.host.emitFault({ kind: type, target: key, detail: `reason ${closeReason}, duration ${durationMs} ms` });
      switch (type as AzureFaultType) {
        case 'KillTcp':
          this.host.closeConnections(key, 'kill', `fault KillTcp: ${closeReason}`);
          break;
        case 'ShutDownMqtt':
          this.host.closeConnections(key, 'graceful', `fault ShutDownMqtt: ${closeReason}`);
          break;
        case 'InvokeThrottling':
          // Throttled, not disconnected: acks stop, twin requests get 429, new connections are turned away.
          if (durationMs > 0) {
            this.pubackWithholds.add(key, true, { durationMs });
            this.twinFaults.add(key, { status: 429 }, { durationMs });
            this.connectRefusals.add(key, 3, { durationMs });
          }
          break;
        case 'InvokeMaxMessageQuota':
          if (durationMs > 0) this.connectRefusals.add(key, 3, { durationMs });
          this.host.closeConnections(key, 'kill', `fault InvokeMaxMessageQuota: ${closeReason}`);
          break;
        case 'InvokeAuthError':
          if (durationMs > 0) this.connectRefusals.add(key, 5, { durationMs });
          this.host.closeConnections(key, 'kill', `fault InvokeAuthError: ${closeReason}`);
          break;
      }
    };
    // Even with no delay the fault waits a tick, so the PUBACK of the asking message goes out first.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fire();
    }, delayMs);
    this.timers.add(timer);
    return true;
  }

  /** Cancels scheduled faults; called when the hub stops. */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(target: string, fault: ArmedWireFault): void {
    const wires = this.host.wiresOf(target);
    if (wires.length === 0) {
      const list = this.armed.get(target) ?? [];
      list.push(fault);
      this.armed.set(target, list);
      return;
    }
    for (const wire of wires) this.applyArmed(wire, fault);
  }

  private applyArmed(wire: Wire, fault: ArmedWireFault): void {
    if (fault.kind === 'bytes') wire.dropAfterBytes(fault.bytes);
    else wire.dropMidNextPacket();
  }
}
