// How the DPS client ends when things go wrong: error classes and retryability, the polling bounds, problems
// caught before any connection, and cancellation.
import { DpsError } from '../../src/dps/dps-errors';
import { DISCONNECT_HEX, IDENTITY, assigningBody, pollHex, registerHex, setupDps, type DpsFixture, type Tracked } from './dps-fixture';

function failure(t: Tracked<unknown>): DpsError {
  expect(t.status).toBe('rejected');
  expect(t.error).toBeInstanceOf(DpsError);
  return t.error as DpsError;
}

async function answerRegister(fx: DpsFixture, status: number, body: string, query = ''): Promise<void> {
  await fx.acceptAndSubscribe();
  await fx.answer(`$dps/registrations/res/${status}/?$rid=1${query}`, body);
}

describe('service errors are classified from errorCode / 1000', () => {
  test.each([
    [401, '{"errorCode":401002,"trackingId":"t-1","message":"The device is not authorized."}', 'unauthorized', 401, 401002],
    [403, '{"errorCode":403001,"message":"quota"}', 'unauthorized', 403, 403001],
    [404, '{"errorCode":404201,"message":"not found"}', 'service-error', 404, 404201],
    [400, '{"errorCode":400004,"message":"bad request"}', 'service-error', 400, 400004],
    // The topic says 400 but errorCode says 401: errorCode decides.
    [400, '{"errorCode":401002}', 'unauthorized', 401, 401002],
  ])('%i with %s is final (%s)', async (status, body, code, derived, errorCode) => {
    const fx = setupDps();
    const result = fx.register();
    await answerRegister(fx, status, body);
    const error = failure(result);
    expect(error).toMatchObject({ code, retryable: false, status: derived, errorCode });
    expect(fx.link.takeHex()).toEqual([DISCONNECT_HEX]);
  });

  test('a final error carries the tracking id and the service message', async () => {
    const fx = setupDps();
    const result = fx.register();
    await answerRegister(fx, 401, '{"errorCode":401002,"trackingId":"t-1","message":"The device is not authorized."}');
    const error = failure(result);
    expect(error.trackingId).toBe('t-1');
    expect(error.message).toBe('DPS refused the registration: status 401 (errorCode 401002): The device is not authorized.');
  });
});

describe('final registration statuses', () => {
  test('failed ends with assignment-failed naming the errorCode and message', async () => {
    const fx = setupDps();
    const result = fx.register();
    const body = JSON.stringify({
      operationId: 'op-1',
      status: 'failed',
      registrationState: { registrationId: 'dev-1', status: 'failed', errorCode: 400207, errorMessage: 'Custom allocation failed' },
    });
    await answerRegister(fx, 200, body);
    expect(failure(result)).toMatchObject({
      code: 'assignment-failed',
      retryable: false,
      errorCode: 400207,
      message: 'DPS could not assign the device (status failed: 400207 Custom allocation failed)',
    });
  });

  test('disabled ends with enrollment-disabled after polling', async () => {
    const fx = setupDps();
    const result = fx.register();
    await answerRegister(fx, 202, assigningBody(), '&retry-after=1');
    await fx.advance(1000);
    await fx.answer('$dps/registrations/res/200/?$rid=2', '{"operationId":"op-1","status":"disabled","registrationState":{"status":"disabled"}}');
    expect(failure(result)).toMatchObject({ code: 'enrollment-disabled', retryable: false });
  });

  test('an answer over maxPacketBytes is skipped unread and fails at once as a retryable bad-response', async () => {
    const fx = setupDps();
    const result = fx.register({ limits: { maxPacketBytes: 1024 } });
    await answerRegister(fx, 200, JSON.stringify({ operationId: 'op-1', status: 'assigned', pad: 'x'.repeat(2000) }));
    expect(failure(result)).toMatchObject({ code: 'bad-response', retryable: true });
    expect(failure(result).message).toMatch(/^DPS answer of \d+ bytes is over the 1024-byte limit$/);
  });

  test('an unreadable success body is a retryable bad-response', async () => {
    const fx = setupDps();
    const result = fx.register();
    await answerRegister(fx, 200, '{"status":"assigned"}');
    expect(failure(result)).toMatchObject({ code: 'bad-response', retryable: true, status: 200 });
  });
});

