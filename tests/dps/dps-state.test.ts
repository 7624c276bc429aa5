// The DPS client's lifecycle: the documented edges only, and an illegal move refused by the one policy.
import { describe, expect, test } from '@jest/globals';
import { DPS_MOVES, dpsMachine, type DpsState } from '../../src/dps/dps-state';
import { IllegalMoveError } from '../../src/state-machine';

const STATES: DpsState[] = ['idle', 'connecting', 'subscribing', 'registering', 'waiting', 'polling', 'closing', 'done'];

describe('DPS state table', () => {
  test('allows exactly the documented moves', () => {
    const moves = STATES.flatMap((from) => STATES.filter((to) => DPS_MOVES[from][to] !== undefined).map((to) => `${from} -> ${to}`));
    expect(moves).toEqual([
      'idle -> connecting',
      'connecting -> subscribing',
      'connecting -> closing',
      'subscribing -> registering',
      'subscribing -> closing',
      'registering -> waiting',
      'registering -> closing',
      'waiting -> registering',
      'waiting -> polling',
      'waiting -> closing',
      'polling -> waiting',
      'polling -> closing',
      'closing -> done',
      'done -> connecting',
    ]);
  });
});

describe('the DPS client refuses an illegal move', () => {
  test('under test it throws, naming the move and the state, and stays where it was', () => {
    const logs: string[] = [];
    const machine = dpsMachine((message) => logs.push(message));
    expect(() => machine.move('polling')).toThrow(IllegalMoveError);
    expect(() => machine.move('polling')).toThrow('dps: illegal move polling in state idle');
    expect(machine.state).toBe('idle');
  });

  test('in production it logs and refuses (no move made anyway)', () => {
    const logs: string[] = [];
    const machine = dpsMachine((message) => logs.push(message), false);
    expect(machine.move('connecting')).toBe(true);
    expect(machine.move('done')).toBe(false);
    expect(machine.state).toBe('connecting');
    expect(logs).toEqual(['dps: illegal move done in state connecting']);
  });
});
