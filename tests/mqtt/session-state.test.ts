import { hasConnection, transition } from '../../src/mqtt/session-state';
import type { SessionInput, SessionState } from '../../src/mqtt/session-state';

const STATES: SessionState[] = ['idle', 'connecting', 'awaiting-connack', 'connected', 'disconnecting', 'closed'];
const INPUTS: SessionInput[] = ['connect', 'transport-open', 'connack-accepted', 'disconnect', 'closed'];

describe('session transition table', () => {
  it('allows exactly the documented transitions and refuses every other input', () => {
    const table: string[] = [];
    for (const state of STATES) {
      for (const input of INPUTS) {
        const next = transition(state, input);
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