describe('polling is bounded by count and total time', () => {
  test('maxRequests stops the flow after that many requests, with the last status', async () => {
    const fx = setupDps();
    const result = fx.register({ limits: { maxRequests: 3 } });
    await answerRegister(fx, 202, assigningBody(), '&retry-after=1');
    for (const rid of [2, 3]) {
      await fx.advance(1000);
      expect(fx.link.takeHex()).toEqual([pollHex(rid, 'op-1', rid + 1)]);
      await fx.answer(`$dps/registrations/res/202/?$rid=${rid}&retry-after=1`, assigningBody());
    }
    expect(failure(result)).toMatchObject({ code: 'too-many-requests', retryable: true, status: 202 });
    expect(fx.link.takeHex()).toEqual([DISCONNECT_HEX]);
  });

  test('a wait that would end past totalTimeoutMs fails at once', async () => {
    const fx = setupDps();
    const result = fx.register({ limits: { totalTimeoutMs: 10_000 } });
    await answerRegister(fx, 202, assigningBody(), '&retry-after=4');
    await fx.advance(4000);
    await fx.answer('$dps/registrations/res/202/?$rid=2&retry-after=4', assigningBody());
    expect(result.status).toBe('pending');
    await fx.advance(4000);
    await fx.answer('$dps/registrations/res/202/?$rid=3&retry-after=4', assigningBody());
    const error = failure(result);
    expect(error).toMatchObject({ code: 'timeout', retryable: true });
    expect(error.message).toBe('no final answer within 10000 ms (DPS still says assigning; next try in 4000 ms)');
    expect(fx.clock.now()).toBe(8000);
  });

  test('a request without an answer times out after responseTimeoutMs', async () => {
    const fx = setupDps();
    const result = fx.register({ limits: { responseTimeoutMs: 5000 } });
    await fx.acceptAndSubscribe();
    await fx.advance(4999);
    expect(result.status).toBe('pending');
    await fx.advance(1);
    expect(failure(result)).toMatchObject({ code: 'timeout', retryable: true, message: 'no answer to the register request within 5000 ms' });
  });

  test('the total deadline also covers a connection that never opens', async () => {
    const fx = setupDps();
    const result = fx.register({ limits: { totalTimeoutMs: 2000, connectTimeoutMs: 60_000 } });
    await fx.advance(2000);
    expect(failure(result)).toMatchObject({ code: 'timeout', retryable: true });
    expect(fx.link.closed).toBe(true);
  });

  test('429 answers are retried until maxRequests, then reported with their status', async () => {
    const fx = setupDps();
    const result = fx.register({ limits: { maxRequests: 2 } });
    await answerRegister(fx, 429, '{"errorCode":429001}', '&retry-after=1');
    await fx.advance(1000);
    expect(fx.link.takeHex()).toEqual([registerHex(2, 3)]);
    await fx.answer('$dps/registrations/res/429/?$rid=2&retry-after=1', '{"errorCode":429001}');
    expect(failure(result)).toMatchObject({ code: 'too-many-requests', retryable: true, status: 429, errorCode: 429001, retryAfterSeconds: 1 });
  });
});

describe('connection failures', () => {
  test.each([
    [5, 'unauthorized', false],
    [4, 'unauthorized', false],
    [3, 'connect-failed', true],
    // Identifier rejected is a refused identity, as on the hub (one failure policy: src/failure/failure-policy.ts).
    [2, 'unauthorized', false],
  ])('CONNACK %i gives %s (retryable %s)', async (returnCode, code, retryable) => {
    const fx = setupDps();
    const result = fx.register();
    await Promise.resolve();
    fx.link.open();
    fx.link.push(`200200${returnCode.toString(16).padStart(2, '0')}`);
    await fx.advance(0);
    expect(failure(result)).toMatchObject({ code, retryable, returnCode });
    expect(fx.link.closed).toBe(true);
  });

  test.each([
    ['refused', true],
    ['dns', true],
    // A certificate we do not trust can heal (captive portal, intercepting firewall, wrong DNS): retried, at the
    // throttling floor (src/failure/failure-policy.ts).
    ['tls-verify', true],
    ['tls-hostname', true],
  ] as const)('a %s transport failure gives connect-failed (retryable %s)', async (transportCode, retryable) => {
    const fx = setupDps();
    const result = fx.register();
    await Promise.resolve();
    fx.link.fail({ code: transportCode, message: 'boom' });
    await fx.advance(0);
    expect(failure(result)).toMatchObject({ code: 'connect-failed', retryable, transportCode });
  });

  test('a drop while waiting to poll gives a retryable connection-lost', async () => {
    const fx = setupDps();
    const result = fx.register();
    await answerRegister(fx, 202, assigningBody(), '&retry-after=3');
    fx.link.fail({ code: 'reset', message: 'connection reset' });
    await fx.advance(0);
    expect(failure(result)).toMatchObject({ code: 'connection-lost', retryable: true, transportCode: 'reset' });
    expect(fx.clock.pendingCount).toBe(0);
  });

  test('a refused subscription is final', async () => {
    const fx = setupDps();
    const result = fx.register();
    await Promise.resolve();
    fx.link.open();
    fx.link.push('20020000');
    await fx.advance(0);
    fx.link.push('9003000180');
    await fx.advance(0);
    expect(failure(result)).toMatchObject({ code: 'subscribe-refused', retryable: false });
  });
});

