// Malformed input, class by class: each one must come back as a typed error with the right code, from
// decodePacket and from the stream parser alike, and nothing may escape as an exception.

import type { DecodeResult } from '../../src/mqtt/decode';
import { encodePacket, lengthFieldSize } from '../../src/mqtt/encode';
import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import type { MqttProtocolErrorCode } from '../../src/mqtt/protocol-error';
import { MqttStreamParser } from '../../src/mqtt/stream-parser';
import { fromHex, hex, randomPacket, seededRandom } from './codec-helpers';
import { encodeBrokerPacket, decodeEitherPacket, decodeEitherBody } from '../../src/mqtt/broker-codec';

// [what is wrong, whole packet as hex]
type Case = [string, string];

const MALFORMED: Record<MqttProtocolErrorCode, Case[]> = {
  'malformed-length': [['remaining length with a fifth byte', '30 ff ff ff ff 01']],
  'reserved-flags': [
    ['SUBSCRIBE with flags 0000', '80 06 00 01 00 01 61 00'],
    ['UNSUBSCRIBE with flags 0000', 'a0 05 00 01 00 01 61'],
    ['PUBACK with flags 0010', '42 02 00 01'],
    ['PINGREQ with flags 0001', 'c1 00'],
    ['CONNACK with flags 0001', '21 02 00 00'],
    ['CONNECT reserved bit 0 set', '10 0d 00 04 4d 51 54 54 04 03 00 00 00 01 78'],
    ['CONNACK acknowledge flags bit 1', '20 02 02 00'],
    ['SUBSCRIBE options bit 2', '82 06 00 01 00 01 61 04'],
  ],
  truncated: [
    ['PUBLISH topic length beyond the packet', '30 05 00 09 61 62 63'],
    ['CONNECT ending before the client id', '10 0a 00 04 4d 51 54 54 04 02 00 00'],
    ['CONNECT will flag but no will topic', '10 0f 00 04 4d 51 54 54 04 06 00 00 00 01 78 00 01'],
    ['SUBSCRIBE filter without its QoS byte', '82 05 00 01 00 01 61'],
    ['PUBLISH QoS 1 without its packet id', '32 03 00 01 61'],
  ],
  'length-mismatch': [
    ['PUBACK with 3 body bytes', '40 03 00 01 00'],
    ['PINGREQ with a body', 'c0 01 00'],
    ['CONNACK with 3 body bytes', '20 03 00 00 00'],
    ['UNSUBACK with 1 body byte', 'b0 01 01'],
    ['CONNECT with a byte after its last field', '10 0e 00 04 4d 51 54 54 04 02 00 00 00 01 78 ff'],
  ],
  'invalid-utf8': [
    ['overlong "/" (c0 af) in a topic', '30 04 00 02 c0 af'],
    ['overlong 3-byte form (e0 80 80)', '30 05 00 03 e0 80 80'],
    ['UTF-16 surrogate U+D800 (ed a0 80)', '30 05 00 03 ed a0 80'],
    ['code point above U+10FFFF (f4 90 80 80)', '30 06 00 04 f4 90 80 80'],
    ['stray continuation byte', '30 03 00 01 80'],
    ['sequence cut short (e2 82)', '30 04 00 02 e2 82'],
    ['U+0000 in a topic', '30 05 00 03 61 00 62'],
    ['invalid client id', '10 0d 00 04 4d 51 54 54 04 02 00 00 00 01 ff'],
    ['invalid SUBSCRIBE filter', '82 06 00 01 00 01 fe 00'],
  ],
  'string-too-long': [],
  'invalid-qos': [
    ['PUBLISH QoS bits 11', '36 05 00 01 61 00 01'],
    ['SUBSCRIBE requesting QoS 3', '82 06 00 01 00 01 61 03'],
    ['SUBACK code 3', '90 03 00 01 03'],
    ['CONNECT will QoS 3', '10 12 00 04 4d 51 54 54 04 1e 00 00 00 01 78 00 01 77 00 00'],
  ],
  'qos2-unsupported': [
    ['PUBLISH QoS 2', '34 05 00 01 61 00 01'],
    ['PUBREC', '50 02 00 01'],
    ['PUBREL', '62 02 00 01'],
    ['PUBCOMP', '70 02 00 01'],
    ['SUBSCRIBE requesting QoS 2', '82 06 00 01 00 01 61 02'],
    ['CONNECT will QoS 2', '10 12 00 04 4d 51 54 54 04 16 00 00 00 01 78 00 01 77 00 00'],
  ],
  'packet-too-large': [],
  // Covered by codec-direction.test.ts: which types are unexpected depends on the side decoding.
  'unexpected-type': [],
  'unknown-type': [
    ['type 0', '00 00'],
    ['type 15', 'f0 00'],
  ],
  'invalid-protocol': [
    ['MQTT 3.1 "MQIsdp" level 3', '10 0f 00 06 4d 51 49 73 64 70 03 02 00 3c 00 01 78'],
    ['"MQTT" level 5', '10 0d 00 04 4d 51 54 54 05 02 00 00 00 01 78'],
    ['"MQTX" level 4', '10 0d 00 04 4d 51 54 58 04 02 00 00 00 01 78'],
  ],
  'invalid-topic': [
    ['"+" in a PUBLISH topic', '30 03 00 01 2b'],
    ['"#" in a PUBLISH topic', '30 05 00 03 61 2f 23'],
    ['empty PUBLISH topic', '30 02 00 00'],
    ['SUBSCRIBE filter "a#"', '82 07 00 01 00 02 61 23 00'],
    ['SUBSCRIBE filter "a+/b"', '82 09 00 01 00 04 61 2b 2f 62 00'],
    ['UNSUBSCRIBE filter "#/a"', 'a2 07 00 01 00 03 23 2f 61'],
    ['CONNECT will topic with a wildcard', '10 12 00 04 4d 51 54 54 04 06 00 00 00 01 78 00 01 23 00 00'],
  ],
  'invalid-packet-id': [
    ['PUBACK id 0', '40 02 00 00'],
    ['PUBLISH QoS 1 id 0', '32 05 00 01 61 00 00'],
    ['SUBSCRIBE id 0', '82 06 00 00 00 01 61 00'],
  ],
  'invalid-field': [
    ['SUBSCRIBE without filters', '82 02 00 01'],
    ['SUBACK without codes', '90 02 00 01'],
    ['UNSUBSCRIBE without filters', 'a2 02 00 01'],
    ['CONNECT password flag without username flag', '10 0f 00 04 4d 51 54 54 04 42 00 00 00 01 78 00 00'],
    ['CONNECT will retain without will flag', '10 0d 00 04 4d 51 54 54 04 22 00 00 00 01 78'],
    ['CONNACK return code 6', '20 02 00 06'],
    ['CONNACK session present on a refusal', '20 02 01 01'],
    ['PUBLISH DUP on QoS 0', '38 03 00 01 61'],
  ],
};

