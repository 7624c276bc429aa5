// The Node host's side of FOTA: the file slot beside the store (resume, trial boot, confirm, rollback of an image
// that never confirms) and the --fota-key flag of `npm run device`.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSlot } from '../../hosts/node/file-slot';
import { NodeEntryError, readFotaKey, readNodeSettings } from '../../hosts/node/main-node';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fota-node-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the file slot', () => {
  test('keeps written bytes for a resume, cuts what came after the resume point', () => {
    const slot = new FileSlot(join(dir, 'dev'), '1.0.0');
    expect(slot.begin(10, 0)).toBe(0);
    slot.write(0, Uint8Array.from([1, 2, 3, 4]));
    slot.write(4, Uint8Array.from([5, 6]));
    const again = new FileSlot(join(dir, 'dev'), '1.0.0');
    expect(again.begin(10, 4)).toBe(4);
    again.write(4, Uint8Array.from([9, 9, 9, 9, 9, 9]));
    again.finish();
    expect([...readFileSync(join(dir, 'dev.slot'))]).toEqual([1, 2, 3, 4, 9, 9, 9, 9, 9, 9]);
    expect(new FileSlot(join(dir, 'dev'), '1.0.0').begin(10, 20)).toBe(0);
  });

  test('an activated image runs on trial; confirmed it stays, unconfirmed it is rolled back at the next start', () => {
    const base = join(dir, 'dev');
    const slot = new FileSlot(base, '1.0.0');
    expect(slot.startVersion()).toBe('1.0.0');
    slot.begin(1, 0);
    slot.write(0, Uint8Array.of(7));
    slot.finish();
    slot.activate('1.2.0');
    expect(slot.startVersion()).toBe('1.2.0');
    expect(slot.startVersion()).toBe('1.0.0');
    slot.activate('1.2.0');
    expect(slot.startVersion()).toBe('1.2.0');
    slot.confirm();
    expect(slot.startVersion()).toBe('1.2.0');
    expect(JSON.parse(readFileSync(`${base}.boot`, 'utf8'))).toEqual({ version: '1.2.0' });
    slot.rollback();
    expect(existsSync(`${base}.slot`)).toBe(false);
    expect(slot.startVersion()).toBe('1.2.0');
  });
});

describe('npm run device -- --fota-key', () => {
  test('needs --store, takes at most two keys, and reads 32-byte base64 keys', () => {
    expect(() => readNodeSettings(['--fota-key', 'a.pub'])).toThrow(new NodeEntryError('--fota-key needs --store (the update slot is a file beside it)'));
    expect(() => readNodeSettings(['--store', 's.bin', '--fota-key', 'a', '--fota-key', 'b', '--fota-key', 'c'])).toThrow('--fota-key: at most two key slots');
    expect(readNodeSettings(['--store', join(dir, 's.bin'), '--fota-key', join(dir, 'a.pub')]).fotaKeyFiles).toEqual([join(dir, 'a.pub')]);
    writeFileSync(join(dir, 'a.pub'), `${Buffer.alloc(32, 1).toString('base64')}\n`);
    expect(readFotaKey(join(dir, 'a.pub'))).toEqual(new Uint8Array(32).fill(1));
    writeFileSync(join(dir, 'b.pub'), 'AAAA');
    expect(() => readFotaKey(join(dir, 'b.pub'))).toThrow(`--fota-key ${join(dir, 'b.pub')}: not an Ed25519 public key (32 bytes in base64)`);
  });
});
