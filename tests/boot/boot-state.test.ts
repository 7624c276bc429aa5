// The boot flow's lifecycle: an illegal move refused by the one policy (throws under test, logs and refuses on a device).
import { describe, expect, test } from '@jest/globals';
import { bootMachine, isBootRunning } from '../../src/boot/boot-state';
import { IllegalMoveError } from '../../src/state-machine';

describe('the boot flow refuses an illegal move', () => {
  test('under test it throws, naming the move and the state, and stays where it was', () => {
    const machine = bootMachine(() => undefined);
    expect(() => machine.move('connected')).toThrow(IllegalMoveError);
    expect(() => machine.move('connected')).toThrow('boot: illegal move connected in state idle');
    expect(machine.state).toBe('idle');
  });

  test('in production it logs and refuses (no move made anyway)', () => {
    const logs: string[] = [];
    const machine = bootMachine((message) => logs.push(message), false);
    expect(machine.move('loading')).toBe(true);
    expect(machine.move('reprovisioning')).toBe(false);
    expect(machine.state).toBe('loading');
    expect(isBootRunning(machine.state)).toBe(true);
    expect(logs).toEqual(['boot: illegal move reprovisioning in state loading']);
  });
});
