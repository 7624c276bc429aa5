// What the hub client does after a failed connection attempt, decided by one pure function (the client only
// carries the step out): the delay, what is reported, and when the fast loop stops.
import { describe, expect, test } from '@jest/globals';
import { AzureError } from '../../src/azure/azure-error';
import { MqttConnectError } from '../../src/mqtt/session-errors';
import { decideAttemptStep, type FailedAttempt } from '../../src/hub/attempt-steps';
import { HubError } from '../../src/hub/hub-error';

const BACKOFF = { minDelayMs: 1000, maxDelayMs: 100_000, maxJitterMs: 5000, throttledMinMs: 10_000, throttledMaxMs: 60_000 };

function failed(error: unknown, extra: Partial<FailedAttempt> = {}): FailedAttempt {
  return { error, failures: 0, spentMs: 0, credentialsChanged: false, clockReported: false, random: 0.5, backoff: BACKOFF, stoppedRetryMs: 60_000, ...extra };
}

const transport = new MqttConnectError({ code: 'transport-error', message: 'reset', transportError: { code: 'reset', message: 'reset' } });
const refused = new MqttConnectError({ code: 'connack-refused', returnCode: 5, message: 'not authorized' });

describe('a failure time can cure', () => {
  test('is reported as connect-failed and retried after the backoff, shortened by the time the attempt took', () => {
    const step = decideAttemptStep(failed(transport, { failures: 2, spentMs: 500 }));
    expect(step.kind).toBe('retry');
    expect(step.delayMs).toBe(4000 + 2500 - 500);
    expect(step.kind === 'retry' && step.report).toMatchObject({ code: 'connect-failed', retryable: true, message: 'connecting failed: reset', cause: transport });
  });

  test('a certificate the device does not trust waits at least the throttling floor', () => {
    const untrusted = new MqttConnectError({ code: 'transport-error', message: 'tls-verify', transportError: { code: 'tls-verify', message: 'tls-verify' } });
    expect(decideAttemptStep(failed(untrusted))).toMatchObject({ kind: 'retry', delayMs: 10_000 + 25_000 });
  });
});

describe('a wall clock that is not set', () => {
  test('is reported once, and the clock is checked again at least every 10 s', () => {
    const clock = new AzureError('clock-not-set', undefined, 'the wall clock is not set');
    const first = decideAttemptStep(failed(clock, { failures: 3 }));
    expect(first).toMatchObject({ kind: 'wait-for-clock', delayMs: 10_000, report: true, error: { code: 'clock-not-set', message: 'the wall clock is not set', cause: clock } });
    expect(decideAttemptStep(failed(clock, { clockReported: true }))).toMatchObject({ kind: 'wait-for-clock', delayMs: 3500, report: false });
  });

  test("the connect plan's own HubError is passed on as it is", () => {
    const own = new HubError('clock-not-set', 'the wall clock is not set (no SNTP yet): refusing to sign a SAS token');
    const step = decideAttemptStep(failed(own));
    expect(step.kind === 'wait-for-clock' && step.error).toBe(own);
  });
});

describe('refused credentials', () => {
  test('stop the fast loop: auth-failed, naming the slow retry, which comes after stoppedRetryMs plus up to a quarter', () => {
    const step = decideAttemptStep(failed(refused));
    expect(step).toMatchObject({ kind: 'stop', delayMs: 60_000 + 7500 });
    expect(step.kind === 'stop' && step.error).toMatchObject({
      code: 'auth-failed',
      returnCode: 5,
      message: 'the hub refused the credentials: not authorized; trying again in 68 s, or at once on updateCredentials()',
    });
  });

  test('are not final when updateCredentials() came during the attempt: the new ones are tried after the backoff, unreported', () => {
    expect(decideAttemptStep(failed(refused, { credentialsChanged: true }))).toEqual({ kind: 'retry', delayMs: 3500 });
  });

  test('a configuration the hub can never accept stops the same way, with its own error', () => {
    const config = new HubError('invalid-config', 'deviceId: too long', { field: 'deviceId' });
    const step = decideAttemptStep(failed(config));
    expect(step.kind === 'stop' && step.error).toBe(config);
  });
});
