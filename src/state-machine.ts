// The one state-machine helper: a table of (state, input) -> next state and move(), which refuses every input the
// table does not list for the current state. An illegal move is a bug in the owner, so the policy is the same for
// every machine: under test it throws (the test fails where the bug is), in production it logs and refuses (the
// device keeps its current state and keeps running).
//
// How "under test" is known: the module switch below. The jest setup (tests/setup/strict-moves.ts) turns it on for
// every test file; nothing on a device does, so a device is never strict. An owner may still pass `strict` to
// force either policy for one machine (its own tests of the production policy do that).

export type MoveTable<S extends string, I extends string> = { readonly [K in S]: { readonly [J in I]?: S } };

export interface StateMachineOptions {
  /** Names the machine in the refusal message, e.g. 'hub' or 'dps'. */
  name: string;
  /** Where a refused move is reported in production (the owner's logger at error level). */
  log?: (message: string) => void;
  /** Overrides the module switch for this machine: true throws on an illegal move, false logs and refuses. */
  strict?: boolean;
}

/** Thrown by move() in strict mode. Only a bug in the machine's owner can cause it. */
export class IllegalMoveError extends Error {
  // A field, not `this.name = ...`: under Moddable preload Error.prototype is frozen.
  override readonly name = 'IllegalMoveError';
}

let strictByDefault = false;

/** Turns the throwing policy on or off for every machine that does not pass `strict` itself (tests turn it on). */
export function setStrictMoves(on: boolean): void {
  strictByDefault = on;
}

/**
 * A table for a machine whose inputs are its target states: `{ idle: ['loading'] }` allows move('loading') from
 * idle. For flows where the owner decides the next state and the table only guards the edges.
 */
export function edgeTable<S extends string>(edges: { readonly [K in S]: readonly S[] }): MoveTable<S, S> {
  const table = {} as { [K in S]: { [J in S]?: S } };
  for (const from of Object.keys(edges) as S[]) {
    const row: { [J in S]?: S } = {};
    for (const to of edges[from]) row[to] = to;
    table[from] = row;
  }
  return table;
}

export class StateMachine<S extends string, I extends string> {
  private current: S;

  constructor(
    private readonly table: MoveTable<S, I>,
    initial: S,
    private readonly options: StateMachineOptions,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  /** The state `input` would lead to, or undefined when the table does not allow it now. */
  next(input: I): S | undefined {
    return this.table[this.current][input];
  }

  /** Whether `input` is allowed now; owners ask this first for inputs that may legitimately arrive late. */
  can(input: I): boolean {
    return this.next(input) !== undefined;
  }

  /** Moves on `input`; true when moved. An illegal input throws (strict) or is logged and refused (production). */
  move(input: I): boolean {
    const next = this.table[this.current][input];
    if (next !== undefined) {
      this.current = next;
      return true;
    }
    const message = `${this.options.name}: illegal move ${input} in state ${this.current}`;
    if (this.options.strict ?? strictByDefault) throw new IllegalMoveError(message);
    this.options.log?.(message);
    return false;
  }
}
