// The DPS emulator over real MQTT/TLS: the registration flow as a device sees it, byte for byte.
import { deriveDeviceKey } from '../../emulator/src/dps/enrollment-store';
import { POLL_TOPIC, REGISTER_TOPIC, startDpsTestBed, testPki, type DpsTestBed } from '../helpers/raw-mqtt-dps';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const GROUP_KEY = Buffer.alloc(64, 7).toString('base64');
const pki = testPki();

let bed: DpsTestBed;
beforeEach(async () => {
  bed = await startDpsTestBed(pki);
});
afterEach(async () => {
  await bed.close();
});

function addDevice(registrationId: string, settings: object = {}) {
  bed.dps.enrollments.addIndividual({ registrationId, attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B }, ...settings });
}

describe('assigning then assigned', () => {
  test('202 with retry-after on the topic for each poll until the configured count, then 200 assigned', async () => {
    addDevice('dev-1', { pollsBeforeAssigned: 3, retryAfterSeconds: 2 });
    const client = await bed.connectSas('dev-1', KEY_A);
    const first = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(first.topic).toBe('$dps/registrations/res/202/?$rid=1&retry-after=2');
    expect(first.qos).toBe(1);
    const { operationId, status } = JSON.parse(first.body);
    expect(status).toBe('assigning');
    for (const rid of [2, 3]) {
      const poll = await client.request(POLL_TOPIC(rid, operationId), ' ');
      expect(poll.topic).toBe(`$dps/registrations/res/202/?$rid=${rid}&retry-after=2`);
      expect(JSON.parse(poll.body)).toEqual({ operationId, status: 'assigning', registrationState: { registrationId: 'dev-1', status: 'assigning' } });
    }
    const final = await client.request(POLL_TOPIC(4, operationId), '');
    expect(final.topic).toBe('$dps/registrations/res/200/?$rid=4');
    const body = JSON.parse(final.body);
    expect(body).toMatchObject({
      operationId,
      status: 'assigned',
      registrationState: { registrationId: 'dev-1', assignedHub: 'localhost:8883', deviceId: 'dev-1', status: 'assigned', substatus: 'initialAssignment' },
    });
    expect(Object.keys(body.registrationState)).toEqual([
      'registrationId',
      'createdDateTimeUtc',
      'assignedHub',
      'deviceId',
      'status',
      'substatus',
      'lastUpdatedDateTimeUtc',
      'etag',
    ]);
    expect(bed.registry.getDevice('dev-1')?.auth).toEqual({ type: 'sas', primaryKey: KEY_A, secondaryKey: KEY_B });
    expect(bed.dps.getRegistration('dev-1')).toMatchObject({ status: 'assigned', deviceId: 'dev-1' });
  });

  test('a group member gets its derived key written into the hub registry', async () => {
    bed.dps.enrollments.addGroup({ enrollmentGroupId: 'fleet', attestation: { type: 'symmetricKey', primaryKey: GROUP_KEY, secondaryKey: KEY_B }, pollsBeforeAssigned: 1, retryAfterSeconds: 0 });
    const deviceKey = deriveDeviceKey(GROUP_KEY, 'sensor-42');
    const client = await bed.connectSas('sensor-42', deviceKey);
    const first = await client.request(REGISTER_TOPIC('a'), '{"registrationId":"sensor-42"}');
    expect(first.topic).toBe('$dps/registrations/res/202/?$rid=a&retry-after=0');
    const final = await client.request(POLL_TOPIC('b', JSON.parse(first.body).operationId), '');
    expect(JSON.parse(final.body).registrationState.deviceId).toBe('sensor-42');
    expect(bed.registry.getDevice('sensor-42')?.auth).toEqual({
      type: 'sas',
      primaryKey: deviceKey,
      secondaryKey: deriveDeviceKey(KEY_B, 'sensor-42'),
    });
  });
});

