// The boot flow carries out the failure policy's `dps` decisions (src/failure/failure-policy.ts): a certificate
// failure at DPS is retried at the throttling floor instead of ending the boot, and only what the policy stops
// ends it in `failed` (left by the firmware's slow retry, tests/app/boot-watchdog.test.ts).
import { describe, expect, test } from '@jest/globals';
import { connectError } from '../../src/dps/dps-client';
import { MqttConnectError } from '../../src/mqtt/session-errors';
import { settle, setupBoot } from './boot-fixture';

const tlsFailure = (code: 'tls-verify' | 'tls-hostname'): MqttConnectError =>
  new MqttConnectError({ code: 'transport-error', message: `transport failed (${code})`, transportError: { code, message: 'untrusted' } });

describe('DPS failures follow the one policy', () => {
  for (const code of ['tls-verify', 'tls-hostname'] as const) {
    test(`a ${code} failure at DPS is retried, after the throttling floor`, async () => {
      const fx = setupBoot();
      fx.boot.start();
      fx.provisioner.last.reject(connectError(tlsFailure(code)));
      await settle();
      expect(fx.boot.state).toBe('provision-wait');
      // The floor is 10 s with the jitter source at 0.
      await fx.advance(9_999);
      expect(fx.provisioner.calls).toHaveLength(1);
      await fx.advance(1);
      expect(fx.provisioner.calls).toHaveLength(2);
    });
  }

  test('CONNACK 2 at DPS (identifier rejected) stops the boot like 4 and 5', async () => {
    const fx = setupBoot();
    fx.boot.start();
    fx.provisioner.last.reject(connectError(new MqttConnectError({ code: 'connack-refused', returnCode: 2, message: 'identifier rejected' })));
    await settle();
    expect(fx.boot.state).toBe('failed');
    expect(fx.logs.some((l) => l.startsWith('error boot: provisioning stopped until the enrollment or credentials change: DPS refused the credentials'))).toBe(true);
  });
});