function errorOf(result: DecodeResult | undefined): MqttProtocolError | undefined {
  return result && !result.ok ? result.error : undefined;
}

for (const [code, cases] of Object.entries(MALFORMED)) {
  if (cases.length === 0) continue;
  describe(`malformed input: ${code}`, () => {
    test.each(cases)('%s', (_what, bytes) => {
      const error = errorOf(decodeEitherPacket(fromHex(bytes)));
      expect(error).toBeInstanceOf(MqttProtocolError);
      expect(error?.code).toBe(code);
      expect(error?.name).toBe('MqttProtocolError');

      const results = new MqttStreamParser({ decodeBody: decodeEitherBody }).push(fromHex(bytes));
      expect(results).toHaveLength(1);
      expect(errorOf(results[0])?.code).toBe(code);
    });
  });
}

describe('decodePacket needs exactly one packet', () => {
  test.each([
    ['no bytes', '', 'truncated'],
    ['a lone first byte', '30', 'truncated'],
    ['remaining length cut short', 'c0 80', 'truncated'],
    ['body shorter than its remaining length', '30 05 00 01 61', 'truncated'],
    ['a second packet after the first', 'c0 00 c0 00', 'length-mismatch'],
  ])('%s', (_what, bytes, code) => {
    expect(errorOf(decodeEitherPacket(fromHex(bytes)))?.code).toBe(code);
  });
});

