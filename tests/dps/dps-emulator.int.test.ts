// The DPS client on the Node host against the DPS emulator over real TLS on 127.0.0.1: every attestation,
// device ids that differ from registration ids, custom payloads, polling with retry-after, final statuses and
// throttling. Certificates are made at test time (emulator/src/pki.ts).
import { createCa, issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import type { DpsRequestEvent } from '../../emulator/src/dps/dps-server';
import { DpsError } from '../../src/dps/dps-errors';
import type { DpsIdentity } from '../../src/identity';
import type { DpsRegisterOptions } from '../../src/dps/dps-options';
import { dpsPki, startDpsBed, type DpsBed } from './dps-int-fixture';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const GROUP_KEY = Buffer.alloc(64, 7).toString('base64');
const GROUP_KEY_2 = Buffer.alloc(64, 8).toString('base64');
const pki = dpsPki();
const selfSigned = issueDeviceCertificate('cam-1');
const fleetCa = createCa('Fleet Root CA');
const fleetDevice = issueDeviceCertificate('meter-5', fleetCa);

let bed: DpsBed;
beforeEach(async () => {
  bed = await startDpsBed(pki);
});
afterEach(async () => {
  await bed.close();
});

function register(enrollment: Omit<DpsIdentity, 'kind' | 'idScope'>, extra: Partial<DpsRegisterOptions> = {}) {
  const identity: DpsIdentity = { kind: 'dps', idScope: bed.dps.idScope, ...enrollment };
  return bed.client.register({ identity, endpoint: bed.endpoint, trustedCAs: bed.trustedCAs, ...extra });
}

function individual(registrationId: string, settings: object = {}): void {
  bed.dps.enrollments.addIndividual({ registrationId, attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B }, ...settings });
}

async function rejection(promise: Promise<unknown>): Promise<DpsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DpsError);
  return error as DpsError;
}

describe('each attestation provisions the device', () => {
  test('individual symmetric key', async () => {
    individual('dev-1', { pollsBeforeAssigned: 1, retryAfterSeconds: 0 });
    const result = await register({ registrationId: 'dev-1', credential: { kind: 'sas', key: KEY_A } });
    expect(result).toEqual({ assignedHub: 'emulated-hub.azure-devices.net', deviceId: 'dev-1', registrationId: 'dev-1', substatus: 'initialAssignment' });
    expect(bed.registry.getDevice('dev-1')?.auth).toEqual({ type: 'sas', primaryKey: KEY_A, secondaryKey: KEY_B });
    // The connection was gone (client side) before the promise resolved.
    expect(bed.logs).toContain('debug dps: DPS connection closed');
  });

  test('group symmetric key: the device derives its key, which the hub then knows', async () => {
    bed.dps.enrollments.addGroup({ enrollmentGroupId: 'fleet', attestation: { type: 'symmetricKey', primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY_2 }, retryAfterSeconds: 0 });
    const result = await register({ registrationId: 'sensor-42', credential: { kind: 'sas', key: GROUP_KEY }, enrollmentGroup: true });
    expect(result.deviceId).toBe('sensor-42');
    const derived = bed.registry.getDevice('sensor-42')?.auth;
    expect(derived).toMatchObject({ type: 'sas' });
    expect(derived).not.toMatchObject({ primaryKey: GROUP_KEY });
  });

  test('X.509 individual: the registration id is the certificate CN', async () => {
    bed.dps.enrollments.addIndividual({ registrationId: 'cam-1', attestation: { type: 'x509', primaryThumbprint: thumbprint(selfSigned.certDer) }, retryAfterSeconds: 0 });
    const result = await register({ credential: { kind: 'x509', chain: [selfSigned.certDer], privateKey: selfSigned.keyDer } });
    expect(result).toMatchObject({ registrationId: 'cam-1', deviceId: 'cam-1' });
    expect(bed.registry.getDevice('cam-1')?.auth).toEqual({ type: 'x509-thumbprint', primaryThumbprint: thumbprint(selfSigned.certDer) });
  });

  test('X.509 group with a CA: a certificate the CA signed is assigned', async () => {
    bed.dps.enrollments.addGroup({ enrollmentGroupId: 'meters', attestation: { type: 'x509-ca', caCertPem: fleetCa.certPem }, retryAfterSeconds: 0 });
    const result = await register({ credential: { kind: 'x509', chain: [fleetDevice.certDer], privateKey: fleetDevice.keyDer } });
    expect(result).toMatchObject({ registrationId: 'meter-5', deviceId: 'meter-5' });
    expect(bed.registry.getDevice('meter-5')?.auth).toEqual({ type: 'x509-ca' });
  });
});

