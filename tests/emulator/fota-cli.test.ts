// `npm run emulator -- fota deploy | fota fault` from a second terminal: the running emulator (here in this process,
// found through its control.json) serves the image over HTTPS with its CA, sets the device's desired `firmware`
// with the location pointed at its image server, and applies image-server faults.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { runCli, type CliIo } from '../../emulator/src/cli/run';
import { startControlServer, type ControlServer } from '../../emulator/src/control/control-server';
import { writeControlInfo } from '../../emulator/src/control/control-client';
import { image, signedFirmware } from '../fota/fota-fixture';
import { addSasDevice, testTls } from './hub-fixture';

let dir: string;
let emulator: Emulator;
let control: ControlServer;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-fota-cli-'));
  emulator = await Emulator.start({ persist: false, tls: testTls(), dps: false });
  control = await startControlServer(emulator);
  writeControlInfo(dir, { port: control.port, token: control.token, pid: process.pid, hubHostName: emulator.hubHostName, hubPort: emulator.hubPort });
  addSasDevice(emulator, 'd1');
});

afterEach(async () => {
  await control.close();
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    cwd: dir,
    readTextFile: (p) => readFileSync(p, 'utf8'),
    readFile: (p) => new Uint8Array(readFileSync(p)),
    onInterrupt: () => () => {},
  };
  const code = await runCli([...argv, '--state-dir', dir], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function get(port: number, path: string, range: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca: emulator.caPem, headers: { range } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('cli.ts fota deploy', () => {
  test('serves the image by range and sets desired firmware pointing at it', async () => {
    const bytes = image(3000, 4);
    writeFileSync(join(dir, 'fw.bin'), bytes);
    const firmware = signedFirmware(bytes, { version: '1.2.0', host: 'fw.example.com', path: '/images/1.2.0.bin' });
    writeFileSync(join(dir, 'm.json'), JSON.stringify(firmware));
    const result = await cli('fota', 'deploy', 'd1', 'fw.bin', '--manifest', 'm.json');
    const port = (await emulator.fotaImages()).port;
    expect(result).toEqual({ code: 0, out: `serving 3000 bytes at https://127.0.0.1:${port}/images/1.2.0.bin; desired firmware 1.2.0 set for d1`, err: '' });
    expect(emulator.getTwin('d1').desired['firmware']).toEqual({ ...firmware, fwLocation: { host: '127.0.0.1', port, path: '/images/1.2.0.bin' } });
    const part = await get(port, '/images/1.2.0.bin', 'bytes=1000-1999');
    expect([part.status, part.headers['content-range'], part.headers['content-length']]).toEqual([206, 'bytes 1000-1999/3000', '1000']);
    expect(part.body.equals(Buffer.from(bytes.subarray(1000, 2000)))).toBe(true);

    expect(await cli('fota', 'fault', 'status', '--code', '503')).toEqual({ code: 0, out: 'image server fault status set', err: '' });
    expect((await get(port, '/images/1.2.0.bin', 'bytes=0-99')).status).toBe(503);
    expect((await get(port, '/images/1.2.0.bin', 'bytes=0-99')).status).toBe(206);
    expect((await cli('fota', 'fault', 'truncate', '--bytes', '500')).code).toBe(0);
    expect((await get(port, '/images/1.2.0.bin', 'bytes=1000-1999')).status).toBe(416);
    expect((await cli('fota', 'fault', 'clear')).code).toBe(0);
    expect(await cli('fota', 'fault', 'flip', '--offset', '1500')).toEqual({ code: 0, out: 'image server fault flip set', err: '' });
    const flipped = await get(port, '/images/1.2.0.bin', 'bytes=1000-1999');
    expect([flipped.body[500], flipped.body[499]]).toEqual([bytes[1500]! ^ 1, bytes[1499]]);
    expect((await cli('fota', 'fault', 'clear')).code).toBe(0);
    expect((await get(port, '/images/1.2.0.bin', 'bytes=1000-1999')).status).toBe(206);
  });

  test('a manifest carrying a trust bundle: deployed as signed, the bundle named in the output', async () => {
    const bytes = image(500, 6);
    writeFileSync(join(dir, 'fw.bin'), bytes);
    const firmware = signedFirmware(bytes, { version: '1.0.0', trustBundle: [emulator.caDer] });
    writeFileSync(join(dir, 'm.json'), JSON.stringify(firmware));
    const result = await cli('fota', 'deploy', 'd1', 'fw.bin', '--manifest', 'm.json');
    const port = (await emulator.fotaImages()).port;
    expect(result.out).toBe(`serving 500 bytes at https://127.0.0.1:${port}/fw/1.0.0.bin; desired firmware 1.0.0, with a trust bundle of 1 root(s) (trustSha256 ${String(firmware['trustSha256']).slice(0, 16)}...) set for d1`);
    expect(emulator.getTwin('d1').desired['firmware']).toMatchObject({ trustSha256: firmware['trustSha256'], trustBundle: firmware['trustBundle'] });
  });

  test('without --manifest: usage, exit 2', async () => {
    expect(await cli('fota', 'deploy', 'd1', 'fw.bin')).toMatchObject({ code: 2, err: expect.stringContaining('usage: fota deploy DEVICE_ID IMAGE --manifest M.json') });
  });
});
