// The one state-machine helper: the table decides, an illegal move throws under test and is logged and refused
// in production.
import { edgeTable, IllegalMoveError, StateMachine, type MoveTable } from '../src/state-machine';

type Light = 'off' | 'on' | 'broken';
type Press = 'press' | 'smash';

const TABLE: MoveTable<Light, Press> = {
  off: { press: 'on', smash: 'broken' },
  on: { press: 'off', smash: 'broken' },
  broken: {},
};

describe('a legal move goes where the table says', () => {
  it('moves and reports it', () => {
    const light = new StateMachine(TABLE, 'off', { name: 'light' });
    expect(light.move('press')).toBe(true);
    expect(light.state).toBe('on');
    expect(light.next('smash')).toBe('broken');
    expect(light.can('press')).toBe(true);
  });
});

describe('an illegal move under test throws', () => {
  it('throws IllegalMoveError naming the machine, input and state, and keeps the state (the jest setup is strict)', () => {
    const light = new StateMachine(TABLE, 'broken', { name: 'light' });
    expect(light.can('press')).toBe(false);
    expect(() => light.move('press')).toThrow(new IllegalMoveError('light: illegal move press in state broken'));
    expect(light.state).toBe('broken');
  });
});

describe('an illegal move in production is logged and refused', () => {
  it('returns false, logs the move and stays', () => {
    const logged: string[] = [];
    const light = new StateMachine(TABLE, 'broken', { name: 'light', strict: false, log: (m) => logged.push(m) });
    expect(light.move('smash')).toBe(false);
    expect(light.state).toBe('broken');
    expect(logged).toEqual(['light: illegal move smash in state broken']);
  });
});

describe('edgeTable guards the edges of a machine whose inputs are its target states', () => {
  it('allows only the listed targets', () => {
    const flow = new StateMachine(edgeTable<Light>({ off: ['on'], on: ['off', 'broken'], broken: [] }), 'off', {
      name: 'flow',
      strict: false,
    });
    expect(flow.move('broken')).toBe(false);
    expect(flow.move('on')).toBe(true);
    expect(flow.move('broken')).toBe(true);
    expect(flow.state).toBe('broken');
  });
});