describe('what DPS returns is what the device uses', () => {
  test('a device id different from the registration id', async () => {
    individual('reg-7', { deviceId: 'boiler-{registrationId}', pollsBeforeAssigned: 0 });
    const result = await register({ registrationId: 'reg-7', credential: { kind: 'sas', key: KEY_B } });
    expect(result).toMatchObject({ registrationId: 'reg-7', deviceId: 'boiler-reg-7' });
    expect(bed.registry.getDevice('boiler-reg-7')).toBeDefined();
  });

  test('a custom payload goes out in the register request and comes back in the registration state', async () => {
    individual('dev-p', { pollsBeforeAssigned: 0 });
    const payload = { modelId: 'dtmi:com:example:Thermostat;1', site: 'Zürich', floors: [1, 2] };
    const result = await register({ registrationId: 'dev-p', credential: { kind: 'sas', key: KEY_A } }, { payload });
    expect(result.payload).toEqual(payload);
  });
});

describe('assigning, then assigned after several polls', () => {
  test('each poll waits the retry-after DPS sent', async () => {
    individual('dev-slow', { pollsBeforeAssigned: 3, retryAfterSeconds: 1 });
    const requests: DpsRequestEvent[] = [];
    bed.dps.on('request', (e) => requests.push(e));
    const result = await register({ registrationId: 'dev-slow', credential: { kind: 'sas', key: KEY_A } });
    expect(result.deviceId).toBe('dev-slow');
    expect(requests.map((r) => `${r.kind} ${r.status}`)).toEqual(['register 202', 'poll 202', 'poll 202', 'poll 200']);
    for (let i = 1; i < requests.length; i++) {
      // Stamped when answered; the client waited a full second after each 202 before asking again.
      expect(requests[i]!.atMs - requests[i - 1]!.atMs).toBeGreaterThanOrEqual(990);
    }
  });
});

describe('final statuses end with a clear error', () => {
  test('failed', async () => {
    individual('dev-f', { failure: { errorCode: 400207, message: 'Custom allocation failed with status code: 400' }, pollsBeforeAssigned: 0 });
    const error = await rejection(register({ registrationId: 'dev-f', credential: { kind: 'sas', key: KEY_A } }));
    expect(error).toMatchObject({ code: 'assignment-failed', retryable: false, errorCode: 400207 });
    expect(error.message).toBe('DPS could not assign the device (status failed: 400207 Custom allocation failed with status code: 400)');
  });

  test('disabled', async () => {
    individual('dev-d', { provisioningStatus: 'disabled', retryAfterSeconds: 0 });
    const error = await rejection(register({ registrationId: 'dev-d', credential: { kind: 'sas', key: KEY_A } }));
    expect(error).toMatchObject({ code: 'enrollment-disabled', retryable: false });
    expect(bed.registry.listDevices()).toEqual([]);
  });

  test('an unknown registration is unauthorized (401002), a wrong key is refused at CONNECT', async () => {
    const unknown = await rejection(register({ registrationId: 'stranger', credential: { kind: 'sas', key: KEY_A } }));
    expect(unknown).toMatchObject({ code: 'unauthorized', retryable: false, status: 401, errorCode: 401002 });
    individual('dev-k');
    const wrongKey = await rejection(register({ registrationId: 'dev-k', credential: { kind: 'sas', key: GROUP_KEY } }));
    expect(wrongKey).toMatchObject({ code: 'unauthorized', retryable: false, returnCode: 4 });
  });

  test('a server certificate from another CA fails TLS verification, retryable (the policy waits the throttling floor)', async () => {
    const error = await rejection(
      bed.client.register({
        identity: { kind: 'dps', idScope: bed.dps.idScope, registrationId: 'dev-1', credential: { kind: 'sas', key: KEY_A } },
        endpoint: bed.endpoint,
        trustedCAs: [fleetCa.certDer],
      }),
    );
    expect(error).toMatchObject({ code: 'connect-failed', retryable: true, transportCode: 'tls-verify' });
  });
});

describe('throttling', () => {
  test('429 with retry-after on register, then success', async () => {
    individual('dev-t', { pollsBeforeAssigned: 0 });
    bed.dps.faults.answerWith({ status: 429, requests: 'register', retryAfterSeconds: 1 });
    const requests: DpsRequestEvent[] = [];
    bed.dps.on('request', (e) => requests.push(e));
    const result = await register({ registrationId: 'dev-t', credential: { kind: 'sas', key: KEY_A } });
    expect(result.deviceId).toBe('dev-t');
    expect(requests.map((r) => `${r.kind} ${r.status}`)).toEqual(['register 429', 'register 200']);
    expect(requests[1]!.atMs - requests[0]!.atMs).toBeGreaterThanOrEqual(990);
  });

  test('a connection dropped mid-registration is a retryable connection-lost', async () => {
    individual('dev-x', { pollsBeforeAssigned: 0 });
    bed.dps.faults.dropConnection({ requests: 'register' });
    const error = await rejection(register({ registrationId: 'dev-x', credential: { kind: 'sas', key: KEY_A } }));
    expect(error).toMatchObject({ code: 'connection-lost', retryable: true });
  });
});
