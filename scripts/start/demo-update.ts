// `npm start -- --demo-update`: after the demo steps, a firmware update from the service side. The vendor key pair
// exists only in this process's memory (never written, never printed); the image is random bytes signed as 1.2.0,
// served by the emulator over HTTPS and named in the device's desired `firmware`. The device's reported
// `firmware` is followed until it says `current`.
import nacl from 'tweetnacl';
import { createHash, randomBytes } from 'node:crypto';
import type { Emulator } from '../../emulator/src/emulator';
import { signedManifestText } from '../../src/fota/manifest';
import { keyIdOf } from '../../src/fota/signature';

export interface DemoVendor {
  publicKey: Uint8Array;
  sign(image: Uint8Array, version: string): Record<string, unknown>;
}

/** A vendor key pair for this run only. */
export function demoVendor(): DemoVendor {
  const pair = nacl.sign.keyPair();
  return {
    publicKey: pair.publicKey,
    sign(image, version) {
      const fields = { fwVersion: version, fwSize: image.length, sha256: createHash('sha256').update(image).digest('hex'), allowDowngrade: false };
      const signature = nacl.sign.detached(Buffer.from(signedManifestText(fields), 'utf8'), pair.secretKey);
      return {
        ...fields,
        jobId: `demo-${version}`,
        fwLocation: { host: '127.0.0.1', path: `/fw/${version}.bin` },
        fwFragmentSize: 4096,
        keyId: keyIdOf(pair.publicKey),
        signature: Buffer.from(signature).toString('base64'),
      };
    },
  };
}

export async function runUpdateDemo(options: { emulator: Emulator; deviceId: string; vendor: DemoVendor; say(line: string): void; timeoutMs?: number }): Promise<void> {
  const { emulator, deviceId, vendor, say } = options;
  const timeout = options.timeoutMs ?? 60_000;
  const image = new Uint8Array(randomBytes(64 * 1024));
  const seen = new Set<string>();
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`the device did not report firmware current within ${timeout} ms`));
    }, timeout);
    const off = emulator.on('twin', (event) => {
      if (event.deviceId !== deviceId || event.section !== 'reported') return;
      const firmware = event.patch['firmware'] as Record<string, unknown> | undefined;
      if (firmware === undefined) return;
      const line = `${String(firmware['fwUpdateStatus'])}${firmware['progress'] === null || firmware['progress'] === undefined ? '' : ` ${String(firmware['progress'])} %`}`;
      if (!seen.has(line)) {
        seen.add(line);
        say(`fota: the device reports ${line} (current ${String(firmware['currentFwVersion'])})`);
      }
      if (firmware['fwUpdateStatus'] === 'current' && firmware['currentFwVersion'] === '1.2.0') {
        clearTimeout(timer);
        off();
        resolve(firmware);
      } else if (firmware['fwUpdateStatus'] === 'failed') {
        clearTimeout(timer);
        off();
        reject(new Error(`the update failed: ${JSON.stringify(firmware['error'])}`));
      }
    });
  });
  const deployed = await emulator.deployFirmware(deviceId, image, vendor.sign(image, '1.2.0'));
  const location = deployed['fwLocation'] as { port: number; path: string };
  say(`fota: serving a signed 1.2.0 image (${image.length} bytes) at https://127.0.0.1:${location.port}${location.path}; desired firmware set`);
  await done;
}
