// The telemetry journal on the real XS engine (@agoric/xsnap): the power-cut sweeps, budget runs and damaged
// segments of journal-battery.ts give the same transcript there as on Node, line for line.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startXsnap, XSNAP_WORKER_PATH, type XsnapDriver } from '../helpers/xsnap-driver';
import { runJournalBattery } from './journal-battery';

let xs: XsnapDriver | undefined;

beforeAll(async () => {
  if (!existsSync(XSNAP_WORKER_PATH)) throw new Error(`xsnap worker missing at ${XSNAP_WORKER_PATH}: run npm rebuild @agoric/xsnap`);
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./journal-xs-entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    logLevel: 'silent',
  });
  xs = startXsnap({ name: 'journal-xs', meteringLimit: 0 });
  await xs.evaluate(bundle.outputFiles[0]!.text);
});

afterAll(async () => {
  await xs?.close();
});

describe('the telemetry journal runs unchanged on XS', () => {
  test('XS gives the Node transcript, and it has no broken property', async () => {
    const node = runJournalBattery();
    expect(node.filter((line) => line.startsWith('FAIL'))).toEqual([]);
    const { reply } = await xs!.command(new Uint8Array([1]));
    expect(Buffer.from(reply).toString('utf8').split('\n')).toEqual(node);
  });
});