describe('deviceId override and custom payload', () => {
  test('the hub device id comes from the enrollment and the request payload comes back', async () => {
    addDevice('reg-7', { deviceId: 'boiler-{registrationId}', pollsBeforeAssigned: 0 });
    const assigned: string[] = [];
    bed.dps.on('assigned', (e) => assigned.push(`${e.registrationId}->${e.deviceId}`));
    const client = await bed.connectSas('reg-7', KEY_B);
    const payload = { modelId: 'dtmi:com:example:Thermostat;1', site: 'Zürich' };
    const reply = await client.request(REGISTER_TOPIC(9), JSON.stringify({ registrationId: 'reg-7', payload }));
    expect(reply.topic).toBe('$dps/registrations/res/200/?$rid=9');
    const state = JSON.parse(reply.body).registrationState;
    expect(state.deviceId).toBe('boiler-reg-7');
    expect(state.payload).toEqual(payload);
    expect(bed.registry.getDevice('boiler-reg-7')).toBeDefined();
    expect(bed.registry.getDevice('reg-7')).toBeUndefined();
    expect(assigned).toEqual(['reg-7->boiler-reg-7']);
  });
});

describe('failed and disabled outcomes', () => {
  test('failed carries errorCode and errorMessage; disabled is final; neither creates a hub device', async () => {
    addDevice('dev-f', { failure: { errorCode: 400207, message: 'Custom allocation failed with status code: 400' }, pollsBeforeAssigned: 0 });
    addDevice('dev-d', { provisioningStatus: 'disabled' });
    const failed = await bed.connectSas('dev-f', KEY_A);
    const failedReply = await failed.request(REGISTER_TOPIC(1), '{"registrationId":"dev-f"}');
    expect(failedReply.topic).toBe('$dps/registrations/res/200/?$rid=1');
    expect(JSON.parse(failedReply.body)).toMatchObject({
      status: 'failed',
      registrationState: { registrationId: 'dev-f', status: 'failed', errorCode: 400207, errorMessage: 'Custom allocation failed with status code: 400' },
    });
    const disabled = await bed.connectSas('dev-d', KEY_A);
    const first = await disabled.request(REGISTER_TOPIC(1), '{"registrationId":"dev-d"}');
    const final = await disabled.request(POLL_TOPIC(2, JSON.parse(first.body).operationId), '');
    expect(JSON.parse(final.body)).toMatchObject({ status: 'disabled', registrationState: { registrationId: 'dev-d', status: 'disabled' } });
    expect(bed.registry.listDevices()).toEqual([]);
  });
});

describe('401 for devices DPS cannot match', () => {
  test('an unknown registration id is accepted at CONNECT and answered 401 401002', async () => {
    const client = await bed.connectSas('stranger', KEY_A);
    const reply = await client.request(REGISTER_TOPIC(1), '{"registrationId":"stranger"}');
    expect(reply.topic).toBe('$dps/registrations/res/401/?$rid=1');
    expect(JSON.parse(reply.body)).toMatchObject({ errorCode: 401002, message: 'The device is not authorized: no enrollment matches this registration id.' });
    const poll = await client.request(POLL_TOPIC(2, 'whatever'), '');
    expect(poll.topic).toBe('$dps/registrations/res/401/?$rid=2');
  });

  test('a known registration under the wrong id scope gets 401', async () => {
    addDevice('dev-1');
    const client = await bed.connectSas('dev-1', KEY_A, '0ne99999999');
    const reply = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(reply.topic).toBe('$dps/registrations/res/401/?$rid=1');
    expect(JSON.parse(reply.body).message).toBe("The device is not authorized: id scope 0ne99999999 is not this DPS's.");
  });

  test('requests without $rid or operationId are answered 400', async () => {
    addDevice('dev-1');
    const client = await bed.connectSas('dev-1', KEY_A);
    expect((await client.request('$dps/registrations/PUT/iotdps-register/', '{"registrationId":"dev-1"}')).topic).toBe('$dps/registrations/res/400/?$rid=');
    expect((await client.request('$dps/registrations/GET/iotdps-get-operationstatus/?$rid=5', '')).topic).toBe('$dps/registrations/res/400/?$rid=5');
  });
});
