// A seeded random source for the soak and fuzz runs: every run prints its seed, and the same seed replays the
// same inputs and fault schedule. mulberry32 is small and fast, which matters when it drives millions of inputs.

import { mulberry32Advance, mulberry32Value } from '../../tests/helpers/seeded-random';

// A module binding instead of a global lookup: under jest's vm context every `Math.` access is a slow
// interceptor call, and this runs a few hundred million times in a soak.
const floor = Math.floor;

export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = mulberry32Advance(this.state);
    return mulberry32Value(this.state);
  }

  /** Integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    return min + floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** A child source for one sub-task, so adding draws in one part does not shift the others. */
  fork(): Rng {
    return new Rng(this.int(0, 0xffffffff));
  }

  /** The generator's position, to replay the same draws (a fuzz input timed again). */
  save(): number {
    return this.state;
  }

  restore(position: number): void {
    this.state = position >>> 0;
  }

  /** A plain function view, for helpers that take `() => number`. */
  asFunction(): () => number {
    return () => this.next();
  }
}

/** A seed from the clock, for runs that were not given one (printed, so any failure can be replayed). */
export function freshSeed(): number {
  return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) >>> 0;
}
