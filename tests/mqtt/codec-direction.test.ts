// Each side reads only what the other side sends: the device's decoder refuses the packets only a client sends
// (as a client must), the broker codec (tests, soak, benchmarks) refuses the packets only a broker sends, and
// the device's encoder writes only what a client sends.

import { clientStreamParser, decodeClientPacket, decodePacket, encodeBrokerPacket } from '../../src/mqtt/broker-codec';
import { encodePacket } from '../../src/mqtt/encode';
import type { ClientPacket } from '../../src/mqtt/packets';
import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import { MqttStreamParser } from '../../src/mqtt/stream-parser';
import { fromHex, hex } from './codec-helpers';

const CLIENT_SENT: [string, string][] = [
  ['CONNECT', '10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 78'],
  ['SUBSCRIBE', '82 06 00 01 00 01 61 01'],
  ['UNSUBSCRIBE', 'a2 05 00 01 00 01 61'],
  ['PINGREQ', 'c0 00'],
  ['DISCONNECT', 'e0 00'],
];

const BROKER_SENT: [string, string][] = [
  ['CONNACK', '20 02 00 00'],
  ['SUBACK', '90 03 00 01 01'],
  ['UNSUBACK', 'b0 02 00 01'],
  ['PINGRESP', 'd0 00'],
];

function errorOf(result: { ok: boolean; error?: unknown } | undefined): MqttProtocolError | undefined {
  return result && !result.ok ? (result.error as MqttProtocolError) : undefined;
}

describe('the device decoder refuses what only a client sends', () => {
  test.each(CLIENT_SENT)('%s is an unexpected-type protocol error, whole and streamed', (name, bytes) => {
    const error = errorOf(decodePacket(fromHex(bytes)));
    expect(error?.code).toBe('unexpected-type');
    expect(error?.message).toBe(`a broker must not send ${name}`);
    const results = new MqttStreamParser().push(fromHex(bytes));
    expect(results).toHaveLength(1);
    expect(errorOf(results[0])?.code).toBe('unexpected-type');
  });

  test.each(BROKER_SENT)('%s is read', (_name, bytes) => {
    expect(decodePacket(fromHex(bytes)).ok).toBe(true);
  });
});

describe('the broker codec refuses what only a broker sends', () => {
  test.each(BROKER_SENT)('%s is an unexpected-type protocol error, whole and streamed', (name, bytes) => {
    const error = errorOf(decodeClientPacket(fromHex(bytes)));
    expect(error?.code).toBe('unexpected-type');
    expect(error?.message).toBe(`a client must not send ${name}`);
    const results = clientStreamParser().push(fromHex(bytes));
    expect(results).toHaveLength(1);
    expect(errorOf(results[0])?.code).toBe('unexpected-type');
  });

  test.each(CLIENT_SENT)('%s is read and written back to the same bytes', (_name, bytes) => {
    const decoded = decodeClientPacket(fromHex(bytes));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(hex(encodeBrokerPacket(decoded.value))).toBe(hex(fromHex(bytes)));
  });
});

describe('the device encoder writes only what a client sends', () => {
  test('a CONNACK handed to it anyway is refused', () => {
    const connack = { type: 'connack', sessionPresent: false, returnCode: 0 } as unknown as ClientPacket;
    expect(() => encodePacket(connack)).toThrow(MqttProtocolError);
    expect(hex(encodeBrokerPacket({ type: 'connack', sessionPresent: false, returnCode: 0 }))).toBe('20 02 00 00');
  });
});
