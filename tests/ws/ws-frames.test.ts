// RFC 6455 framing, byte for byte: the examples of section 5.7, then every refusal the client side makes.
import { describe, expect, test } from '@jest/globals';
import { fromHex, toHex } from '../../hosts/virtual/hex';
import { encodeClientFrame, FrameReader, isValidCloseCode, OP_BINARY, OP_PING, OP_PONG, OP_TEXT, OP_CLOSE } from '../../src/ws/ws-frames';

const HELLO = new TextEncoder().encode('Hello');
const RFC_MASK = fromHex('37fa213d');

interface Seen {
  data: Uint8Array[];
  control: { opcode: number; payload: string }[];
  fail: { code: number; message: string }[];
}

function reader(maxFrameBytes = 1 << 20): { push(hex: string | Uint8Array): void; seen: Seen; bytes(): string } {
  const seen: Seen = { data: [], control: [], fail: [] };
  const r = new FrameReader(
    {
      frameData: (chunk) => seen.data.push(chunk),
      frameControl: (opcode, payload) => seen.control.push({ opcode, payload: toHex(payload) }),
      frameFail: (code, message) => seen.fail.push({ code, message }),
    },
    maxFrameBytes,
  );
  return {
    push: (input) => r.push(typeof input === 'string' ? fromHex(input) : input),
    seen,
    bytes: () => seen.data.map(toHex).join(''),
  };
}

describe('RFC 6455 section 5.7 examples', () => {
  test('a single-frame masked text message: 0x81 0x85 37fa213d 7f9f4d5158 ("Hello")', () => {
    expect(toHex(encodeClientFrame(OP_TEXT, HELLO, RFC_MASK))).toBe('818537fa213d7f9f4d5158');
  });

  test('a fragmented message: first frame without FIN (0x01), the rest as a continuation with FIN (0x80)', () => {
    expect(toHex(encodeClientFrame(OP_TEXT, HELLO.subarray(0, 3), RFC_MASK, false))).toBe('018337fa213d7f9f4d');
    expect(toHex(encodeClientFrame(0, HELLO.subarray(3), RFC_MASK))).toBe('808237fa213d5b95');
  });

  test('the unmasked single-frame text message (0x81 0x05 "Hello") is refused with 1003: MQTT travels in binary', () => {
    const r = reader();
    r.push('810548656c6c6f');
    expect(r.seen.fail).toEqual([{ code: 1003, message: 'text frame (MQTT travels in binary frames)' }]);
    expect(r.seen.data).toEqual([]);
  });

  test('the fragmented example with the binary opcode: 0x02 0x03 "Hel", 0x80 0x02 "lo" reach MQTT as "Hello"', () => {
    const r = reader();
    r.push('020348656c');
    r.push('80026c6f');
    expect(r.bytes()).toBe('48656c6c6f');
    expect(r.seen.fail).toEqual([]);
  });

  test('an unmasked Ping (0x89 0x05 "Hello") and its masked Pong (0x8a 0x85 37fa213d 7f9f4d5158)', () => {
    const r = reader();
    r.push('890548656c6c6f');
    expect(r.seen.control).toEqual([{ opcode: OP_PING, payload: '48656c6c6f' }]);
    expect(toHex(encodeClientFrame(OP_PONG, HELLO, RFC_MASK))).toBe('8a8537fa213d7f9f4d5158');
  });

  test('256 bytes binary in a single unmasked frame: 0x82 0x7E 0x0100', () => {
    const body = new Uint8Array(256).map((_, i) => i);
    const r = reader();
    r.push(new Uint8Array([0x82, 0x7e, 0x01, 0x00, ...body]));
    expect(r.bytes()).toBe(toHex(body));
    // The client writes the same length form, masked.
    expect(toHex(encodeClientFrame(OP_BINARY, body, RFC_MASK).subarray(0, 8))).toBe('82fe010037fa213d');
  });

  test('64 KiB binary in a single unmasked frame: 0x82 0x7F 0x0000000000010000', () => {
    const body = new Uint8Array(65536).map((_, i) => i * 7);
    const r = reader();
    r.push(new Uint8Array([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, ...body]));
    expect(r.bytes()).toBe(toHex(body));
    expect(toHex(encodeClientFrame(OP_BINARY, body, RFC_MASK).subarray(0, 14))).toBe('82ff000000000001000037fa213d');
  });
});

