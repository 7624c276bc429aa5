import { EnrollmentStore } from '../../emulator/src/dps/enrollment-store';
import { RegistrationService, type Assignment, type RequestSession } from '../../emulator/src/dps/registration-service';
import type { IndividualEnrollmentInput } from '../../emulator/src/dps/enrollment-types';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const T0 = Date.parse('2024-05-01T10:00:00.000Z');

function setup(settings: Partial<IndividualEnrollmentInput> = {}) {
  const store = new EnrollmentStore();
  const enrollment = store.addIndividual({ registrationId: 'dev-1', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B }, ...settings });
  const assigned: Assignment[] = [];
  let ids = 0;
  let now = T0;
  const service = new RegistrationService({
    store,
    hubHostName: 'localhost:8883',
    assign: (a) => assigned.push(a),
    nowMs: () => now,
    newId: () => `00000000-0000-0000-0000-${String(++ids).padStart(12, '0')}`,
  });
  const session: RequestSession = {
    registrationId: 'dev-1',
    attested: { enrollment, method: 'symmetricKey', deviceKeys: { primaryKey: KEY_A, secondaryKey: KEY_B } },
  };
  const body = (value: unknown) => new Uint8Array(Buffer.from(JSON.stringify(value)));
  return { store, service, session, assigned, body, advance: (ms: number) => (now += ms) };
}

describe('registration flow', () => {
  test('202 assigning with retry-after, 202 until the configured poll, then 200 assigned', () => {
    const { service, session, assigned, body, advance } = setup({ pollsBeforeAssigned: 3, retryAfterSeconds: 2 });
    const first = service.register(session, body({ registrationId: 'dev-1' }));
    const operationId = (first.body as { operationId: string }).operationId;
    expect(first).toEqual({ status: 202, body: { operationId, status: 'assigning' }, retryAfterSeconds: 2 });
    expect(operationId).toMatch(/^4\.[0-9a-f]{16}\.[0-9a-f-]{36}$/);
    for (let i = 0; i < 2; i++) {
      expect(service.poll(session, operationId)).toEqual({
        status: 202,
        body: { operationId, status: 'assigning', registrationState: { registrationId: 'dev-1', status: 'assigning' } },
        retryAfterSeconds: 2,
      });
    }
    expect(assigned).toEqual([]);
    advance(1500);
    const final = service.poll(session, operationId);
    expect(final.status).toBe(200);
    expect(final.retryAfterSeconds).toBeUndefined();
    expect(JSON.stringify(final.body)).toBe(
      JSON.stringify({
        operationId,
        status: 'assigned',
        registrationState: {
          registrationId: 'dev-1',
          createdDateTimeUtc: '2024-05-01T10:00:01.500Z',
          assignedHub: 'localhost:8883',
          deviceId: 'dev-1',
          status: 'assigned',
          substatus: 'initialAssignment',
          lastUpdatedDateTimeUtc: '2024-05-01T10:00:01.500Z',
          etag: Buffer.from('"00000000-0000-0000-0000-000000000003"').toString('base64'),
        },
      }),
    );
    expect(assigned).toEqual([expect.objectContaining({ registrationId: 'dev-1', deviceId: 'dev-1', assignedHub: 'localhost:8883', substatus: 'initialAssignment' })]);
    // A settled operation keeps answering the same final body; the hub identity is written once.
    expect(service.poll(session, operationId)).toBe(final);
    expect(assigned).toHaveLength(1);
  });

  test('pollsBeforeAssigned 0 answers the register request itself', () => {
    const { service, session, body } = setup({ pollsBeforeAssigned: 0 });
    const response = service.register(session, body({ registrationId: 'dev-1' }));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'assigned', registrationState: { deviceId: 'dev-1' } });
  });

  test('deviceId override, custom payload echo and initial twin reach the assignment', () => {
    const { service, session, assigned, body } = setup({ pollsBeforeAssigned: 0, deviceId: 'thermo-{registrationId}', initialTwin: { desired: { rate: 5 } } });
    const response = service.register(session, body({ registrationId: 'dev-1', payload: { modelId: 'dtmi:x;1', n: [1, 2] } }));
    expect(response.body).toMatchObject({ registrationState: { deviceId: 'thermo-dev-1', payload: { modelId: 'dtmi:x;1', n: [1, 2] } } });
    expect(assigned[0]).toMatchObject({ deviceId: 'thermo-dev-1', initialTwin: { desired: { rate: 5 } } });
  });

  test('a fixed response payload replaces the echo', () => {
    const { service, session, body } = setup({ pollsBeforeAssigned: 0, responsePayload: { config: 'b' } });
    expect(service.register(session, body({ registrationId: 'dev-1', payload: { config: 'a' } })).body).toMatchObject({ registrationState: { payload: { config: 'b' } } });
  });

  test('re-registration keeps createdDateTimeUtc and reports the reprovisioning substatus', () => {
    const { store, service, session, body, advance } = setup({ pollsBeforeAssigned: 0 });
    const first = service.register(session, body({ registrationId: 'dev-1' })).body as { registrationState: Record<string, string> };
    advance(60_000);
    const again = service.register(session, body({ registrationId: 'dev-1' })).body as { registrationState: Record<string, string> };
    expect(again.registrationState.substatus).toBe('reprovisionedToInitialAssignment');
    expect(again.registrationState.createdDateTimeUtc).toBe(first.registrationState.createdDateTimeUtc);
    expect(again.registrationState.lastUpdatedDateTimeUtc).toBe('2024-05-01T10:01:00.000Z');
    expect(again.registrationState.etag).not.toBe(first.registrationState.etag);
    store.updateIndividual('dev-1', { assignedHub: 'other-hub.example' });
    expect(service.register(session, body({ registrationId: 'dev-1' })).body).toMatchObject({ registrationState: { substatus: 'deviceDataMigrated', assignedHub: 'other-hub.example' } });
    store.updateIndividual('dev-1', { assignedHub: null, reprovisionPolicy: 'reset' });
    expect(service.register(session, body({ registrationId: 'dev-1' })).body).toMatchObject({ registrationState: { substatus: 'deviceDataReset' } });
    expect(service.deleteRegistration('dev-1')).toBe(true);
    expect(service.register(session, body({ registrationId: 'dev-1' })).body).toMatchObject({ registrationState: { substatus: 'initialAssignment' } });
  });
});

