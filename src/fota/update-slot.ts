// Where a new firmware image goes: the next OTA partition on an ESP32 (Moddable's `ota` module), a file beside the
// store on Node and on the Moddable simulator. Writes are sequential; the FOTA agent only writes bytes it has
// downloaded in full fragments and persists how far it got, so a slot that keeps its bytes across a power cut
// (a file) lets the download resume there, and one that cannot (ESP32's OTA handle) starts over from 0.
// Every method throws when the host fails (flash full, worn sector, power cut in a test).

export interface UpdateSlot {
  /** Largest image the slot takes, in bytes. */
  readonly capacity: number;
  /**
   * Opens the slot for an image of `size` bytes, keeping the first `resumeFrom` bytes already written for the same
   * image when it can. Returns how many bytes it kept (0 when it started over), where writing continues.
   */
  begin(size: number, resumeFrom: number): number;
  /** Appends `bytes` at `offset`, which is always the number of bytes the slot holds. */
  write(offset: number, bytes: Uint8Array): void;
  /** Every byte is written: flush and close. */
  finish(): void;
  /**
   * Boots the finished image next time (the old one stays until the new one confirms). `version` is the image's:
   * a file slot records it as what runs after the reboot; an ESP32 image carries its own.
   */
  activate(version: string): void;
  /** The running image is good: keep it (on ESP32: cancel the pending rollback). */
  confirm(): void;
  /** Drops a partly written or unconfirmed image; the host boots the old one. */
  rollback(): void;
}

/** What a file slot keeps about which version boots: the confirmed one, and a new one on trial. */
export interface SlotBootState {
  version: string;
  trial?: string;
  trialStarts?: number;
}

/**
 * The trial rule for slots without a bootloader of their own: a new image boots once on trial; started again
 * without confirming, it is rolled back (as an ESP32 bootloader treats an image that never marks itself valid).
 * Returns the version that boots and the state to save before it does.
 */
export function trialBoot(state: SlotBootState): { boots: string; save?: SlotBootState } {
  if (state.trial === undefined) return { boots: state.version };
  if ((state.trialStarts ?? 0) >= 1) return { boots: state.version, save: { version: state.version } };
  return { boots: state.trial, save: { ...state, trialStarts: 1 } };
}
