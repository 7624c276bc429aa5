// The hub client's lifecycle table: an illegal move refused by the one policy (throws under test, logs and refuses
// on a device), and the moves a connection's life takes.
import { describe, expect, test } from '@jest/globals';
import { hubStateMachine, isOnline } from '../../src/hub/hub-state';
import { IllegalMoveError } from '../../src/state-machine';

describe('the hub client refuses an illegal move', () => {
  test('under test it throws, naming the move and the state, and stays where it was', () => {
    const machine = hubStateMachine(() => undefined);
    expect(() => machine.move('connack')).toThrow(IllegalMoveError);
    expect(() => machine.move('connack')).toThrow('hub: illegal move connack in state idle');
    expect(machine.state).toBe('idle');
  });

  test('in production it logs and refuses (no move made anyway)', () => {
    const logs: string[] = [];
    const machine = hubStateMachine((message) => logs.push(message), false);
    expect(machine.move('start')).toBe(true);
    expect(machine.move('renew')).toBe(false);
    expect(machine.state).toBe('connecting');
    expect(logs).toEqual(['hub: illegal move renew in state connecting']);
  });

  test('closed is final: nothing moves it, close() included', () => {
    const machine = hubStateMachine(() => undefined, false);
    machine.move('close');
    for (const input of ['start', 'connack', 'retry', 'retry-due', 'stop', 'renew', 'drained', 'disconnect', 'reconnect', 'lost', 'close'] as const) {
      expect(machine.can(input)).toBe(false);
    }
  });
});

describe("a connection's life through the table", () => {
  test('connect, renew by a drained planned reconnect, lose the connection, retry', () => {
    const machine = hubStateMachine(() => undefined);
    const states: string[] = [];
    for (const input of ['start', 'connack', 'renew', 'drained', 'reconnect', 'connack', 'lost', 'retry-due', 'stop', 'start'] as const) {
      machine.move(input);
      states.push(machine.state);
    }
    expect(states).toEqual(['connecting', 'connected', 'draining', 'disconnecting', 'connecting', 'connected', 'waiting', 'connecting', 'stopped', 'connecting']);
  });

  test('the session may be written to only while connected, draining or disconnecting', () => {
    const online = (['idle', 'connecting', 'connected', 'draining', 'disconnecting', 'waiting', 'stopped', 'closed'] as const).filter(isOnline);
    expect(online).toEqual(['connected', 'draining', 'disconnecting']);
  });
});
