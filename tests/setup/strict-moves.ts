// Under test every state machine throws on an illegal move (src/state-machine.ts), so a bug fails the test that hit it.
import { setStrictMoves } from '../../src/state-machine';

setStrictMoves(true);
