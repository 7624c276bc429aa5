// `iot-store fota keygen | sign | verify`: the vendor makes a key pair (the private key only in the file named, mode
// 0600, never printed), signs an image into the desired `firmware` object the device accepts, and checks it.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runIotStore } from '../../scripts/iot-store';
import { parseManifest } from '../../src/fota/manifest';
import { verifyManifest } from '../../src/fota/signature';
import { createHash } from 'node:crypto';
import { DEFAULT_CERTS_DIR } from '../../hosts/node/default-roots';
import { pemToDer } from '../../emulator/src/pki';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iot-store-fota-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = runIotStore(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

describe('fota keygen, sign, verify', () => {
  test('a key pair, a signed manifest the device verifies, and the CLI check of manifest and image', () => {
    const key = join(dir, 'vendor.key');
    const pub = join(dir, 'vendor.pub');
    const made = cli('fota', 'keygen', '--private-key', key, '--public-key', pub);
    expect(made.code).toBe(0);
    const secret = readFileSync(key, 'utf8').trim();
    expect(Buffer.from(secret, 'base64')).toHaveLength(32);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(made.stdout).not.toContain(secret);
    expect(made.stdout).toMatch(/^private key written to .*vendor\.key .*\npublic key [A-Za-z0-9+/]{43}=\nkey id [0-9a-f]{8}\n$/);

    const imagePath = join(dir, 'fw.bin');
    writeFileSync(imagePath, Buffer.alloc(9000, 0x5a));
    const signed = cli('fota', 'sign', '--private-key', key, '--image', imagePath, '--version', '1.2.0', '--host', 'fw.example.com', '--path', '/fw/1.2.0.bin', '--port', '8443', '--job-id', 'job-9');
    expect(signed.code).toBe(0);
    expect(signed.stdout).not.toContain(secret);
    const firmware = JSON.parse(signed.stdout) as Record<string, unknown>;
    expect(firmware).toMatchObject({ fwVersion: '1.2.0', fwSize: 9000, jobId: 'job-9', fwLocation: { host: 'fw.example.com', port: 8443, path: '/fw/1.2.0.bin' }, fwFragmentSize: 4096, allowDowngrade: false });
    const manifest = parseManifest(firmware);
    if (!manifest.ok) throw new Error(manifest.error.message);
    const publicKey = new Uint8Array(Buffer.from(readFileSync(pub, 'utf8').trim(), 'base64'));
    expect(verifyManifest(manifest.value, [undefined, publicKey])).toEqual({ ok: true, value: 1 });

    const manifestPath = join(dir, 'm.json');
    writeFileSync(manifestPath, JSON.stringify({ firmware }));
    expect(cli('fota', 'verify', '--public-key', pub, '--manifest', manifestPath, '--image', imagePath)).toEqual({
      code: 0,
      stdout: `signature good: key ${firmware['keyId']} (slot 1), version 1.2.0, 9000 bytes\nimage matches: sha256 ${firmware['sha256']}\n`,
      stderr: '',
    });
    writeFileSync(imagePath, Buffer.alloc(9000, 0x5b));
    expect(cli('fota', 'verify', '--public-key', pub, '--manifest', manifestPath, '--image', imagePath)).toMatchObject({ code: 2, stderr: `iot-store: hash-mismatch: ${imagePath} is not the image the manifest names\n` });
    writeFileSync(manifestPath, JSON.stringify({ ...firmware, fwVersion: '1.3.0' }));
    expect(cli('fota', 'verify', '--public-key', pub, '--manifest', manifestPath)).toMatchObject({ code: 2, stderr: expect.stringContaining('iot-store: bad-signature: ') });
  });

  test('keygen never writes over a file; sign refuses a file that is not a private key', () => {
    const key = join(dir, 'vendor.key');
    writeFileSync(key, 'something else');
    expect(cli('fota', 'keygen', '--private-key', key)).toMatchObject({ code: 2, stderr: `iot-store: ${key} exists; not written over\n` });
    expect(readFileSync(key, 'utf8')).toBe('something else');
    writeFileSync(join(dir, 'fw.bin'), 'x');
    expect(cli('fota', 'sign', '--private-key', key, '--image', join(dir, 'fw.bin'), '--version', '1.0.0', '--host', 'h', '--path', '/p')).toMatchObject({
      code: 2,
      stderr: `iot-store: ${key} is not a private key (32 bytes in base64)\n`,
    });
  });

  test('sign --trust-bundle carries PEM and DER roots, signed through trustSha256; verify names the bundle; a file that is no certificate is refused', () => {
    const key = join(dir, 'vendor.key');
    const pub = join(dir, 'vendor.pub');
    expect(cli('fota', 'keygen', '--private-key', key, '--public-key', pub).code).toBe(0);
    const imagePath = join(dir, 'fw.bin');
    writeFileSync(imagePath, Buffer.alloc(100, 1));
    const pem = join(DEFAULT_CERTS_DIR, 'microsoft-rsa-root-ca-2017.pem');
    const der = join(DEFAULT_CERTS_DIR, 'digicert-global-root-g2.der');
    const signed = cli('fota', 'sign', '--private-key', key, '--image', imagePath, '--version', '1.0.0', '--host', 'h', '--path', '/p', '--trust-bundle', der, '--trust-bundle', pem);
    expect(signed.code).toBe(0);
    const firmware = JSON.parse(signed.stdout) as Record<string, unknown>;
    const roots = [readFileSync(der), Buffer.from(pemToDer(readFileSync(pem, 'utf8')))];
    expect(firmware['trustBundle']).toEqual(roots.map((r) => r.toString('base64')));
    expect(firmware['trustSha256']).toBe(createHash('sha256').update(roots[0]!).update(roots[1]!).digest('hex'));
    const manifest = parseManifest(firmware);
    if (!manifest.ok) throw new Error(manifest.error.message);
    const publicKey = new Uint8Array(Buffer.from(readFileSync(pub, 'utf8').trim(), 'base64'));
    expect(verifyManifest(manifest.value, [publicKey, undefined])).toEqual({ ok: true, value: 0 });
    const manifestPath = join(dir, 'm.json');
    writeFileSync(manifestPath, signed.stdout);
    expect(cli('fota', 'verify', '--public-key', pub, '--manifest', manifestPath).stdout).toBe(
      `signature good: key ${firmware['keyId']} (slot 1), version 1.0.0, 100 bytes\ntrust bundle: 2 root(s), ${roots[0]!.length + roots[1]!.length} bytes of DER, sha256 ${firmware['trustSha256']}\n`,
    );
    const notCert = join(dir, 'not-a-cert.der');
    writeFileSync(notCert, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]));
    expect(cli('fota', 'sign', '--private-key', key, '--image', imagePath, '--version', '1.0.0', '--host', 'h', '--path', '/p', '--trust-bundle', notCert)).toMatchObject({
      code: 2,
      stderr: `iot-store: ${notCert}: certificate 1 is not an X.509 certificate (a certificate is tbsCertificate, signatureAlgorithm, signature)\n`,
    });
    writeFileSync(notCert, Buffer.from([0x30, 0x83, 0x01]));
    expect(cli('fota', 'sign', '--private-key', key, '--image', imagePath, '--version', '1.0.0', '--host', 'h', '--path', '/p', '--trust-bundle', notCert)).toMatchObject({
      code: 2,
      stderr: `iot-store: ${notCert}: not DER at byte 0\n`,
    });
  });
});
