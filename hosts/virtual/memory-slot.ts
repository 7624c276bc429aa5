// An UpdateSlot in memory for tests and the virtual host: it keeps what a flash slot keeps across a power cut (the
// bytes written, the boot choice), can be told to fail at its Nth write (a power cut), and says which image a
// reboot would run, so a test checks "old image or new one fully verified, never a mix".
import type { UpdateSlot } from '../../src/fota/update-slot';

export class MemorySlot implements UpdateSlot {
  bytes = new Uint8Array(0);
  finished = false;
  /** The version a reboot would run, and whether it still has to confirm itself. */
  boot: { version: string; trial: boolean };
  private previous: string | undefined;
  /** Counts every call that changes the slot; `failAt` makes that call throw (then every later one). */
  writes = 0;
  failAt: number | undefined;

  constructor(
    runningVersion: string,
    readonly capacity = 1 << 20,
    /** false: like ESP32's OTA handle, a begin after a reboot starts over. */
    private readonly keepsBytes = true,
  ) {
    this.boot = { version: runningVersion, trial: false };
  }

  private step(): void {
    this.writes++;
    if (this.failAt !== undefined && this.writes >= this.failAt) throw new Error(`power cut at slot write ${this.writes}`);
  }

  begin(size: number, resumeFrom: number): number {
    this.step();
    this.finished = false;
    if (!this.keepsBytes || resumeFrom > this.bytes.length || size > this.capacity) {
      this.bytes = new Uint8Array(0);
      return 0;
    }
    this.bytes = this.bytes.slice(0, resumeFrom);
    return resumeFrom;
  }

  write(offset: number, bytes: Uint8Array): void {
    this.step();
    if (offset !== this.bytes.length) throw new Error(`slot write at ${offset}, holding ${this.bytes.length}`);
    const next = new Uint8Array(this.bytes.length + bytes.length);
    next.set(this.bytes);
    next.set(bytes, this.bytes.length);
    this.bytes = next;
  }

  finish(): void {
    this.step();
    this.finished = true;
  }

  activate(version: string): void {
    this.step();
    if (!this.finished) throw new Error('activate before finish');
    this.previous = this.boot.version;
    this.boot = { version, trial: true };
  }

  confirm(): void {
    this.step();
    this.boot = { version: this.boot.version, trial: false };
  }

  rollback(): void {
    this.step();
    if (this.boot.trial && this.previous !== undefined) this.boot = { version: this.previous, trial: false };
    this.bytes = new Uint8Array(0);
    this.finished = false;
  }

  /** A reboot: the version that runs now (the activated image, confirmed or still on trial). */
  reboot(): string {
    return this.boot.version;
  }

  /** Lets writes happen again (the power is back). */
  powerOn(): void {
    this.failAt = undefined;
  }
}
