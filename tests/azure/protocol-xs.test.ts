// The Azure protocol functions on the real XS engine (@agoric/xsnap): the same calls must give the same
// transcript there as on Node, including error shapes, Date formatting and regular expressions.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startXsnap, XSNAP_WORKER_PATH } from '../helpers/xsnap-driver';
import type { XsnapDriver } from '../helpers/xsnap-driver';
import { runProtocolBattery, testHmacSha256 } from './protocol-battery';
import { hmacSha256 } from './support';

let xs: XsnapDriver | undefined;

beforeAll(async () => {
  if (!existsSync(XSNAP_WORKER_PATH)) throw new Error(`xsnap worker missing at ${XSNAP_WORKER_PATH}: run npm rebuild @agoric/xsnap`);
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./protocol-xs-entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    logLevel: 'silent',
  });
  xs = startXsnap({ name: 'azure-protocol-xs' });
  await xs.evaluate(bundle.outputFiles[0]!.text);
});

afterAll(async () => {
  await xs?.close();
});

describe('the Azure protocol functions run unchanged on XS', () => {
  test('the battery HMAC agrees with node:crypto', () => {
    const key = Uint8Array.from({ length: 100 }, (_, i) => i);
    for (const k of [key.subarray(0, 8), key.subarray(0, 64), key]) {
      const data = Uint8Array.from({ length: 130 }, (_, i) => i * 3);
      expect(Buffer.from(testHmacSha256(k, data))).toEqual(Buffer.from(hmacSha256(k, data)));
    }
  });

  test('Node transcript holds the known values', () => {
    const lines = runProtocolBattery();
    expect(lines).toContain('hmac vector: o1n1hiIVgzVA2+krq9ty1Z4xsIJKJZP3dYT8MOi65Y4=');
    expect(lines).toContain('group key: Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=');
    expect(lines).toContain(
      'hub token: SharedAccessSignature sr=contoso.azure-devices.net%2Fdevices%2Fdevice-1&sig=ocbX%2BoCwamWD0U%2BRlrXq6kar6aGprl7iKeA%2B5982AAI%3D&se=1700000000',
    );
    expect(lines).toContain('clock unset: error clock-not-set [clock: the wall clock is not set (no SNTP yet): cannot sign]');
    expect(lines.filter((l) => l.includes('BADLY-SHAPED'))).toEqual([]);
  });

  test('XS gives the same transcript as Node, line for line', async () => {
    const { reply } = await xs!.command(new Uint8Array([0]));
    const xsLines = Buffer.from(reply).toString('utf8').split('\n');
    expect(xsLines).toEqual(runProtocolBattery());
  });
});