describe('final outcomes other than assigned', () => {
  test('a disabled enrollment ends with status disabled and no hub identity', () => {
    const { service, session, assigned, body } = setup({ pollsBeforeAssigned: 0, provisioningStatus: 'disabled' });
    const response = service.register(session, body({ registrationId: 'dev-1' }));
    expect(response.status).toBe(200);
    expect(Object.keys((response.body as { registrationState: object }).registrationState)).toEqual([
      'registrationId',
      'createdDateTimeUtc',
      'status',
      'lastUpdatedDateTimeUtc',
      'etag',
    ]);
    expect(response.body).toMatchObject({ status: 'disabled', registrationState: { status: 'disabled' } });
    expect(assigned).toEqual([]);
  });

  test('a failing enrollment ends with status failed, errorCode and errorMessage', () => {
    const { service, session, body } = setup({ failure: { errorCode: 400207, message: 'Custom allocation failed' } });
    const operationId = (service.register(session, body({ registrationId: 'dev-1' })).body as { operationId: string }).operationId;
    expect(service.poll(session, operationId).body).toMatchObject({
      status: 'failed',
      registrationState: { registrationId: 'dev-1', status: 'failed', errorCode: 400207, errorMessage: 'Custom allocation failed' },
    });
  });

  test('a registry that refuses the device turns the registration into failed', () => {
    const store = new EnrollmentStore();
    const enrollment = store.addIndividual({ registrationId: 'dev-1', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B }, pollsBeforeAssigned: 0 });
    const service = new RegistrationService({
      store,
      hubHostName: 'h',
      assign: () => {
        throw new Error('device id taken');
      },
    });
    const session: RequestSession = { registrationId: 'dev-1', attested: { enrollment, method: 'symmetricKey', deviceKeys: { primaryKey: KEY_A, secondaryKey: KEY_B } } };
    expect(service.register(session, new Uint8Array(Buffer.from('{"registrationId":"dev-1"}'))).body).toMatchObject({
      status: 'failed',
      registrationState: { errorCode: 500000, errorMessage: 'The hub refused the device: device id taken' },
    });
  });
});

describe('request errors', () => {
  test('unauthorized sessions get 401 with errorCode 401002', () => {
    const { service, body } = setup();
    const response = service.register({ registrationId: 'x', unauthorizedReason: 'no enrollment matches this registration id' }, body({ registrationId: 'x' }));
    expect(response).toEqual({
      status: 401,
      body: {
        errorCode: 401002,
        trackingId: '00000000-0000-0000-0000-000000000001',
        message: 'The device is not authorized: no enrollment matches this registration id.',
        timestampUtc: '2024-05-01T10:00:00.000Z',
      },
    });
    expect(service.poll({ registrationId: 'x', unauthorizedReason: 'r' }, 'op').status).toBe(401);
  });

  test('bad bodies get 400, unknown or foreign operations 404, a removed enrollment 401', () => {
    const { store, service, session, body } = setup();
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(Buffer.from('not json')), 'The register request body is not JSON.'],
      [body([1]), 'The register request body must be a JSON object.'],
      [body({}), 'The register request lacks registrationId.'],
      [body({ registrationId: 'dev-2' }), 'registrationId in the body differs from the one the device connected with.'],
    ];
    for (const [bytes, message] of cases) {
      expect(service.register(session, bytes)).toMatchObject({ status: 400, body: { errorCode: 400000, message } });
    }
    expect(service.poll(session, 'unknown')).toMatchObject({ status: 404, body: { errorCode: 404000 } });
    const operationId = (service.register(session, body({ registrationId: 'dev-1' })).body as { operationId: string }).operationId;
    expect(service.poll({ ...session, registrationId: 'dev-2' }, operationId).status).toBe(404);
    store.removeIndividual('dev-1');
    expect(service.register(session, body({ registrationId: 'dev-1' }))).toMatchObject({ status: 401, body: { errorCode: 401002 } });
  });
});
