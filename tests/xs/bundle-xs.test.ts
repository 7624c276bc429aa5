import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';
import { startXsnap } from '../helpers/xsnap-driver';
import { callXsApp } from '../helpers/xs-host-bridge';

describe('bundleForXs', () => {
  test('makes one plain script (no module syntax, no require) that XS runs as is', async () => {
    const script = await bundleForXs('hosts/xsnap/main.ts');
    expect(script).not.toMatch(/\brequire\(|^\s*(import|export)\s/m);
    const xs = startXsnap({ name: 'bundle-main' });
    try {
      await xs.evaluate(script);
      expect(await callXsApp(xs, 'ping', { n: 1 })).toEqual({ n: 1 });
    } finally {
      await xs.close();
    }
  });

  test('refuses an entry that imports a Node built-in, naming the import and the file', async () => {
    await expect(bundleForXs('tests/xs/entries/imports-node.ts')).rejects.toThrow(
      /"node:crypto" is a Node built-in module; XS has none \(imported from .*tests\/xs\/entries\/imports-node\.ts\)/,
    );
  });
});

describe('bundle-xs CLI', () => {
  test('writes <outdir>/<entry name>.js and prints its size', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'bundle-xs-'));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['scripts/bundle-xs.mjs', 'hosts/xsnap/main.ts', '--outdir', outdir]);
      const written = readFileSync(join(outdir, 'main.js'), 'utf8');
      expect(stdout.trim()).toBe(`${join(outdir, 'main.js')}  ${Buffer.byteLength(written).toLocaleString('en-US')} bytes`);
      expect(written).toBe(await bundleForXs('hosts/xsnap/main.ts'));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
