// FOTA as an optional app module (src/app/app-module.ts): a host that wants updates passes
// `modules: [fotaModule({...})]` in its platform hooks; one that does not never loads src/fota or tweetnacl.

import type { AppModule } from '../app/app-module';
import { randomFromCrypto, type BackoffPolicy } from '../failure/backoff';
import { FotaAgent } from './fota-agent';
import type { VendorKeys } from './signature';
import type { UpdateSlot } from './update-slot';
import type { TrustBundles } from './trust-bundle';

export interface FotaModuleOptions {
  slot: UpdateSlot;
  keys: VendorKeys;
  /** The version running now; asked at every start (a file slot's answer changes with a reboot). */
  runningVersion(): string;
  /** The largest fragment buffer (bytes) the device affords. */
  maxFragmentBytes: number;
  backoff?: BackoffPolicy;
  connectTimeoutMs?: number;
  /** Signed root-certificate updates (src/fota/trust-bundle.ts); leave out to keep that code off the device. */
  trust?: TrustBundles;
}

export function fotaModule(options: FotaModuleOptions): AppModule & { agent(): FotaAgent | undefined } {
  let current: FotaAgent | undefined;
  return {
    ...(options.trust === undefined ? {} : { trust: options.trust }),
    agent: () => current,
    start(context) {
      const agent = new FotaAgent({
        hub: context.hub,
        transport: context.host.transport,
        timers: context.host.timers,
        store: context.host.store,
        slot: options.slot,
        random: randomFromCrypto(context.host.crypto),
        trustedCAs: context.trustedCAs,
        keys: options.keys,
        runningVersion: options.runningVersion(),
        maxFragmentBytes: options.maxFragmentBytes,
        reboot: context.reboot,
        log: context.log,
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
        ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
        ...(options.trust === undefined ? {} : { trust: options.trust }),
      });
      current = agent;
      agent.start();
      const off = context.hub.onDesired((patch, version) => agent.onDesired(patch, version));
      return () => {
        off();
        agent.stop();
        if (current === agent) current = undefined;
      };
    },
  };
}
