// `iot-store modem`: security tags written into the modem with AT%CMNG over the modem emulator's TCP stand-in for
// the UART, listed without secrets, deleted by part; bad input is refused before the modem is touched.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate, issueDeviceCertificate } from '../../emulator/src/pki';
import { ModemEmulator } from '../../emulator/src/modem/modem-emulator';
import { runIotStoreCommand } from '../../scripts/iot-store';

const ca = issueCertificate({ commonName: 'Hub CA', usage: 'ca' });
const device = issueDeviceCertificate('modem-cli-dev');
const stranger = issueDeviceCertificate('someone-else');
let dir: string;
let modem: ModemEmulator;

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runIotStoreCommand(['modem', '--tcp', `127.0.0.1:${modem.port}`, ...argv], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iot-store-modem-'));
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'cert.pem'), device.certPem);
  writeFileSync(join(dir, 'key.pem'), device.keyPem);
  writeFileSync(join(dir, 'stranger-key.pem'), stranger.keyPem);
  modem = await ModemEmulator.start();
});

afterAll(async () => {
  await modem.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('modem write, list, delete', () => {
  test('write puts CA, certificate and key into the tag with AT%CMNG while offline', async () => {
    const result = await cli('write', '16842753', '--ca', join(dir, 'ca.pem'), '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'));
    expect(result).toEqual({
      code: 0,
      stdout: 'tag 16842753: root CA written\ntag 16842753: client certificate written\ntag 16842753: client private key written\n',
      stderr: '',
    });
    const slot = modem.tags.get(16842753)!;
    expect([...slot.keys()]).toEqual([0, 1, 2]);
    expect(slot.get(1)!.trim()).toBe(device.certPem.replace(/\r\n/g, '\n').trim());
    // Offline for the write (the modem refuses %CMNG writes online), as the AT reference asks.
    const commands = modem.commands.filter((c) => c.startsWith('AT+CFUN') || c.startsWith('AT%CMNG=0'));
    expect(commands).toEqual(['AT+CFUN?', 'AT+CFUN=4', 'AT%CMNG=0,16842753,0,"..."', 'AT%CMNG=0,16842753,1,"..."', 'AT%CMNG=0,16842753,2,"..."']);
  });

  test('list shows tag, type and the SHA-256 the modem reports, never the content', async () => {
    const result = await cli('list');
    expect(result.code).toBe(0);
    const sha = (pem: string) => createHash('sha256').update(pem).digest('hex').toUpperCase();
    const slot = modem.tags.get(16842753)!;
    expect(result.stdout).toBe(
      `tag 16842753: root CA, sha256 ${sha(slot.get(0)!)}\ntag 16842753: client certificate, sha256 ${sha(slot.get(1)!)}\ntag 16842753: client private key, sha256 ${sha(slot.get(2)!)}\n`,
    );
    expect(result.stdout).not.toContain('BEGIN');
    const json = JSON.parse((await cli('list', '--json')).stdout) as { tags: { tag: number; type: number }[] };
    expect(json.tags.map((t) => t.type)).toEqual([0, 1, 2]);
  });

  test('delete removes the parts given', async () => {
    expect(await cli('delete', '16842753', '--part', 'key')).toEqual({ code: 0, stdout: 'tag 16842753: client private key deleted\n', stderr: '' });
    expect([...modem.tags.get(16842753)!.keys()]).toEqual([0, 1]);
  });
});

describe('bad input is refused before the modem is touched', () => {
  test.each([
    [['write', 'x', '--ca', 'ca.pem'], 'the tag must be an integer 0..2147483647'],
    [['write', '3'], 'write needs --ca, --cert or --key'],
    [['write', '3', '--cert', 'cert.pem', '--key', 'stranger-key.pem'], 'does not belong'],
    [['erase', '3'], 'unknown modem command'],
  ])('%j', async (argv, message) => {
    const before = modem.commands.length;
    const withPaths = argv.map((a) => (a.endsWith('.pem') ? join(dir, a) : a));
    const result = await cli(...withPaths);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(modem.commands.length).toBe(before);
  });
});
