// The update slot on the Moddable simulator (lin, mac) and boards with a file system: Moddable's `file` module.
// `<base>.slot` receives the image, `<base>.boot` (JSON, replaced by writing a temporary file and renaming it) says
// which version boots, as on the Node host (hosts/node/file-slot.ts): a new image runs on trial until it confirms;
// one that starts a second time unconfirmed is rolled back. The simulator runs the same code whatever the image
// holds, so the "version" is what the boot file says.
import { File } from 'file';
import { trialBoot, type SlotBootState as BootState, type UpdateSlot } from '../../src/fota/update-slot';
import { utf8Decode, utf8Encode } from '../../src/encoding/utf8';

export class ModdableFileSlot implements UpdateSlot {
  private file: File | undefined;
  private readonly imagePath: string;
  private readonly bootPath: string;

  constructor(
    base: string,
    private readonly builtInVersion: string,
    readonly capacity: number,
  ) {
    this.imagePath = `${base}.slot`;
    this.bootPath = `${base}.boot`;
  }

  /** What boots now; called once per start of the firmware. */
  startVersion(): string {
    const next = trialBoot(this.read());
    if (next.save !== undefined) this.save(next.save);
    return next.boots;
  }

  begin(size: number, resumeFrom: number): number {
    this.close();
    const held = File.exists(this.imagePath) ? this.lengthOf(this.imagePath) : 0;
    if (resumeFrom > 0 && resumeFrom <= held && size <= this.capacity) {
      // `file` has no truncate: keep the first resumeFrom bytes by copying them into a fresh file.
      if (resumeFrom < held) this.keepFirst(resumeFrom);
      this.file = new File(this.imagePath, true);
      this.file.position = resumeFrom;
      return resumeFrom;
    }
    File.delete(this.imagePath);
    this.file = new File(this.imagePath, true);
    return 0;
  }

  write(offset: number, bytes: Uint8Array): void {
    if (this.file === undefined) throw new Error('slot not open');
    this.file.position = offset;
    // `file` takes whole ArrayBuffers; the fragment is a view into the downloader's buffer.
    this.file.write(bytes.slice().buffer as ArrayBuffer);
  }

  finish(): void {
    this.close();
  }

  activate(version: string): void {
    this.save({ version: this.read().version, trial: version, trialStarts: 0 });
  }

  confirm(): void {
    const state = this.read();
    if (state.trial !== undefined) this.save({ version: state.trial });
  }

  rollback(): void {
    this.close();
    const state = this.read();
    if (state.trial !== undefined) this.save({ version: state.version });
    File.delete(this.imagePath);
  }

  private keepFirst(length: number): void {
    const from = new File(this.imagePath);
    const tmp = `${this.imagePath}.tmp`;
    File.delete(tmp);
    const to = new File(tmp, true);
    for (let at = 0; at < length; at += 4096) to.write(from.read(ArrayBuffer, Math.min(4096, length - at)));
    from.close();
    to.close();
    File.delete(this.imagePath);
    File.rename(tmp, this.imagePath.slice(this.imagePath.lastIndexOf('/') + 1));
  }

  private lengthOf(path: string): number {
    const file = new File(path);
    const length = file.length;
    file.close();
    return length;
  }

  private close(): void {
    this.file?.close();
    this.file = undefined;
  }

  private read(): BootState {
    try {
      if (!File.exists(this.bootPath)) return { version: this.builtInVersion };
      const file = new File(this.bootPath);
      const text = utf8Decode(new Uint8Array(file.read(ArrayBuffer)));
      file.close();
      const state = JSON.parse(text ?? '') as BootState;
      if (typeof state.version === 'string') return state;
    } catch {
      // A damaged boot file: the built-in image runs.
    }
    return { version: this.builtInVersion };
  }

  private save(state: BootState): void {
    const tmp = `${this.bootPath}.tmp`;
    File.delete(tmp);
    const file = new File(tmp, true);
    const bytes = utf8Encode(JSON.stringify(state));
    file.write(bytes.buffer as ArrayBuffer);
    file.close();
    // rename() replaces the old file in one step where the file system can (lin, LittleFS); where it refuses an
    // existing target, the old file goes first (a power cut between the two boots the built-in version).
    const name = this.bootPath.slice(this.bootPath.lastIndexOf('/') + 1);
    if (!File.rename(tmp, name)) {
      File.delete(this.bootPath);
      File.rename(tmp, name);
    }
  }
}
