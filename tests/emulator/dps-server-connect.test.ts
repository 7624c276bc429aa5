// CONNECT decisions and the MQTT rules DPS enforces (what it refuses, what it closes the connection for).
import mqttPacket from 'mqtt-packet';
import { deriveDeviceKey } from '../../emulator/src/dps/enrollment-store';
import { dpsSasToken, dpsUsername, REGISTER_TOPIC, startDpsTestBed, testPki, type DpsTestBed } from '../helpers/raw-mqtt-dps';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const WRONG = Buffer.alloc(32, 9).toString('base64');
const SCOPE = '0ne00000001';
const pki = testPki();

let bed: DpsTestBed;
beforeEach(async () => {
  bed = await startDpsTestBed(pki);
  bed.dps.enrollments.addIndividual({ registrationId: 'dev-1', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B }, pollsBeforeAssigned: 0 });
});
afterEach(async () => {
  await bed.close();
});

async function connackFor(clientId: string, username: string, password?: string): Promise<{ code: number; closed: boolean }> {
  const client = await bed.open();
  const code = await client.connect(clientId, username, password);
  if (code !== 0) await client.waitClosed();
  return { code, closed: client.closed };
}

describe('CONNACK for SAS credentials', () => {
  test('primary and secondary keys are both accepted', async () => {
    expect((await connackFor('dev-1', dpsUsername(SCOPE, 'dev-1'), dpsSasToken(SCOPE, 'dev-1', KEY_A))).code).toBe(0);
    expect((await connackFor('dev-1', dpsUsername(SCOPE, 'dev-1'), dpsSasToken(SCOPE, 'dev-1', KEY_B))).code).toBe(0);
  });

  test('a bad signature gets 4 and the connection closes', async () => {
    expect(await connackFor('dev-1', dpsUsername(SCOPE, 'dev-1'), dpsSasToken(SCOPE, 'dev-1', WRONG))).toEqual({ code: 4, closed: true });
  });

  test('an expired token gets 5', async () => {
    const expired = dpsSasToken(SCOPE, 'dev-1', KEY_A, Math.floor(Date.now() / 1000) - 10);
    expect((await connackFor('dev-1', dpsUsername(SCOPE, 'dev-1'), expired)).code).toBe(5);
  });

  test('malformed tokens, tokens for another resource or key name, and missing credentials get 4', async () => {
    const otherResource = dpsSasToken(SCOPE, 'dev-2', KEY_A);
    const hubStyle = dpsSasToken(SCOPE, 'dev-1', KEY_A).replace('&skn=registration', '');
    for (const password of ['not a token', otherResource, hubStyle, undefined]) {
      expect((await connackFor('dev-1', dpsUsername(SCOPE, 'dev-1'), password)).code).toBe(4);
    }
  });

  test('a symmetric group with a key that does not verify gets 4', async () => {
    bed.dps.enrollments.addGroup({ enrollmentGroupId: 'g', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B } });
    expect((await connackFor('dev-9', dpsUsername(SCOPE, 'dev-9'), dpsSasToken(SCOPE, 'dev-9', KEY_A))).code).toBe(4);
    expect((await connackFor('dev-9', dpsUsername(SCOPE, 'dev-9'), dpsSasToken(SCOPE, 'dev-9', deriveDeviceKey(KEY_B, 'dev-9')))).code).toBe(0);
  });

  test('bad usernames get 4, a client id other than the registration id gets 2', async () => {
    const token = dpsSasToken(SCOPE, 'dev-1', KEY_A);
    expect((await connackFor('dev-1', `${SCOPE}/registrations/dev-1/?api-version=2019-03-31`, token)).code).toBe(4);
    expect((await connackFor('dev-1', 'localhost/dev-1/?api-version=2021-04-12', token)).code).toBe(4);
    expect((await connackFor('dev-2', dpsUsername(SCOPE, 'dev-1'), token)).code).toBe(2);
  });

  test('refusals are reported as connection events with the reason', async () => {
    const events: object[] = [];
    bed.dps.on('connection', (e) => events.push(e));
    await connackFor('dev-1', dpsUsername(SCOPE, 'dev-1'), dpsSasToken(SCOPE, 'dev-1', WRONG));
    expect(events).toEqual([
      { registrationId: 'dev-1', outcome: 'refused', returnCode: 4, reason: 'signature does not match any key of the identity' },
    ]);
  });

  test('MQTT 3.1 gets CONNACK 1', async () => {
    const client = await bed.open();
    const reply = client.next((p) => p.cmd === 'connack');
    client.send({ cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clean: true, clientId: 'dev-1', keepalive: 60 });
    expect(((await reply) as mqttPacket.IConnackPacket).returnCode).toBe(1);
    await client.waitClosed();
  });
});

