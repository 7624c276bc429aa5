// Runs inside the real XS engine (bundled by protocol-xs.test.ts): any command answers the battery transcript.

import { utf8Encode } from '../../src/encoding/utf8';
import { runProtocolBattery } from './protocol-battery';

(globalThis as unknown as { handleCommand: (message: ArrayBuffer) => ArrayBuffer }).handleCommand = () => {
  const reply = utf8Encode(runProtocolBattery().join('\n'));
  return reply.buffer.slice(reply.byteOffset, reply.byteOffset + reply.length) as ArrayBuffer;
};