describe('problems caught before any connection', () => {
  test('a clock that is not set gives clock-not-set and opens nothing', async () => {
    const fx = setupDps();
    fx.wall.now = undefined;
    const result = fx.register();
    await fx.advance(0);
    expect(failure(result)).toMatchObject({ code: 'clock-not-set', retryable: true });
    expect(fx.transport.connections).toHaveLength(0);
    expect(fx.client.state).toBe('idle');
  });

  test.each([
    ['a bad id scope', { identity: { ...IDENTITY, idScope: 'has space' } }, 'idScope: character at offset 3 is not allowed (allowed: letters and digits)'],
    ['a bad port', { endpoint: 'dps.test:99999' }, 'endpoint: the port must be a number 1..65535'],
    ['a bad host', { endpoint: 'dps..test' }, 'endpoint: has an empty label'],
    ['no trusted CA', { trustedCAs: [] }, 'trustedCAs: at least one root certificate is needed to verify DPS'],
    ['a bad limit', { limits: { maxRequests: 0 } }, 'limits.maxRequests must be a positive whole number'],
    [
      'a bad registration id',
      { identity: { ...IDENTITY, registrationId: 'a/b', credential: { kind: 'sas' as const, key: 'AAAA' } } },
      'registrationId: character at offset 1 is not allowed (allowed: letters, digits and -._:)',
    ],
  ])('%s gives invalid-config naming the field', async (_name, overrides, message) => {
    const fx = setupDps();
    const result = fx.register(overrides);
    await fx.advance(0);
    expect(failure(result)).toMatchObject({ code: 'invalid-config', retryable: false, message });
    expect(fx.transport.connections).toHaveLength(0);
  });

  test('a key that is not base64 gives credentials, without echoing it', async () => {
    const fx = setupDps();
    const result = fx.register({ identity: { ...IDENTITY, credential: { kind: 'sas', key: 'not*base64' } } });
    await fx.advance(0);
    const error = failure(result);
    expect(error.code).toBe('credentials');
    expect(error.message).not.toContain('not*base64');
  });
});

describe('cancel and busy', () => {
  test('cancel() during polling closes the connection, then rejects with cancelled', async () => {
    const fx = setupDps();
    const result = fx.register();
    await answerRegister(fx, 202, assigningBody(), '&retry-after=3');
    fx.client.cancel();
    await fx.advance(0);
    expect(fx.link.takeHex()).toEqual([DISCONNECT_HEX]);
    expect(failure(result)).toMatchObject({ code: 'cancelled' });
    expect(fx.order).toEqual(['transport #0 closed by local', 'settled']);
  });

  test('cancel() while connecting closes the half-open transport', async () => {
    const fx = setupDps();
    const result = fx.register();
    await Promise.resolve();
    fx.client.cancel();
    await fx.advance(0);
    expect(failure(result)).toMatchObject({ code: 'cancelled' });
    expect(fx.link.closed).toBe(true);
  });

  test('a second register() while one runs is refused as busy; after the end a new one may start', async () => {
    const fx = setupDps();
    const first = fx.register();
    const second = fx.register();
    await fx.advance(0);
    expect(failure(second)).toMatchObject({ code: 'busy' });
    fx.client.cancel();
    await fx.advance(0);
    expect(first.status).toBe('rejected');
    fx.register();
    await fx.advance(0);
    expect(fx.transport.connections).toHaveLength(2);
  });
});
