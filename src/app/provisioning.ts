// Where DPS put this device: the stored assignment when it still matches the DPS inputs, otherwise a registration
// (retried with backoff while DPS is unreachable or busy) whose result is stored for the next boot.

import { DpsClient, type DpsClientDeps } from '../dps/dps-client';
import type { DpsError } from '../dps/dps-errors';
import { backoffDelay, DEFAULT_BACKOFF, randomFromCrypto } from '../hub/backoff';
import type { LogLevel, TimerHandle } from '../ports';
import { AssignmentStore } from '../storage/assignment-store';
import type { KeyValueStore } from '../ports';
import type { DpsRegistration } from './identity-source';

export interface ProvisionedHub {
  assignedHub: string;
  deviceId: string;
  /** True when DPS was asked on this boot; false when the stored assignment was used. */
  fresh: boolean;
}

export interface ProvisioningDeps extends DpsClientDeps {
  store: KeyValueStore;
}

export interface Provisioning {
  readonly result: Promise<ProvisionedHub>;
  cancel(): void;
}

export function provisionDevice(
  deps: ProvisioningDeps,
  registration: DpsRegistration,
  trustedCAs: Uint8Array[],
  log: (level: LogLevel, message: string) => void,
): Provisioning {
  const assignments = new AssignmentStore(deps.store);
  const client = new DpsClient(deps);
  const random = randomFromCrypto(deps.crypto);
  let cancelled = false;
  let waitTimer: TimerHandle | undefined;
  let rejectWait: ((error: Error) => void) | undefined;

  const pause = (ms: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      rejectWait = reject;
      waitTimer = deps.timers.setTimeout(() => {
        waitTimer = undefined;
        rejectWait = undefined;
        resolve();
      }, ms);
    });

  const run = async (): Promise<ProvisionedHub> => {
    const stored = assignments.load(registration.inputs);
    if (stored.status === 'assigned') {
      const { hubHost, deviceId } = stored.assignment;
      log('info', `using the stored DPS assignment: hub ${hubHost}, device ${deviceId} (DPS skipped)`);
      return { assignedHub: hubHost, deviceId, fresh: false };
    }
    if (stored.code !== 'missing') log('info', `stored DPS assignment not used: ${stored.message}`);
    const { inputs } = registration;
    for (let attempt = 0; ; attempt++) {
      log('info', `provisioning through DPS at ${registration.endpoint} (scope ${inputs.idScope}, registration ${inputs.registrationId})`);
      const started = deps.timers.now();
      try {
        const result = await client.register({
          idScope: registration.idScope,
          attestation: registration.attestation,
          trustedCAs,
          endpoint: registration.endpoint,
        });
        log('info', `assigned to hub ${result.assignedHub} as device ${result.deviceId}`);
        const assignedAt = deps.clock.unixMs();
        const saved = assignments.save({
          hubHost: result.assignedHub,
          deviceId: result.deviceId,
          dps: inputs,
          ...(assignedAt === undefined ? {} : { assignedAt }),
          ...(result.substatus === undefined ? {} : { substatus: result.substatus }),
        });
        if (!saved.ok) log('warn', `the assignment could not be stored (${saved.error.message}); the next boot provisions again`);
        return { assignedHub: result.assignedHub, deviceId: result.deviceId, fresh: true };
      } catch (error) {
        const dps = error as DpsError;
        if (cancelled) throw error;
        if (!dps.retryable) throw error;
        const delay = backoffDelay(
          { attempt, attemptDurationMs: deps.timers.now() - started, throttled: dps.status === 429, random: random() },
          DEFAULT_BACKOFF,
        );
        const wait = Math.max(delay, (dps.retryAfterSeconds ?? 0) * 1000);
        log('warn', `provisioning failed (${dps.message}); trying again in ${wait} ms`);
        await pause(wait);
      }
    }
  };

  return {
    result: run(),
    cancel() {
      cancelled = true;
      client.cancel();
      if (waitTimer !== undefined) deps.timers.clearTimeout(waitTimer);
      waitTimer = undefined;
      rejectWait?.(new Error('provisioning cancelled'));
      rejectWait = undefined;
    },
  };
}
