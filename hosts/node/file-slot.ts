// The update slot of the Node host: files beside the device store. `<base>.slot` receives the image; `<base>.boot`
// (JSON, replaced atomically by rename) says which version boots: the confirmed one, or a new one on trial. A trial
// image that starts twice without confirming is rolled back, as an ESP32 bootloader does with an image that never
// marks itself valid. The Node host runs the same code whatever the image holds: the "version" is what this file
// says, and what the firmware reports.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeSync, writeFileSync } from 'node:fs';
import { trialBoot, type SlotBootState as BootState, type UpdateSlot } from '../../src/fota/update-slot';

export class FileSlot implements UpdateSlot {
  private fd: number | undefined;
  private readonly imagePath: string;
  private readonly bootPath: string;

  constructor(
    base: string,
    private readonly builtInVersion: string,
    readonly capacity = 16 * 1024 * 1024,
  ) {
    this.imagePath = `${base}.slot`;
    this.bootPath = `${base}.boot`;
  }

  /** What boots now: called once per start of the firmware. Counts a trial start; rolls back an unconfirmed one. */
  startVersion(): string {
    const next = trialBoot(this.read());
    if (next.save !== undefined) this.save(next.save);
    return next.boots;
  }

  begin(size: number, resumeFrom: number): number {
    this.close();
    const held = existsSync(this.imagePath) ? statSync(this.imagePath).size : 0;
    const keep = resumeFrom > 0 && resumeFrom <= held && size <= this.capacity ? resumeFrom : 0;
    this.fd = openSync(this.imagePath, keep > 0 ? 'r+' : 'w');
    truncateSync(this.imagePath, keep);
    return keep;
  }

  write(offset: number, bytes: Uint8Array): void {
    if (this.fd === undefined) throw new Error('slot not open');
    writeSync(this.fd, bytes, 0, bytes.length, offset);
  }

  finish(): void {
    if (this.fd === undefined) throw new Error('slot not open');
    fsyncSync(this.fd);
    this.close();
  }

  activate(version: string): void {
    const state = this.read();
    this.save({ version: state.version, trial: version, trialStarts: 0 });
  }

  confirm(): void {
    const state = this.read();
    if (state.trial !== undefined) this.save({ version: state.trial });
  }

  rollback(): void {
    this.close();
    const state = this.read();
    if (state.trial !== undefined) this.save({ version: state.version });
    rmSync(this.imagePath, { force: true });
  }

  private close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private read(): BootState {
    try {
      const state = JSON.parse(readFileSync(this.bootPath, 'utf8')) as BootState;
      if (typeof state.version === 'string') return state;
    } catch {
      // No boot file yet (or a damaged one): the built-in image runs.
    }
    return { version: this.builtInVersion };
  }

  private save(state: BootState): void {
    writeFileSync(`${this.bootPath}.tmp`, JSON.stringify(state));
    renameSync(`${this.bootPath}.tmp`, this.bootPath);
  }
}
