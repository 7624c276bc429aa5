// Final DPS answers that name no operation (operationId "" or absent), as DPS sends `disabled` (the body of the
// Azure SDK for Embedded C's parser test) and can send `failed`: the registration ends once, with the final
// error, and nothing is sent again: no second register, no poll, no new connection.
import { DpsError } from '../../src/dps/dps-errors';
import { DEFAULT_DPS_LIMITS } from '../../src/dps/dps-options';
import { decideStep, type DpsProgress } from '../../src/dps/dps-steps';
import { DISCONNECT_HEX, assigningBody, pollHex, registerHex, setupDps, subscribeHex, type DpsFixture, type Tracked } from './dps-fixture';

const DISABLED_BODY = '{"operationId":"","status":"disabled","registrationState":{"registrationId":"dev-1","status":"disabled"}}';
const FAILED_BODY = JSON.stringify({
  operationId: '',
  status: 'failed',
  registrationState: { registrationId: 'dev-1', status: 'failed', errorCode: 400207, errorMessage: 'Custom allocation failed' },
});
const FAILED_NO_ID_BODY = JSON.stringify({ status: 'failed', registrationState: { registrationId: 'dev-1', status: 'failed' } });

/** Longer than any retry or poll delay DPS or the client would use. */
const AN_HOUR_MS = 3_600_000;

function failure(t: Tracked<unknown>): DpsError {
  expect(t.status).toBe('rejected');
  expect(t.error).toBeInstanceOf(DpsError);
  return t.error as DpsError;
}

/** After the registration settled: an hour later the client has written nothing and opened nothing. */
async function expectNothingMore(fx: DpsFixture): Promise<void> {
  await fx.advance(AN_HOUR_MS);
  expect(fx.link.takeHex()).toEqual([]);
  expect(fx.transport.connections).toHaveLength(1);
  expect(fx.order.filter((entry) => entry === 'settled')).toHaveLength(1);
  expect(fx.logs.filter((line) => line.includes('registration ended'))).toHaveLength(1);
}

const progress = (over: Partial<DpsProgress> = {}): DpsProgress => ({ registrationId: 'dev-1', requestsSent: 1, elapsedMs: 0, limits: DEFAULT_DPS_LIMITS, ...over });
const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));

describe('decideStep on final answers with no operation id', () => {
  test('disabled with operationId "" fails with enrollment-disabled, not retryable', () => {
    const step = decideStep({ status: 200, payload: bytes(DISABLED_BODY) }, progress());
    expect(step).toEqual({ kind: 'fail', error: expect.any(DpsError) });
    const error = (step as { error: DpsError }).error;
    expect([error.code, error.retryable, error.message]).toEqual([
      'enrollment-disabled',
      false,
      'the enrollment for this device is disabled in DPS (status disabled)',
    ]);
  });

  test('failed with operationId "" or none fails with assignment-failed, not retryable', () => {
    for (const body of [FAILED_BODY, FAILED_NO_ID_BODY]) {
      const step = decideStep({ status: 200, payload: bytes(body) }, progress({ operationId: 'op-1' }));
      expect(step.kind).toBe('fail');
      expect((step as { error: DpsError }).error).toMatchObject({ code: 'assignment-failed', retryable: false });
    }
  });
});

describe('the DPS client on a disabled answer with operationId ""', () => {
  test('answering the register: enrollment-disabled once, DISCONNECT, then nothing', async () => {
    const fx = setupDps();
    const result = fx.register();
    expect(await fx.acceptAndSubscribe()).toEqual([expect.any(String), subscribeHex(1), registerHex(1, 2)]);
    await fx.answer('$dps/registrations/res/200/?$rid=1', DISABLED_BODY);
    expect(failure(result)).toMatchObject({ code: 'enrollment-disabled', retryable: false });
    expect(fx.link.takeHex()).toEqual([DISCONNECT_HEX]);
    expect(fx.order).toEqual(['transport #0 closed by local', 'settled']);
    await expectNothingMore(fx);
  });

  test('answering a poll: enrollment-disabled once, no further poll', async () => {
    const fx = setupDps();
    const result = fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/202/?$rid=1&retry-after=1', assigningBody('op-1'));
    await fx.advance(1000);
    expect(fx.link.takeHex()).toEqual([pollHex(2, 'op-1', 3)]);
    await fx.answer('$dps/registrations/res/200/?$rid=2', DISABLED_BODY);
    expect(failure(result)).toMatchObject({ code: 'enrollment-disabled', retryable: false });
    expect(fx.link.takeHex()).toEqual([DISCONNECT_HEX]);
    await expectNothingMore(fx);
  });
});

describe('the DPS client on a failed answer with operationId "" or none', () => {
  test.each([
    ['operationId ""', FAILED_BODY, 'DPS could not assign the device (status failed: 400207 Custom allocation failed)'],
    ['no operationId', FAILED_NO_ID_BODY, 'DPS could not assign the device (status failed)'],
  ])('%s: assignment-failed once, DISCONNECT, then nothing', async (_name, body, message) => {
    const fx = setupDps();
    const result = fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/200/?$rid=1', body);
    expect(failure(result)).toMatchObject({ code: 'assignment-failed', retryable: false, message });
    expect(fx.link.takeHex()).toEqual([DISCONNECT_HEX]);
    await expectNothingMore(fx);
  });
});
