// Storage records, tags, certificate reading and the trust list on the real XS engine (@agoric/xsnap): the same
// calls must give the same transcript there as on Node.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startXsnap, XSNAP_WORKER_PATH, type XsnapDriver } from '../helpers/xsnap-driver';
import { loadDefaultRoots } from '../../hosts/node/default-roots';
import { runStorageBattery } from './storage-battery';

let xs: XsnapDriver | undefined;
const roots = loadDefaultRoots();

beforeAll(async () => {
  if (!existsSync(XSNAP_WORKER_PATH)) throw new Error(`xsnap worker missing at ${XSNAP_WORKER_PATH}: run npm rebuild @agoric/xsnap`);
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./storage-xs-entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    logLevel: 'silent',
  });
  xs = startXsnap({ name: 'storage-xs' });
  await xs.evaluate(bundle.outputFiles[0]!.text);
});

afterAll(async () => {
  await xs?.close();
});

function encodeRoots(): Uint8Array {
  const parts: number[] = [];
  for (const { name, der } of roots) {
    parts.push(name.length, ...Buffer.from(name, 'latin1'), der.length >>> 24, (der.length >>> 16) & 255, (der.length >>> 8) & 255, der.length & 255, ...der);
  }
  return Uint8Array.from(parts);
}

describe('storage and trust run unchanged on XS', () => {
  test('Node transcript holds the known values', () => {
    const lines = runStorageBattery(roots);
    expect(lines).toContain('crc32: cbf43926');
    expect(lines).toContain('sha256 abc: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(lines).toContain('record flips: bad-magic,checksum-mismatch,truncated,unknown-version,wrong-kind');
    expect(lines).toContain('baltimore-cybertrust-root: 2000-05-12T18:46:00.000Z .. 2025-05-12T23:59:00.000Z CN=Baltimore CyberTrust Root');
    expect(lines).toContain('trust log: warn trust: skipping baltimore-cybertrust-root: expired on 2025-05-12T23:59:00.000Z');
    expect(lines).toContain('trust list: cb3ccbb7 c741f70f');
  });

  test('XS gives the same transcript as Node, line for line', async () => {
    const { reply } = await xs!.command(encodeRoots());
    expect(Buffer.from(reply).toString('utf8').split('\n')).toEqual(runStorageBattery(roots));
  });
});
