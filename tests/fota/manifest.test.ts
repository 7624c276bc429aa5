// The update manifest read from the desired `firmware` object, its Ed25519 signature (tweetnacl) against two vendor
// key slots, version order, and the streaming SHA-256 the image is checked with.
import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Sha256, sha256 } from '../../src/crypto/sha256';
import { toHex } from '../../src/crypto/hex';
import { compareVersions, parseManifest, signedManifestText } from '../../src/fota/manifest';
import { keyIdOf, verifyManifest } from '../../src/fota/signature';
import { image, sha256Hex, signedFirmware, STRANGER, VENDOR_A, VENDOR_B } from './fota-fixture';

const IMAGE = image(5000);
const KEYS = [VENDOR_A.publicKey, VENDOR_B.publicKey] as const;

function parsed(value: unknown) {
  const result = parseManifest(value);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe('parsing the desired firmware object', () => {
  test('nRF field names plus size, digest, key id and signature become a typed manifest', () => {
    const m = parsed(signedFirmware(IMAGE, { version: '1.2.0', port: 8443, fragmentSize: 2048 }));
    expect(m).toMatchObject({
      version: '1.2.0',
      jobId: 'job-1.2.0',
      size: 5000,
      sha256Hex: sha256Hex(IMAGE),
      allowDowngrade: false,
      locations: [{ host: '127.0.0.1', port: 8443, path: '/fw/1.2.0.bin' }],
      fragmentSize: 2048,
      keyId: keyIdOf(VENDOR_A.publicKey),
    });
    expect(m.signature).toHaveLength(64);
  });

  test('several locations, default port 443 and fragment size 4096', () => {
    const value = { ...signedFirmware(IMAGE, { version: '1.2.0' }), fwFragmentSize: undefined, fwLocation: undefined, fwLocations: [{ host: 'a.example', path: '/x' }, { host: 'b.example', path: '/y', protocol: 'https' }] };
    const m = parsed(JSON.parse(JSON.stringify(value)));
    expect(m.locations).toEqual([{ host: 'a.example', port: 443, path: '/x' }, { host: 'b.example', port: 443, path: '/y' }]);
    expect(m.fragmentSize).toBe(4096);
  });

  test.each([
    ['a string', '"1.2.0"', 'not-object', undefined],
    ['an array', [1, 2], 'not-object', undefined],
    ['null-free number', 7, 'not-object', undefined],
  ])('a firmware value that is %s is refused as not-object', (_name, value, code, field) => {
    const result = parseManifest(value);
    expect(result).toEqual({ ok: false, error: { code, message: 'firmware must be a JSON object', ...(field ? { field } : {}) } });
  });

  test.each([
    ['fwVersion', 'v1', 'firmware.fwVersion must be a dotted version like 1.2.0'],
    ['fwSize', 0, 'firmware.fwSize must be a positive whole number of bytes'],
    ['sha256', 'ABC', 'firmware.sha256 must be 64 lowercase hex digits'],
    ['fwLocation', { host: 'x', path: 'relative' }, 'firmware.fwLocation.path must be an absolute path'],
    ['fwLocation', { protocol: 'http', host: 'x', path: '/a' }, 'firmware.fwLocation.protocol must be https'],
    ['fwFragmentSize', 10, 'firmware.fwFragmentSize must be 256 to 1048576 bytes'],
    ['keyId', 'nope', 'firmware.keyId must be 8 lowercase hex digits'],
    ['signature', 'AAAA', 'firmware.signature must be 64 bytes in base64'],
    ['allowDowngrade', 'yes', 'firmware.allowDowngrade must be true or false'],
  ])('a bad %s is refused naming the field', (field, value, message) => {
    const result = parseManifest({ ...signedFirmware(IMAGE, { version: '1.2.0' }), [field]: value });
    expect(result.ok ? undefined : result.error).toEqual({ code: 'bad-field', field: message.split(' ')[0]!.replace('firmware.', ''), message });
  });
});

describe('the signature', () => {
  test('covers exactly the JSON text of version, size, digest and downgrade permission', () => {
    expect(signedManifestText({ fwVersion: '1.2.0', fwSize: 5000, sha256: 'ab'.repeat(32), allowDowngrade: false })).toBe(
      `{"fwVersion":"1.2.0","fwSize":5000,"sha256":"${'ab'.repeat(32)}","allowDowngrade":false}`,
    );
  });

  test('a manifest signed with either vendor key verifies, naming the slot', () => {
    expect(verifyManifest(parsed(signedFirmware(IMAGE, { version: '1.2.0' })), KEYS)).toEqual({ ok: true, value: 0 });
    expect(verifyManifest(parsed(signedFirmware(IMAGE, { version: '1.2.0', key: VENDOR_B })), KEYS)).toEqual({ ok: true, value: 1 });
  });

  test('an unknown key is refused as unknown-key', () => {
    const result = verifyManifest(parsed(signedFirmware(IMAGE, { version: '1.2.0', key: STRANGER })), KEYS);
    expect(result).toEqual({ ok: false, error: { code: 'unknown-key', field: 'keyId', message: `firmware.keyId ${keyIdOf(STRANGER.publicKey)} is in no key slot` } });
  });

  test('any signed field changed after signing is refused as bad-signature', () => {
    const good = signedFirmware(IMAGE, { version: '1.2.0' });
    for (const change of [{ fwVersion: '1.2.1' }, { fwSize: 5001 }, { sha256: sha256Hex(image(10)) }, { allowDowngrade: true }]) {
      const result = verifyManifest(parsed({ ...good, ...change }), KEYS);
      expect(result.ok ? 'verified' : result.error.code).toBe('bad-signature');
    }
    const flipped = Buffer.from(good['signature'] as string, 'base64');
    flipped[10] ^= 1;
    expect(verifyManifest(parsed({ ...good, signature: flipped.toString('base64') }), KEYS)).toMatchObject({ ok: false, error: { code: 'bad-signature' } });
  });

  test('the location and fragment size are not signed: a mirror can move', () => {
    const moved = { ...signedFirmware(IMAGE, { version: '1.2.0' }), fwLocation: { host: 'mirror.example', path: '/other' }, fwFragmentSize: 512 };
    expect(verifyManifest(parsed(moved), KEYS)).toEqual({ ok: true, value: 0 });
  });

  test('an empty second slot is skipped', () => {
    expect(verifyManifest(parsed(signedFirmware(IMAGE, { version: '1.2.0', key: VENDOR_B })), [VENDOR_B.publicKey, undefined])).toEqual({ ok: true, value: 0 });
  });
});

describe('versions', () => {
  test('dotted numbers compare part by part; missing parts are 0', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('1.2', '1.2.0')).toBe(0);
    expect(compareVersions('0.1.0', '0.2')).toBeLessThan(0);
  });
});

describe('streaming SHA-256', () => {
  test('any split of the input gives the one-shot digest (and node:crypto)', () => {
    const data = image(1000);
    const expected = createHash('sha256').update(data).digest('hex');
    expect(toHex(sha256(data))).toBe(expected);
    for (const piece of [1, 3, 63, 64, 65, 200]) {
      const hash = new Sha256();
      for (let at = 0; at < data.length; at += piece) hash.update(data.subarray(at, at + piece));
      expect([piece, toHex(hash.digest())]).toEqual([piece, expected]);
    }
  });

  test('the saved state (105 bytes) continues after a restore', () => {
    const data = image(777);
    const first = new Sha256().update(data.subarray(0, 300));
    const state = first.save();
    expect(state).toHaveLength(105);
    const resumed = Sha256.restore(state)!;
    expect(resumed.length).toBe(300);
    expect(toHex(resumed.update(data.subarray(300)).digest())).toBe(sha256Hex(data));
    const bad = state.slice();
    bad[40] = 99;
    expect(Sha256.restore(bad)).toBeUndefined();
  });
});
