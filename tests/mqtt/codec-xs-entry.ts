// Runs inside the real XS engine (bundled by codec-xs.test.ts): the codec must behave there as it does on Node.
// Command byte 0: frame the rest as a packet stream in small chunks and re-encode every packet decoded.
// Command byte 1: decode each length-prefixed packet that follows and answer the error codes, one per line.

import { utf8Encode } from '../../src/encoding/utf8';
import { encodePacket } from '../../src/mqtt/encode';
import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import { MqttStreamParser } from '../../src/mqtt/stream-parser';
import { encodeBrokerPacket, decodeEitherPacket, decodeEitherBody } from '../../src/mqtt/broker-codec';

function roundTrip(stream: Uint8Array): Uint8Array {
  const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let at = 0, step = 1; at < stream.length; at += step, step = (step * 7 + 3) % 61 + 1) {
    for (const result of parser.push(stream.subarray(at, at + step))) {
      if (!result.ok) throw result.error;
      const bytes = encodeBrokerPacket(result.value);
      parts.push(bytes);
      total += bytes.length;
    }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function errorCodes(input: Uint8Array): Uint8Array {
  const lines: string[] = [];
  for (let at = 0; at < input.length; ) {
    const length = (input[at] << 8) | input[at + 1];
    const result = decodeEitherPacket(input.subarray(at + 2, at + 2 + length));
    at += 2 + length;
    if (result.ok) lines.push('ok');
    else {
      const e = result.error;
      const shaped = e instanceof MqttProtocolError && e instanceof Error && e.name === 'MqttProtocolError';
      lines.push(shaped ? e.code : 'badly-shaped-error');
    }
  }
  try {
    encodePacket({ type: 'publish', topic: 'a/+', payload: new Uint8Array(0), qos: 0, dup: false, retain: false });
    lines.push('encoder accepted a wildcard');
  } catch (e) {
    lines.push(e instanceof MqttProtocolError ? `encode:${e.code}` : 'encode:other');
  }
  return utf8Encode(lines.join('\n'));
}

(globalThis as unknown as { handleCommand: (message: ArrayBuffer) => ArrayBuffer }).handleCommand = (message) => {
  const bytes = new Uint8Array(message);
  const reply = bytes[0] === 0 ? roundTrip(bytes.subarray(1)) : errorCodes(bytes.subarray(1));
  return reply.buffer.slice(reply.byteOffset, reply.byteOffset + reply.length) as ArrayBuffer;
};
