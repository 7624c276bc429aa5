// The ESP32 update slot: Moddable's `ota` module writes the next OTA app partition. Its handle lives in RAM, so a
// reboot mid-download starts over at byte 0 (begin returns 0), while a dropped connection resumes (the handle is
// still open). `complete()` both ends the write and makes the partition boot next, so it is called only by
// activate(), after the FOTA agent has checked the image's SHA-256; finish() writes nothing.
// confirm() has no `ota` call to make: with the SDK's default bootloader the new partition boots for good once set.
// Rolling back an image that never connects needs the ESP-IDF app rollback (esp_ota_mark_app_valid_cancel_rollback),
// which the `ota` module does not expose.
import OTA from 'ota';
import type { UpdateSlot } from '../../src/fota/update-slot';

export class EspOtaSlot implements UpdateSlot {
  private ota: OTA | undefined;
  private written = 0;
  private size = 0;

  /** `capacity`: the OTA partition's size (partitions.csv of the build). */
  constructor(readonly capacity: number) {}

  begin(size: number, resumeFrom: number): number {
    if (this.ota !== undefined && this.size === size && resumeFrom === this.written) return this.written;
    this.cancelOpen();
    this.ota = new OTA({ byteLength: size });
    this.size = size;
    this.written = 0;
    return 0;
  }

  write(offset: number, bytes: Uint8Array): void {
    if (this.ota === undefined || offset !== this.written) throw new Error(`ota: write at ${offset}, ${this.written} written`);
    this.ota.write(bytes);
    this.written += bytes.length;
  }

  finish(): void {
    if (this.ota === undefined || this.written !== this.size) throw new Error(`ota: ${this.written} of ${this.size} bytes written`);
  }

  activate(): void {
    if (this.ota === undefined) throw new Error('ota: nothing to activate');
    this.ota.complete();
    this.ota = undefined;
  }

  confirm(): void {
    // Nothing to do through `ota`; see the header.
  }

  rollback(): void {
    this.cancelOpen();
  }

  private cancelOpen(): void {
    const ota = this.ota;
    this.ota = undefined;
    this.written = 0;
    if (ota !== undefined) {
      try {
        ota.cancel();
      } catch {
        // Already ended by an ESP-IDF error: nothing left to cancel.
      }
    }
  }
}
