// The firmware's lifecycle: an illegal move refused by the one policy (throws under test, logs and refuses on a device).
import { describe, expect, test } from '@jest/globals';
import { firmwareMachine } from '../../src/app/firmware-state';
import { IllegalMoveError } from '../../src/state-machine';

describe('the firmware refuses an illegal move', () => {
  test('under test it throws, naming the move and the state, and stays where it was', () => {
    const machine = firmwareMachine(() => undefined);
    expect(() => machine.move('running')).toThrow(IllegalMoveError);
    expect(() => machine.move('running')).toThrow('firmware: illegal move running in state idle');
    expect(machine.state).toBe('idle');
  });

  test('in production it logs and refuses (no move made anyway)', () => {
    const logs: string[] = [];
    const machine = firmwareMachine((message) => logs.push(message), false);
    expect(machine.move('stopping')).toBe(true);
    expect(machine.move('running')).toBe(false);
    expect(machine.state).toBe('stopping');
    expect(logs).toEqual(['firmware: illegal move running in state stopping']);
  });
});
