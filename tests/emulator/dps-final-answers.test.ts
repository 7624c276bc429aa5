// DPS final answers as Azure sends them: `disabled` in its short form with an empty operationId (the body of Azure
// SDK for Embedded C's parser test), and `failed` with the error in the registration state. Switchable per
// enrollment (`emptyOperationId`, with `provisioningStatus` / `failure`) and as a DPS fault (`answerFinal`).
import { DpsFaults } from '../../emulator/src/dps/faults';
import { EnrollmentStore } from '../../emulator/src/dps/enrollment-store';
import { dpsCli, parseDpsCommand } from '../../emulator/src/dps/cli-commands';
import { POLL_TOPIC, REGISTER_TOPIC, startDpsTestBed, testPki, type DpsTestBed } from '../helpers/raw-mqtt-dps';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const ATTESTATION = { type: 'symmetricKey' as const, primaryKey: KEY_A, secondaryKey: KEY_B };
const pki = testPki();
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let bed: DpsTestBed;
beforeEach(async () => {
  bed = await startDpsTestBed(pki);
});
afterEach(async () => {
  await bed.close();
});

describe('a disabled enrollment answering with an empty operationId', () => {
  test('with pollsBeforeAssigned 0, the register request gets exactly the Embedded C parser-test body', async () => {
    bed.dps.enrollments.addIndividual({ registrationId: 'dev-1', attestation: ATTESTATION, provisioningStatus: 'disabled', emptyOperationId: true, pollsBeforeAssigned: 0 });
    const client = await bed.connectSas('dev-1', KEY_A);
    const reply = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(reply.topic).toBe('$dps/registrations/res/200/?$rid=1');
    expect(reply.body).toBe('{"operationId":"","status":"disabled","registrationState":{"registrationId":"dev-1","status":"disabled"}}');
    expect(bed.dps.getRegistration('dev-1')?.status).toBe('disabled');
  });

  test('after polling, the final poll answer has the empty operationId too', async () => {
    bed.dps.enrollments.addIndividual({ registrationId: 'dev-1', attestation: ATTESTATION, provisioningStatus: 'disabled', emptyOperationId: true, retryAfterSeconds: 0 });
    const client = await bed.connectSas('dev-1', KEY_A);
    const accepted = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(accepted.topic).toBe('$dps/registrations/res/202/?$rid=1&retry-after=0');
    const operationId = JSON.parse(accepted.body).operationId as string;
    expect(operationId).toMatch(/^4\./);
    const final = await client.request(POLL_TOPIC(2, operationId), '');
    expect(final.topic).toBe('$dps/registrations/res/200/?$rid=2');
    expect(final.body).toBe('{"operationId":"","status":"disabled","registrationState":{"registrationId":"dev-1","status":"disabled"}}');
  });

  test('a failed enrollment with emptyOperationId keeps its full registration state', async () => {
    bed.dps.enrollments.addIndividual({
      registrationId: 'dev-1', attestation: ATTESTATION, failure: { errorCode: 400207, message: 'allocation refused' }, emptyOperationId: true, pollsBeforeAssigned: 0,
    });
    const client = await bed.connectSas('dev-1', KEY_A);
    const reply = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(reply.topic).toBe('$dps/registrations/res/200/?$rid=1');
    const body = JSON.parse(reply.body);
    expect(Object.keys(body)).toEqual(['operationId', 'status', 'registrationState']);
    expect(body.operationId).toBe('');
    expect(body.status).toBe('failed');
    expect(Object.keys(body.registrationState)).toEqual(['registrationId', 'createdDateTimeUtc', 'status', 'errorCode', 'errorMessage', 'lastUpdatedDateTimeUtc', 'etag']);
    expect(body.registrationState).toMatchObject({ registrationId: 'dev-1', status: 'failed', errorCode: 400207, errorMessage: 'allocation refused' });
  });

  test('without emptyOperationId, a disabled answer keeps the operation id and full state (unchanged default)', async () => {
    bed.dps.enrollments.addIndividual({ registrationId: 'dev-1', attestation: ATTESTATION, provisioningStatus: 'disabled', pollsBeforeAssigned: 0 });
    const client = await bed.connectSas('dev-1', KEY_A);
    const body = JSON.parse((await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}')).body);
    expect(body.operationId).toMatch(/^4\./);
    expect(Object.keys(body.registrationState)).toEqual(['registrationId', 'createdDateTimeUtc', 'status', 'lastUpdatedDateTimeUtc', 'etag']);
  });

  test('the store refuses a non-boolean emptyOperationId', () => {
    const store = new EnrollmentStore();
    expect(() => store.addIndividual({ registrationId: 'x', attestation: ATTESTATION, emptyOperationId: 'yes' as unknown as boolean })).toThrow('emptyOperationId must be true or false');
  });

  test('the CLI sets it with --empty-operation-id and lists it', async () => {
    const parsed = parseDpsCommand(['add-enrollment', 'individual', '--registration-id', 'dev-9', '--primary-key', KEY_A, '--secondary-key', KEY_B, '--disabled', '--empty-operation-id', '--polls', '0']);
    expect(parsed).toEqual(expect.objectContaining({ ok: true, command: expect.objectContaining({ input: expect.objectContaining({ provisioningStatus: 'disabled', emptyOperationId: true, pollsBeforeAssigned: 0 }) }) }));
    const store = new EnrollmentStore();
    const ctx = { idScope: '0ne00000001', endpoint: '127.0.0.1:8884', readTextFile: () => '', generateKey: () => KEY_A };
    expect((await dpsCli(['add-enrollment', 'individual', '--registration-id', 'dev-9', '--disabled', '--empty-operation-id'], store, ctx)).exitCode).toBe(0);
    expect(store.getIndividual('dev-9')?.emptyOperationId).toBe(true);
    expect((await dpsCli(['list-enrollments'], store, ctx)).output).toContain('empty operationId');
  });
});

describe('the answerFinal DPS fault: disabled or failed whatever the enrollment says', () => {
  beforeEach(() => {
    bed.dps.enrollments.addIndividual({ registrationId: 'dev-1', attestation: ATTESTATION, retryAfterSeconds: 0 });
  });

  test('disabled on the register: the short body with an empty operationId, then the flow is back to normal', async () => {
    bed.dps.faults.answerFinal({ status: 'disabled', requests: 'register' });
    const client = await bed.connectSas('dev-1', KEY_A);
    const reply = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    expect(reply.topic).toBe('$dps/registrations/res/200/?$rid=1');
    expect(reply.body).toBe('{"operationId":"","status":"disabled","registrationState":{"registrationId":"dev-1","status":"disabled"}}');
    expect((await client.request(REGISTER_TOPIC(2), '{"registrationId":"dev-1"}')).topic).toBe('$dps/registrations/res/202/?$rid=2&retry-after=0');
    expect(bed.dps.faults.pending()).toBe(0);
  });

  test('failed on the poll, with the error code and message asked for', async () => {
    bed.dps.faults.answerFinal({ status: 'failed', requests: 'poll', errorCode: 400209, errorMessage: 'no hub for this device', operationId: 'op-7' });
    const client = await bed.connectSas('dev-1', KEY_A);
    const accepted = await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}');
    const reply = await client.request(POLL_TOPIC(2, JSON.parse(accepted.body).operationId), '');
    expect(reply.topic).toBe('$dps/registrations/res/200/?$rid=2');
    const body = JSON.parse(reply.body);
    expect(body).toEqual({
      operationId: 'op-7',
      status: 'failed',
      registrationState: {
        registrationId: 'dev-1',
        createdDateTimeUtc: expect.stringMatching(ISO),
        status: 'failed',
        errorCode: 400209,
        errorMessage: 'no hub for this device',
        lastUpdatedDateTimeUtc: expect.stringMatching(ISO),
        etag: expect.any(String),
      },
    });
  });

  test('failed defaults: errorCode 400207 and a fresh operationId', async () => {
    bed.dps.faults.answerFinal({ status: 'failed' });
    const client = await bed.connectSas('dev-1', KEY_A);
    const body = JSON.parse((await client.request(REGISTER_TOPIC(1), '{"registrationId":"dev-1"}')).body);
    expect(body.operationId).toMatch(/^4\.[0-9a-f]{16}\.[0-9a-f-]{36}$/);
    expect(body.registrationState).toMatchObject({ status: 'failed', errorCode: 400207, errorMessage: 'Custom allocation failed (injected fault).' });
  });

  test('bad settings are refused with a RangeError', () => {
    const faults = new DpsFaults();
    expect(() => faults.answerFinal({ status: 'assigned' as 'failed' })).toThrow('final status must be disabled or failed');
    expect(() => faults.answerFinal({ status: 'failed', errorCode: 42 })).toThrow('errorCode must be a six-digit DPS error code');
    expect(() => faults.answerFinal({ status: 'disabled', count: 0 })).toThrow('fault count must be a whole number >= 1');
  });
});
