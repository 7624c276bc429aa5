// The pure decision function and the endpoint parser, without any I/O.
import { parseDpsEndpoint } from '../../src/dps/dps-endpoint';
import { DpsError } from '../../src/dps/dps-errors';
import { DEFAULT_DPS_LIMITS, resolveLimits } from '../../src/dps/dps-options';
import { decideStep, type DpsProgress } from '../../src/dps/dps-steps';

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));
const progress = (over: Partial<DpsProgress> = {}): DpsProgress => ({
  registrationId: 'dev-1',
  requestsSent: 1,
  elapsedMs: 0,
  limits: DEFAULT_DPS_LIMITS,
  ...over,
});

describe('decideStep', () => {
  test('202 assigning polls after retry-after seconds, or after the poll fallback', () => {
    const body = bytes('{"operationId":"op","status":"assigning"}');
    expect(decideStep({ status: 202, retryAfterSeconds: 7, payload: body }, progress())).toEqual({ kind: 'poll', operationId: 'op', delayMs: 7000 });
    expect(decideStep({ status: 202, payload: body }, progress())).toEqual({ kind: 'poll', operationId: 'op', delayMs: 3000 });
  });

  test('a retryable error before any operation registers again; after one it polls that operation', () => {
    const answer = { status: 500, payload: bytes('') };
    expect(decideStep(answer, progress())).toEqual({ kind: 'register', delayMs: 10_000 });
    expect(decideStep(answer, progress({ operationId: 'op' }))).toEqual({ kind: 'poll', operationId: 'op', delayMs: 10_000 });
  });

  test('assigned falls back to the registration id asked for when the state omits it', () => {
    const body = bytes('{"operationId":"op","status":"assigned","registrationState":{"assignedHub":"h.example","deviceId":"d"}}');
    expect(decideStep({ status: 200, payload: body }, progress())).toEqual({
      kind: 'assigned',
      result: { assignedHub: 'h.example', deviceId: 'd', registrationId: 'dev-1' },
    });
  });

  test('the request bound wins over the time bound; both are retryable', () => {
    const body = bytes('{"operationId":"op","status":"assigning"}');
    const limits = { ...DEFAULT_DPS_LIMITS, maxRequests: 2, totalTimeoutMs: 1000 };
    const both = decideStep({ status: 202, retryAfterSeconds: 5, payload: body }, progress({ requestsSent: 2, limits }));
    expect(both.kind === 'fail' && both.error.code).toBe('too-many-requests');
    const late = decideStep({ status: 202, retryAfterSeconds: 5, payload: body }, progress({ limits }));
    expect(late.kind === 'fail' && [late.error.code, late.error.retryable]).toEqual(['timeout', true]);
  });

  test('a status the parser cannot place (an error body on 200) is a bad response, not a crash', () => {
    const step = decideStep({ status: 200, payload: bytes('\xff') }, progress());
    expect(step.kind).toBe('fail');
    expect(step.kind === 'fail' && step.error).toBeInstanceOf(DpsError);
  });
});

describe('parseDpsEndpoint', () => {
  test.each([
    [undefined, { host: 'global.azure-devices-provisioning.net', port: 8883 }],
    ['dps.example.net', { host: 'dps.example.net', port: 8883 }],
    ['127.0.0.1:18884', { host: '127.0.0.1', port: 18884 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
  ])('%s', (text, expected) => {
    expect(parseDpsEndpoint(text)).toEqual({ ok: true, value: expected });
  });

  test.each(['host:0', 'host:65536', 'host:', 'host:08', ':8883', 'a b', '[::1]:8883'])('%s is refused', (text) => {
    expect(parseDpsEndpoint(text)).toMatchObject({ ok: false, error: { code: 'invalid-config', retryable: false } });
  });
});

describe('limits', () => {
  test('defaults fill what is not given; zero waits are allowed, zero counts are not', () => {
    expect(resolveLimits({ maxRequests: 5 })).toEqual({ ok: true, value: { ...DEFAULT_DPS_LIMITS, maxRequests: 5 } });
    expect(resolveLimits({ pollFallbackMs: 0 })).toEqual({ ok: true, value: { ...DEFAULT_DPS_LIMITS, pollFallbackMs: 0 } });
    expect(resolveLimits({ totalTimeoutMs: 0 })).toEqual({ ok: false, error: 'limits.totalTimeoutMs must be a positive whole number' });
    expect(resolveLimits({ pollFallbackMs: 1.5 })).toEqual({ ok: false, error: 'limits.pollFallbackMs must be a non-negative whole number' });
    expect(resolveLimits({ keepAliveSeconds: 70000 })).toEqual({ ok: false, error: 'limits.keepAliveSeconds must be at most 65535' });
    expect(resolveLimits({ bogus: 1 } as never)).toEqual({ ok: false, error: 'limits.bogus is not a known limit' });
  });
});
