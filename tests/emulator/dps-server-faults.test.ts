// Fault injection on the DPS emulator: canned error answers, dropped connections, latency.
import { DpsFaults } from '../../emulator/src/dps/faults';
import { POLL_TOPIC, REGISTER_TOPIC, startDpsTestBed, testPki, type DpsTestBed } from '../helpers/raw-mqtt-dps';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const pki = testPki();

let bed: DpsTestBed;
beforeEach(async () => {
  bed = await startDpsTestBed(pki);
  bed.dps.enrollments.addIndividual({ registrationId: 'dev-1', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B }, retryAfterSeconds: 0 });
});
afterEach(async () => {
  await bed.close();
});

describe('error answers', () => {
  test('429 with retry-after for the next two registers, then the flow succeeds', async () => {
    bed.dps.faults.answerWith({ status: 429, count: 2, requests: 'register', retryAfterSeconds: 3 });
    const client = await bed.connectSas('dev-1', KEY_A);
    for (const rid of [1, 2]) {
      const throttled = await client.request(REGISTER_TOPIC(rid), '{"registrationId":"dev-1"}');
      expect(throttled.topic).toBe(`$dps/registrations/res/429/?$rid=${rid}&retry-after=3`);
      expect(JSON.parse(throttled.body)).toMatchObject({ errorCode: 429000, message: 'Operations are being throttled (injected fault).' });
    }
    const accepted = await client.request(REGISTER_TOPIC(3), '{"registrationId":"dev-1"}');
    expect(accepted.topic).toBe('$dps/registrations/res/202/?$rid=3&retry-after=0');
    const final = await client.request(POLL_TOPIC(4, JSON.parse(accepted.body).operationId), '');
    expect(JSON.parse(final.body).status).toBe('assigned');
    expect(bed.dps.faults.pending()).toBe(0);
  });

  test('a poll-only 503 leaves the register alone and does not count as a poll', async () => {
    bed.dps.faults.answerWith({ status: 503, requests: 'poll', errorCode: 503001, message: 'down for maintenance' });
    const client = await bed.connectSas('dev-1', KEY_A);
    const accepted = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(accepted.topic).toBe('$dps/registrations/res/202/?$rid=1&retry-after=0');
    const operationId = JSON.parse(accepted.body).operationId;
    const unavailable = await client.request(POLL_TOPIC(2, operationId), '');
    expect(unavailable.topic).toBe('$dps/registrations/res/503/?$rid=2');
    expect(JSON.parse(unavailable.body)).toMatchObject({ errorCode: 503001, message: 'down for maintenance' });
    expect((await client.request(POLL_TOPIC(3, operationId), '')).topic).toBe('$dps/registrations/res/200/?$rid=3');
  });

  test('500 on any request', async () => {
    bed.dps.faults.answerWith({ status: 500 });
    const client = await bed.connectSas('dev-1', KEY_A);
    const reply = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(reply.topic).toBe('$dps/registrations/res/500/?$rid=1');
    expect(JSON.parse(reply.body).errorCode).toBe(500000);
  });

  test('bad fault settings are refused with a RangeError', () => {
    const faults = new DpsFaults();
    expect(() => faults.answerWith({ status: 200 })).toThrow('fault status must be an HTTP error status (400-599)');
    expect(() => faults.answerWith({ status: 429, count: 0 })).toThrow('fault count must be a whole number >= 1');
    expect(() => faults.answerWith({ status: 429, retryAfterSeconds: 0.5 })).toThrow('retryAfterSeconds must be a whole number >= 0');
    expect(() => faults.setLatency(-1)).toThrow('latency must be >= 0 ms');
  });
});

describe('dropped connections', () => {
  test('the next request closes the connection without an answer; the retry succeeds', async () => {
    bed.dps.faults.dropConnection();
    const events: object[] = [];
    bed.dps.on('request', (e) => events.push({ kind: e.kind, status: e.status }));
    const first = await bed.connectSas('dev-1', KEY_A);
    first.publish(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}', 0);
    await first.waitClosed();
    expect(first.received.filter((p) => p.cmd === 'publish')).toEqual([]);
    const second = await bed.connectSas('dev-1', KEY_A);
    expect((await second.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}')).topic).toBe('$dps/registrations/res/202/?$rid=1&retry-after=0');
    expect(events).toEqual([
      { kind: 'register', status: 'dropped' },
      { kind: 'register', status: 202 },
    ]);
  });
});

describe('latency', () => {
  test('answers are delayed by the configured time, then clear() restores speed', async () => {
    bed.dps.faults.setLatency(300);
    const client = await bed.connectSas('dev-1', KEY_A);
    let started = Date.now();
    await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    bed.dps.faults.clear();
    started = Date.now();
    await client.request(REGISTER_TOPIC(2), '{"registrationId":"dev-1"}');
    expect(Date.now() - started).toBeLessThan(250);
  });
});