describe('subscriptions', () => {
  test('only the response filter is granted, at QoS 1 at most; others get 0x80', async () => {
    const client = await bed.open();
    await client.connect('dev-1', dpsUsername(SCOPE, 'dev-1'), dpsSasToken(SCOPE, 'dev-1', KEY_A));
    expect(await client.subscribe('$dps/registrations/res/#', 2)).toEqual([1]);
    expect(await client.subscribe('$dps/registrations/res/#', 0)).toEqual([0]);
    expect(await client.subscribe('devices/dev-1/messages/devicebound/#', 1)).toEqual([0x80]);
    expect(await client.subscribe('#', 1)).toEqual([0x80]);
    // At QoS 0 the response arrives at QoS 0.
    const reply = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(reply.qos).toBe(0);
  });

  test('without a subscription the response is not delivered', async () => {
    const client = await bed.open();
    await client.connect('dev-1', dpsUsername(SCOPE, 'dev-1'), dpsSasToken(SCOPE, 'dev-1', KEY_A));
    const requests: object[] = [];
    bed.dps.on('request', (e) => requests.push(e));
    client.publish(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}', 1);
    await client.next((p) => p.cmd === 'puback');
    await new Promise((r) => setTimeout(r, 100));
    expect(client.received.filter((p) => p.cmd === 'publish')).toEqual([]);
    expect(bed.logs.some((l) => l.includes('is not subscribed to $dps/registrations/res/#; response dropped'))).toBe(true);
  });
});

describe('publishes DPS closes the connection for', () => {
  test.each([
    ['a QoS 2 publish to the register topic', REGISTER_TOPIC(1), 2 as const],
    ['a publish to a hub topic', 'devices/dev-1/messages/events/', 1 as const],
    ['a publish to the response topic', '$dps/registrations/res/200/?$rid=1', 0 as const],
  ])('%s', async (_name, topic, qos) => {
    const client = await bed.connectSas('dev-1', KEY_A);
    client.publish(topic, '{"registrationId":"dev-1"}', qos);
    await client.waitClosed();
    expect(client.received.filter((p) => p.cmd === 'publish' || p.cmd === 'pubrec')).toEqual([]);
  });
});

describe('malformed traffic', () => {
  test('bytes that are not MQTT close the connection', async () => {
    const client = await bed.open();
    client.raw.sendBytes(Buffer.from([0xf0, 0xff, 0xff, 0xff, 0xff, 0x01]));
    await client.waitClosed();
  });

  test('a packet before CONNECT closes the connection', async () => {
    const client = await bed.open();
    client.send({ cmd: 'pingreq' });
    await client.waitClosed();
    expect(bed.logs).toContain('warn DPS: closing connection: first packet was pingreq, not connect');
  });
});

describe('connection management', () => {
  test('a second CONNECT with the same registration id drops the first', async () => {
    const first = await bed.connectSas('dev-1', KEY_A);
    const second = await bed.connectSas('dev-1', KEY_A);
    await first.waitClosed();
    expect(second.closed).toBe(false);
    expect((await second.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}')).topic).toBe('$dps/registrations/res/200/?$rid=1');
  });

  test('PINGREQ is answered and the connection closes after 1.5 x keep-alive of silence', async () => {
    const client = await bed.open();
    expect(await client.connect('dev-1', dpsUsername(SCOPE, 'dev-1'), dpsSasToken(SCOPE, 'dev-1', KEY_A), 1)).toBe(0);
    const pong = client.next((p) => p.cmd === 'pingresp');
    client.send({ cmd: 'pingreq' });
    await pong;
    const started = Date.now();
    await client.waitClosed(4000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });

  test('close() ends open connections and the server', async () => {
    const client = await bed.connectSas('dev-1', KEY_A);
    expect(bed.dps.connectionCount()).toBe(1);
    await bed.dps.close();
    await client.waitClosed();
    expect(bed.dps.connectionCount()).toBe(0);
  });
});
