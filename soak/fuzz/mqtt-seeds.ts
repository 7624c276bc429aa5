// Valid MQTT traffic to mutate: mostly what a device really receives from IoT Hub (CONNACK, PUBACK, SUBACK,
// PINGRESP, PUBLISH on twin, method and C2D topics), plus every other packet type for breadth.

import { utf8Encode } from '../../src/encoding/utf8';
import { encodePacket } from '../../src/mqtt/encode';
import type { Packet, QoS, SubackCode } from '../../src/mqtt/packets';
import type { Rng } from '../lib/rng';
import { concatBytes } from './mutate';
import { encodeBrokerPacket } from '../../src/mqtt/broker-codec';

const AZURE_TOPICS = [
  '$iothub/twin/res/200/?$rid=1',
  '$iothub/twin/res/204/?$rid=17&$version=42',
  '$iothub/twin/res/429/?$rid=3',
  '$iothub/twin/PATCH/properties/desired/?$version=7',
  '$iothub/methods/POST/reboot/?$rid=9',
  '$iothub/methods/POST/thermostat*getMaxMinReport/?$rid=abc',
  'devices/d1/messages/devicebound/%24.mid=m1&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound&color=blue',
  'devices/d1/messages/devicebound/',
  '$dps/registrations/res/202/?$rid=1&retry-after=3',
  '$dps/registrations/res/200/?$rid=2',
];

const PAYLOADS = [
  '{"desired":{"$version":3,"interval":5},"reported":{"$version":1}}',
  '{"interval":10,"$version":7}',
  '{"operationId":"4.abc","status":"assigning"}',
  '{"operationId":"4.abc","status":"assigned","registrationState":{"assignedHub":"h.azure-devices.net","deviceId":"d1","status":"assigned"}}',
  '',
  'hello',
];

function qos(rng: Rng): QoS {
  return rng.chance(0.5) ? 0 : 1;
}

function packetId(rng: Rng): number {
  return rng.chance(0.1) ? rng.pick([1, 65535]) : rng.int(1, 65535);
}

const WORD_CHARS = Array.from('abcdefghijklmnopqrstuvwxyz0123456789-_.$/é€😀');

function word(rng: Rng, max: number): string {
  let s = '';
  const n = rng.int(1, max);
  for (let i = 0; i < n; i++) s += rng.pick(WORD_CHARS);
  return s;
}

/** Random head, cheap pattern for the rest: large bodies only have to reach the length limits. */
function body(rng: Rng, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const head = Math.min(length, 48);
  out.set(rng.bytes(head));
  const seed = rng.int(0, 255);
  for (let i = head; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

export function randomMqttPacket(rng: Rng): Packet {
  switch (rng.int(0, 13)) {
    case 0: {
      const clientId = rng.chance(0.1) ? '' : word(rng, 20);
      const p: Packet = { type: 'connect', clientId, cleanSession: clientId === '' || rng.chance(0.5), keepAlive: rng.int(0, 65535) };
      if (rng.chance(0.3)) p.will = { topic: word(rng, 20), payload: rng.bytes(rng.int(0, 20)), qos: qos(rng), retain: rng.chance(0.5) };
      if (rng.chance(0.6)) {
        p.username = `h.azure-devices.net/${clientId || 'x'}/?api-version=2021-04-12`;
        if (rng.chance(0.8)) p.password = utf8Encode('SharedAccessSignature sr=h&sig=abc%3D&se=1700000000');
      }
      return p;
    }
    case 1:
    case 2: {
      const returnCode = rng.chance(0.6) ? 0 : rng.int(1, 5);
      return { type: 'connack', sessionPresent: returnCode === 0 && rng.chance(0.5), returnCode };
    }
    case 3:
    case 4:
    case 5:
    case 6: {
      const level = qos(rng);
      const payload = rng.chance(0.8) ? utf8Encode(rng.pick(PAYLOADS)) : body(rng, rng.chance(0.9) ? rng.int(0, 200) : rng.int(200, 20_000));
      const p: Packet = { type: 'publish', topic: rng.chance(0.8) ? rng.pick(AZURE_TOPICS) : word(rng, 40), payload, qos: level, dup: level === 1 && rng.chance(0.2), retain: rng.chance(0.1) };
      if (level === 1) p.packetId = packetId(rng);
      return p;
    }
    case 7:
    case 8:
      return { type: 'puback', packetId: packetId(rng) };
    case 9: {
      const codes: SubackCode[] = [0, 1, 2, 0x80];
      return { type: 'suback', packetId: packetId(rng), granted: Array.from({ length: rng.int(1, 5) }, () => rng.pick(codes)) };
    }
    case 10:
      return { type: 'subscribe', packetId: packetId(rng), subscriptions: Array.from({ length: rng.int(1, 4) }, () => ({ topic: rng.pick(['$iothub/twin/res/#', 'devices/d1/messages/devicebound/#', 'a/+/b', '#']), qos: qos(rng) })) };
    case 11:
      return rng.chance(0.5)
        ? { type: 'unsubscribe', packetId: packetId(rng), topics: ['$iothub/methods/POST/#'] }
        : { type: 'unsuback', packetId: packetId(rng) };
    default:
      return { type: rng.pick(['pingreq', 'pingresp', 'disconnect'] as const) };
  }
}

/** A few packets back to back, as they would sit in one TCP read. */
export function randomMqttStream(rng: Rng): Uint8Array {
  const count = rng.int(1, 4);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) parts.push(encodeBrokerPacket(randomMqttPacket(rng)));
  return concatBytes(parts);
}
