// The update slot of a FOTA build on the simulator (lin, mac): a file in the `file` module's root. On esp32 the
// FOTA manifest (manifest_fota.json) maps this module to fota-slot-esp32.ts instead, so each build carries one.
import type { UpdateSlot } from '../../src/fota/update-slot';
import { ModdableFileSlot } from './moddable-file-slot';

export interface FotaSlot {
  slot: UpdateSlot;
  /** The version that runs at this start (a new image is on trial until it confirms). */
  startVersion(): string;
}

export function createFotaSlot(fileRoot: string, builtInVersion: string, capacity: number): FotaSlot {
  const slot = new ModdableFileSlot(`${fileRoot}fota`, builtInVersion, capacity);
  return { slot, startVersion: () => slot.startVersion() };
}
