// Runs inside the real XS engine (bundled by journal-xs.test.ts): the journal battery's transcript as the reply.

import { utf8Encode } from '../../src/encoding/utf8';
import { runJournalBattery } from './journal-battery';

(globalThis as unknown as { handleCommand: (message: ArrayBuffer) => ArrayBuffer }).handleCommand = () => {
  const reply = utf8Encode(runJournalBattery().join('\n'));
  return reply.buffer.slice(reply.byteOffset, reply.byteOffset + reply.length) as ArrayBuffer;
};
