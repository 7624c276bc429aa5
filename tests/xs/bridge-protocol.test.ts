import {
  BridgeFormatError,
  decodeBridgeMessage,
  encodeBridgeMessage,
  toArrayBuffer,
} from '../../hosts/xsnap/bridge-protocol';
import { utf8Decode, utf8Encode } from '../../hosts/xsnap/bridge-utf8';

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const u32 = (n: number): string => n.toString(16).padStart(8, '0');

describe('bridge message layout', () => {
  test('JSON header with byte fields replaced by part indexes, then the raw parts', () => {
    const encoded = encodeBridgeMessage({ op: 'write', conn: 1, bytes: new Uint8Array([0xde, 0xad]) });
    const json = '{"op":"write","conn":1,"bytes":{"$bytes":0}}';
    expect(hex(encoded)).toBe(u32(json.length) + Buffer.from(json).toString('hex') + u32(2) + 'dead');
  });

  test('nested byte arrays, unicode and dropped undefined fields survive a round trip', () => {
    const message = {
      op: 'connect',
      conn: 3,
      options: {
        host: 'hub.example',
        port: 8883,
        serverName: undefined,
        trustedCAs: [new Uint8Array([1, 2]), new Uint8Array(0)],
        clientKey: new Uint8Array(300).fill(7),
      },
      note: 'é 😀 \u0000',
    };
    const decoded = decodeBridgeMessage<typeof message>(encodeBridgeMessage(message));
    expect(decoded).toEqual({ ...message, options: { ...message.options, serverName: undefined } });
    expect('serverName' in decoded.options).toBe(false);
    expect(Object.getPrototypeOf(decoded.options.clientKey)).toBe(Uint8Array.prototype);
  });

  test('toArrayBuffer copies exactly the view, not its whole buffer', () => {
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    expect(Array.from(new Uint8Array(toArrayBuffer(backing.subarray(1, 4))))).toEqual([1, 2, 3]);
  });
});

describe('malformed bridge messages give named errors', () => {
  const good = encodeBridgeMessage({ b: new Uint8Array([1, 2, 3]) });
  test.each([
    ['too short', new Uint8Array([0, 0]), 'bridge message too short (2 bytes)'],
    ['header longer than the message', new Uint8Array([0, 0, 0, 9, 0x7b]), 'bridge message header says 9 bytes, only 1 present'],
    ['part cut short', good.subarray(0, good.length - 1), 'bridge message part 0 is cut short'],
    ['part length cut', good.subarray(0, good.length - 5), 'bridge message ends inside a part length'],
    ['not JSON', new Uint8Array([0, 0, 0, 1, 0x7b]), 'bridge message header is not JSON'],
    ['missing part', encodeBridgeMessage({ $bytes: 4 }), 'bridge message refers to byte part 4 of 0'],
  ])('%s', (_name, bytes, message) => {
    expect(() => decodeBridgeMessage(bytes)).toThrow(new BridgeFormatError(message));
  });
});

describe('the bridge UTF-8 agrees with TextEncoder/TextDecoder', () => {
  test.each([
    ['empty', ''],
    ['ASCII', 'plain'],
    ['two-byte', 'é'],
    ['three-byte', '€'],
    ['four-byte', '😀 and 𝄞'],
    ['lone surrogate', 'lone \ud800 surrogate'],
    ['long', 'x'.repeat(1000)],
  ])('%s', (_name, text) => {
    const bytes = utf8Encode(text);
    expect(hex(bytes)).toBe(hex(new TextEncoder().encode(text)));
    expect(utf8Decode(bytes)).toBe(new TextDecoder().decode(bytes));
  });
});
