import { hasConnection, SESSION_MOVES, sessionMachine } from '../../src/mqtt/session-state';
import { IllegalMoveError } from '../../src/state-machine';
import type { SessionInput, SessionState } from '../../src/mqtt/session-state';

const STATES: SessionState[] = ['idle', 'connecting', 'awaiting-connack', 'connected', 'disconnecting', 'closed'];
const INPUTS: SessionInput[] = ['connect', 'transport-open', 'connack-accepted', 'disconnect', 'closed'];

describe('session transition table', () => {
  it('allows exactly the documented transitions and refuses every other input', () => {
    const table: string[] = [];
    for (const state of STATES) {
      for (const input of INPUTS) {
        const next = SESSION_MOVES[state][input];
        if (next !== undefined) table.push(`${state} --${input}--> ${next}`);
      }
    }
    expect(table).toEqual([
      'idle --connect--> connecting',
      'connecting --transport-open--> awaiting-connack',
      'connecting --closed--> closed',
      'awaiting-connack --connack-accepted--> connected',
      'awaiting-connack --closed--> closed',
      'connected --disconnect--> disconnecting',
      'connected --closed--> closed',
      'disconnecting --closed--> closed',
      'closed --connect--> connecting',
    ]);
  });

  it('says which states hold a transport', () => {
    expect(STATES.filter(hasConnection)).toEqual(['connecting', 'awaiting-connack', 'connected', 'disconnecting']);
  });
});

describe('the session refuses an illegal move', () => {
  it('throws under test, naming the input and the state, and stays where it was', () => {
    const machine = sessionMachine();
    expect(() => machine.move('connack-accepted')).toThrow(IllegalMoveError);
    expect(() => machine.move('connack-accepted')).toThrow('mqtt: illegal move connack-accepted in state idle');
    expect(machine.state).toBe('idle');
  });

  it('in production logs the refusal and stays where it was', () => {
    const logged: string[] = [];
    const machine = sessionMachine((message) => logged.push(message), false);
    expect(machine.move('disconnect')).toBe(false);
    expect(machine.state).toBe('idle');
    expect(logged).toEqual(['mqtt: illegal move disconnect in state idle']);
  });
});
