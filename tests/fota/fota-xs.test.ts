// The device's image check on the real XS engine (@agoric/xsnap): the streaming SHA-256 and tweetnacl's Ed25519
// verify of the manifest give the same answers there as node:crypto and Node: a good image and signature, a
// tampered image, a wrong signature, an unknown key.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';
import { startXsnap, XSNAP_WORKER_PATH, type XsnapDriver } from '../helpers/xsnap-driver';
import { image, sha256Hex, signedFirmware, STRANGER, VENDOR_A, VENDOR_B } from './fota-fixture';

let xs: XsnapDriver | undefined;
const KEYS = [VENDOR_A.publicKey, VENDOR_B.publicKey].map((k) => Buffer.from(k).toString('base64'));
const IMAGE = image(20_000, 3);

beforeAll(async () => {
  if (!existsSync(XSNAP_WORKER_PATH)) throw new Error(`xsnap worker missing at ${XSNAP_WORKER_PATH}: run npm rebuild @agoric/xsnap`);
  xs = startXsnap({ name: 'fota-xs' });
  await xs.evaluate(await bundleForXs('tests/fota/fota-xs-entry.ts'));
});

afterAll(async () => {
  await xs?.close();
});

async function ask(request: object): Promise<Record<string, unknown>> {
  const { reply } = await xs!.command(new TextEncoder().encode(JSON.stringify(request)));
  return JSON.parse(Buffer.from(reply).toString('utf8')) as Record<string, unknown>;
}

describe('SHA-256 streaming and the Ed25519 verify run on XS', () => {
  test('a good image: the digest node:crypto gives, signed by vendor slot 0 (and slot 1)', async () => {
    const firmware = signedFirmware(IMAGE, { version: '1.2.0' });
    expect(await ask({ op: 'check', image: Buffer.from(IMAGE).toString('base64'), firmware, keys: KEYS })).toEqual({ sha256: sha256Hex(IMAGE), manifest: 'ok', signature: 0 });
    const second = signedFirmware(IMAGE, { version: '1.2.0', key: VENDOR_B });
    expect(await ask({ op: 'check', image: Buffer.from(IMAGE).toString('base64'), firmware: second, keys: KEYS })).toMatchObject({ signature: 1 });
  });

  test('a tampered image hashes to another digest; a wrong signature and an unknown key are refused', async () => {
    const tampered = IMAGE.slice();
    tampered[12_345] ^= 0x80;
    const firmware = signedFirmware(IMAGE, { version: '1.2.0' });
    const check = await ask({ op: 'check', image: Buffer.from(tampered).toString('base64'), firmware, keys: KEYS });
    expect(check['sha256']).toBe(sha256Hex(tampered));
    expect(check['sha256']).not.toBe(firmware['sha256']);
    const forged = { ...firmware, fwVersion: '1.3.0' };
    expect(await ask({ op: 'check', image: '', firmware: forged, keys: KEYS })).toMatchObject({ signature: 'bad-signature' });
    expect(await ask({ op: 'check', image: '', firmware: signedFirmware(IMAGE, { version: '1.2.0', key: STRANGER }), keys: KEYS })).toMatchObject({ signature: 'unknown-key' });
    expect(await ask({ op: 'check', image: '', firmware: 'not an object', keys: KEYS })).toEqual({ manifest: 'not-object' });
  });

  test('1 KB updates stream to the digest of the whole', async () => {
    const chunk = Buffer.alloc(1024);
    for (let i = 0; i < 1024; i++) chunk[i] = (i * 7) & 0xff;
    expect(await ask({ op: 'hash', kb: 64 })).toEqual({ sha256: sha256Hex(Buffer.concat(Array(64).fill(chunk))) });
  });
});