describe('header errors are reported from the first bytes, without waiting for the body', () => {
  test.each([
    ['type 15', 'f0', 'unknown-type'],
    ['PUBREL', '62', 'qos2-unsupported'],
    ['PUBLISH QoS 3', '36', 'invalid-qos'],
    ['SUBSCRIBE with flags 0000', '80', 'reserved-flags'],
    ['remaining length over 4 bytes', '30 80 80 80 80', 'malformed-length'],
  ])('%s', (_what, bytes, code) => {
    const results = new MqttStreamParser({ decodeBody: decodeEitherBody }).push(fromHex(bytes));
    expect(results).toHaveLength(1);
    expect(errorOf(results[0])?.code).toBe(code);
  });
});

describe('error messages name the field and never quote its value', () => {
  test('an invalid username is named, its text is not repeated', () => {
    const username = 'SharedAccessSignature sr=hub%2Fdevices%2Fd1&sig=abc';
    const good = encodePacket({ type: 'connect', clientId: 'd1', cleanSession: true, keepAlive: 0, username });
    const bad = good.slice();
    bad[bad.length - 1] = 0xff;
    const error = errorOf(decodeEitherPacket(bad));
    expect(error?.code).toBe('invalid-utf8');
    expect(error?.message).toContain('CONNECT username');
    expect(error?.message).not.toContain('SharedAccessSignature');
    expect(error?.message).not.toContain('sig=');
  });
});

describe('arbitrary bytes never throw', () => {
  const seed = 0xbad5eed;

  function checkNeverThrows(bytes: Uint8Array): void {
    let result: DecodeResult;
    try {
      result = decodeEitherPacket(bytes);
    } catch (error) {
      throw new Error(`decodePacket threw on ${hex(bytes.subarray(0, 64))}: ${String(error)}`);
    }
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(MqttProtocolError);
      return;
    }
    // Whatever we accept, we can send back; with a minimal length field the bytes are the same.
    const again = encodeBrokerPacket(result.value);
    let fieldSize = 1;
    while (bytes[fieldSize] & 0x80) fieldSize++;
    if (fieldSize === lengthFieldSize(bytes.length - 1 - fieldSize)) expect(hex(again)).toBe(hex(bytes));
  }

  test(`random and mutated packets (seed ${seed})`, () => {
    const rng = seededRandom(seed);
    let decodedOk = 0;
    for (let i = 0; i < 5000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(Math.floor(rng() * 40));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rng() * 256);
        // Give random bytes a plausible header now and then so bodies get exercised.
        if (bytes.length >= 2 && rng() < 0.7) {
          bytes[0] = (1 + Math.floor(rng() * 14)) << 4 | (bytes[0] & (rng() < 0.5 ? 0 : 0x0f));
          bytes[1] = bytes.length - 2;
        }
      } else {
        const packet = randomPacket(rng);
        if (packet.type === 'publish' && packet.payload.length > 2000) continue;
        bytes = encodeBrokerPacket(packet).slice();
        const flips = 1 + Math.floor(rng() * 3);
        for (let f = 0; f < flips; f++) bytes[Math.floor(rng() * bytes.length)] = Math.floor(rng() * 256);
      }
      checkNeverThrows(bytes);
      if (decodeEitherPacket(bytes).ok) decodedOk++;

      const parser = new MqttStreamParser({ decodeBody: decodeEitherBody, maxPacketSize: 4096 });
      const results = parser.push(bytes);
      for (const r of results) if (!r.ok) expect(r.error).toBeInstanceOf(MqttProtocolError);
    }
    expect(decodedOk).toBeGreaterThan(100);
  });
});