describe('streaming: payload bytes pass on as they arrive, in any chunking', () => {
  test('one byte at a time, across headers and payloads, gives the same bytes and controls', () => {
    const all = fromHex('020348656c' + '890548656c6c6f' + '80026c6f' + '8200' + '8203010203');
    const r = reader();
    for (const byte of all) r.push(new Uint8Array([byte]));
    expect(r.bytes()).toBe('48656c6c6f010203');
    expect(r.seen.control).toEqual([{ opcode: OP_PING, payload: '48656c6c6f' }]);
  });

  test('a control frame may come between the fragments of a message (section 5.4)', () => {
    const r = reader();
    r.push('0201aa' + '8a00' + '8001bb');
    expect(r.bytes()).toBe('aabb');
    expect(r.seen.control).toEqual([{ opcode: OP_PONG, payload: '' }]);
  });

  test('a data chunk is a view of the socket chunk, not a copy', () => {
    const chunk = fromHex('8203010203');
    const r = reader();
    r.push(chunk);
    expect(r.seen.data[0]!.buffer).toBe(chunk.buffer);
  });
});

describe('refusals: the close code to answer with, and nothing read after', () => {
  const cases: [string, string, number, RegExp][] = [
    ['a masked frame from the server', '828137fa213d00', 1002, /masked frame/],
    ['RSV bits set', 'c20100', 1002, /RSV/],
    ['an unknown data opcode', '830100', 1002, /opcode 3/],
    ['an unknown control opcode', '8b00', 1002, /opcode 11/],
    ['a fragmented control frame', '0900', 1002, /fragmented control/],
    ['a control frame over 125 bytes', '897e007e', 1002, /over 125/],
    ['a continuation with no message open', '800100', 1002, /continuation/],
    ['a new message inside a fragmented one', '020100' + '820100', 1002, /new message/],
    ['a 16-bit length that fits in 7 bits', '827e0005', 1002, /shortest form/],
    ['a 64-bit length that fits in 16 bits', '827f000000000000ffff', 1002, /shortest form/],
    ['a 64-bit length with the top bit set', '827f8000000000000000', 1002, /top bit/],
    ['a close frame with a 1-byte body', '880103', 1002, /1-byte/],
    ['close code 1005 (never sent)', '880203ed', 1002, /1005/],
    ['close code 999', '880203e7', 1002, /999/],
    ['a close reason that is not UTF-8', '880403e8c328', 1007, /UTF-8/],
  ];
  test.each(cases)('%s', (_name, hex, code, message) => {
    const r = reader();
    r.push(hex + '8201ff');
    expect(r.seen.fail).toHaveLength(1);
    expect(r.seen.fail[0]!.code).toBe(code);
    expect(r.seen.fail[0]!.message).toMatch(message);
    expect(r.bytes()).not.toContain('ff');
  });

  test('an oversized frame is refused from its header (1009), before any payload byte is taken', () => {
    const r = reader(1000);
    r.push('827e03e9');
    expect(r.seen.fail).toEqual([{ code: 1009, message: 'frame of 1001 bytes is over the 1000-byte limit' }]);
    r.push(new Uint8Array(1001));
    expect(r.seen.data).toEqual([]);
  });

  test('a frame claiming 2^62 bytes is refused the same way', () => {
    const r = reader(1000);
    r.push('827f4000000000000000');
    expect(r.seen.fail[0]!.code).toBe(1009);
  });

  test('a valid Close ends the reading: its code and reason reach the owner, later bytes do not', () => {
    const r = reader();
    r.push('880503e8' + '627965' + '8201ff');
    expect(r.seen.control).toEqual([{ opcode: OP_CLOSE, payload: '03e8627965' }]);
    expect(r.seen.data).toEqual([]);
  });
});

describe('close codes a peer may send (section 7.4)', () => {
  test.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])('%i is valid', (code) => {
    expect(isValidCloseCode(code)).toBe(true);
  });
  test.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])('%i is not', (code) => {
    expect(isValidCloseCode(code)).toBe(false);
  });
});
