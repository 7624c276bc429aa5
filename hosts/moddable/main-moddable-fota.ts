// The firmware with firmware updates over the air wired in (docs/fota.md): main-moddable plus the FOTA module,
// built from manifest_fota.json. The base build (manifest.json) carries none of this. Configuration:
//   fotaKeys           the vendor public keys, base64, comma-separated (one or two key slots)
//   fotaFragmentBytes  the largest fragment buffer (default 4096)
//   fotaSlotBytes      the largest image the slot takes (default 1572864, an ESP32 OTA partition of 1.5 MB)
//   fotaTrustBundleBytes  the largest signed root-certificate bundle taken (default 16384, never more than the
//                      device profile's largest C2D payload; 0 turns root bundles off)
// Signed root bundles (src/fota/trust-bundle.ts) are kept in the host's store beside the DPS assignment.
import config from 'mc/config';
import { base64Decode } from '../../src/encoding/base64';
import { fotaModule } from '../../src/fota/fota-module';
import { TrustBundles } from '../../src/fota/trust-bundle';
import { FIRMWARE_VERSION } from '../../src/main';
import { createFotaSlot } from './fota-slot';
import { startOnModdable } from './main-moddable';
import { readModdableSettings } from './moddable-settings';

const settings = config as Readonly<Record<string, unknown>>;

function whole(name: string, fallback: number, zeroAllowed = false): number {
  const text = settings[name];
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isSafeInteger(value)) return fallback;
  return value > 0 || (zeroAllowed && value === 0) ? value : fallback;
}

function vendorKeys(): Array<Uint8Array | undefined> {
  const text = typeof settings['fotaKeys'] === 'string' ? settings['fotaKeys'] : '';
  return text
    .split(',')
    .filter((part) => part.trim() !== '')
    .slice(0, 2)
    .map((part) => {
      const key = base64Decode(part.trim());
      return key.ok && key.value.length === 32 ? key.value : undefined;
    });
}

export default function main(): ReturnType<typeof startOnModdable> {
  return startOnModdable((host) => {
    const keys = vendorKeys();
    if (keys.filter((key) => key !== undefined).length === 0) {
      host.logger.log('error', 'main: fotaKeys holds no 32-byte base64 key: firmware updates are off');
      return { platform: {}, ownClock: false };
    }
    const file = settings['file'] as { root?: unknown } | undefined;
    const root = typeof file?.root === 'string' ? file.root : '/';
    const fota = createFotaSlot(root, FIRMWARE_VERSION, whole('fotaSlotBytes', 1_572_864));
    let running = FIRMWARE_VERSION;
    const bundleBytes = Math.min(whole('fotaTrustBundleBytes', 16 * 1024, true), readModdableSettings(settings).profile.maxC2dPayloadBytes);
    const trust = bundleBytes === 0 ? undefined : new TrustBundles({ store: host.store, maxBytes: bundleBytes, log: (message) => host.logger.log('info', `fota: ${message}`) });
    return {
      platform: {
        modules: [fotaModule({ slot: fota.slot, keys: [keys[0], keys[1]], runningVersion: () => running, maxFragmentBytes: whole('fotaFragmentBytes', 4096), ...(trust === undefined ? {} : { trust }) })],
        firmwareVersion: () => running,
      },
      ownClock: false,
      // Each start of the firmware (a board boot, or a restart in place on the simulator) asks the slot what runs.
      watch: (firmware) =>
        void firmware.on('state', ({ state }) => {
          if (state === 'waiting-for-clock') running = fota.startVersion();
        }),
    };
  });
}
