// The seeded fault schedule of a fault soak: which fault, after which message. Pure, so a printed seed replays
// the same schedule; the run's timing still varies (real sockets), which is the point of a soak.

import type { Rng } from '../lib/rng';

export type FaultKind =
  | 'kill' // TCP connection dropped abruptly
  | 'graceful-close' // clean TLS close from the hub, no DISCONNECT
  | 'mid-packet' // the next packet to the device is cut half way, then the connection
  | 'after-bytes' // the connection is cut after a random number of bytes to the device
  | 'withhold-puback' // the hub takes messages but does not acknowledge them
  | 'twin-429' // twin requests are throttled
  | 'twin-5xx' // twin requests fail with 500 or 503
  | 'connack-3' // reconnects are refused with CONNACK 3 (server unavailable) for a while
  | 'auth-failure'; // a short CONNACK 5; the device re-provisions through DPS, which answers 5xx first

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill',
  'graceful-close',
  'mid-packet',
  'after-bytes',
  'withhold-puback',
  'twin-429',
  'twin-5xx',
  'connack-3',
  'auth-failure',
];

export interface PlannedFault {
  /** Applied once this many messages have been handed to the client. */
  afterMessage: number;
  kind: FaultKind;
  /** Kind-specific size: bytes before the cut, requests affected, refusals in a row, DPS errors first. */
  amount: number;
  /** 500 or 503 for twin-5xx and the DPS answers. */
  status: number;
}

/** Relative weights: connection faults dominate, as in the field; auth failures are rare and slow to recover. */
const WEIGHTS: Record<FaultKind, number> = {
  kill: 4,
  'graceful-close': 2,
  'mid-packet': 3,
  'after-bytes': 3,
  'withhold-puback': 2,
  'twin-429': 2,
  'twin-5xx': 2,
  'connack-3': 2,
  'auth-failure': 1,
};

function pickKind(rng: Rng): FaultKind {
  let total = 0;
  for (const kind of FAULT_KINDS) total += WEIGHTS[kind];
  let r = rng.next() * total;
  for (const kind of FAULT_KINDS) {
    r -= WEIGHTS[kind];
    if (r < 0) return kind;
  }
  return 'kill';
}

function amountFor(kind: FaultKind, rng: Rng): number {
  switch (kind) {
    case 'after-bytes':
      return rng.int(1, 600);
    case 'withhold-puback':
      return rng.int(1, 6);
    case 'twin-429':
    case 'twin-5xx':
      return rng.int(1, 3);
    case 'connack-3':
      return rng.int(1, 3);
    case 'auth-failure':
      return rng.int(0, 2);
    default:
      return 1;
  }
}

/** `faults` faults spread over `messages` messages, sorted by when they fire; every kind appears when faults >= kinds. */
export function planFaults(rng: Rng, messages: number, faults: number): PlannedFault[] {
  const plan: PlannedFault[] = [];
  for (let i = 0; i < faults; i++) {
    const kind = i < FAULT_KINDS.length ? FAULT_KINDS[i]! : pickKind(rng);
    plan.push({ afterMessage: rng.int(1, Math.max(1, messages - 1)), kind, amount: amountFor(kind, rng), status: rng.pick([500, 503]) });
  }
  return plan.sort((a, b) => a.afterMessage - b.afterMessage);
}
