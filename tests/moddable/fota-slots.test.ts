// The Moddable update slots on Node, with fakes of the SDK's `ota` and `file` modules (tests/moddable/fakes):
// ESP32's OTA partition is activated only by activate() (ota.complete sets the boot partition), and the file slot
// of the simulator resumes, boots a new image on trial and rolls back one that never confirms.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EspOtaSlot } from '../../hosts/moddable/ota-slot';
import { ModdableFileSlot } from '../../hosts/moddable/moddable-file-slot';
import type { UpdateSlot } from '../../src/fota/update-slot';
import { partition } from './fakes/ota';

describe('EspOtaSlot (ota module)', () => {
  test('writes in order; the partition boots only after activate; a dropped connection resumes, a new begin starts over', () => {
    const slot: UpdateSlot = new EspOtaSlot(1 << 20);
    expect(slot.begin(6, 0)).toBe(0);
    slot.write(0, Uint8Array.of(1, 2, 3));
    expect(slot.begin(6, 3)).toBe(3);
    slot.write(3, Uint8Array.of(4, 5, 6));
    slot.finish();
    expect(partition).toMatchObject({ bytes: [1, 2, 3, 4, 5, 6], boot: false, begun: 1 });
    slot.activate('1.2.0');
    expect(partition.boot).toBe(true);
    expect(slot.begin(6, 3)).toBe(0);
    expect(partition.begun).toBe(2);
    expect(() => slot.write(3, Uint8Array.of(1))).toThrow('ota: write at 3, 0 written');
    slot.rollback();
    expect(partition.cancelled).toBe(1);
  });

  test('finish refuses a partly written image', () => {
    const slot = new EspOtaSlot(1 << 20);
    slot.begin(4, 0);
    slot.write(0, Uint8Array.of(1));
    expect(() => slot.finish()).toThrow('ota: 1 of 4 bytes written');
  });
});

describe('ModdableFileSlot (file module)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'moddable-slot-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('resumes at a fragment boundary, dropping bytes written after it', () => {
    const base = join(dir, 'fw');
    const slot = new ModdableFileSlot(base, '0.1.0', 1 << 20);
    expect(slot.begin(8, 0)).toBe(0);
    slot.write(0, Uint8Array.of(1, 2, 3, 4, 5, 6));
    slot.finish();
    const again = new ModdableFileSlot(base, '0.1.0', 1 << 20);
    expect(again.begin(8, 4)).toBe(4);
    again.write(4, Uint8Array.of(7, 7, 7, 7));
    again.finish();
    expect([...readFileSync(`${base}.slot`)]).toEqual([1, 2, 3, 4, 7, 7, 7, 7]);
  });

  test('trial boot, confirm, and rollback of an image that starts twice unconfirmed', () => {
    const slot = new ModdableFileSlot(join(dir, 'fw'), '0.1.0', 1 << 20);
    expect(slot.startVersion()).toBe('0.1.0');
    slot.activate('1.2.0');
    expect(slot.startVersion()).toBe('1.2.0');
    expect(slot.startVersion()).toBe('0.1.0');
    slot.activate('1.2.0');
    expect(slot.startVersion()).toBe('1.2.0');
    slot.confirm();
    expect(slot.startVersion()).toBe('1.2.0');
    expect(JSON.parse(readFileSync(join(dir, 'fw.boot'), 'utf8'))).toEqual({ version: '1.2.0' });
  });
});
