// Fetches an image into the update slot fragment by fragment: one Range GET per fragment into one fragment buffer
// (allocated once, its size within the byte budget), then the fragment is hashed, written to the slot and the
// progress record saved, in that order. A drop or a power cut loses at most the fragment in flight: the download
// resumes from the last fragment stored, with the hash state saved beside it. Failures are decided by the one
// failure policy (path `fota`): a retry waits the backoff and continues, a stop moves to the next location, and the
// download fails when no location is left or too many attempts in a row made no progress.

import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy, type RandomSource } from '../failure/backoff';
import { decideFailure, isRetry } from '../failure/failure-policy';
import type { Sha256 } from '../crypto/sha256';
import type { TimerHandle, Timers } from '../ports';
import type { HttpError, HttpsClient } from '../http/https-client';
import { errorText } from '../errors';
import { ok, type Result } from '../result';
import { fotaError, type FotaError } from './fota-error';
import type { FotaManifest } from './manifest';
import type { UpdateSlot } from './update-slot';

export interface ImageDownloadOptions {
  http: HttpsClient;
  slot: UpdateSlot;
  timers: Timers;
  random: RandomSource;
  backoff?: BackoffPolicy;
  /** Failed attempts in a row (no fragment stored in between) before the download fails. Default 10. */
  maxAttempts?: number;
  /** The fragment buffer's size: the manifest's fwFragmentSize, capped by the device's budget. */
  fragmentBytes: number;
  /** Persists progress after a fragment is in the slot; a failure here fails the download. */
  saveProgress(offset: number, hash: Sha256): Result<undefined, FotaError>;
  progress(offset: number): void;
  log(message: string): void;
}

export class ImageDownload {
  private readonly buffer: Uint8Array;
  private fill = 0;
  private locationIndex = 0;
  private attempts = 0;
  private timer: TimerHandle | undefined;
  private over = false;
  private done: ((result: Result<Uint8Array, FotaError>) => void) | undefined;

  constructor(
    private readonly options: ImageDownloadOptions,
    private readonly manifest: FotaManifest,
    private offset: number,
    private readonly hash: Sha256,
  ) {
    this.buffer = new Uint8Array(options.fragmentBytes);
  }

  /** Bytes stored so far. */
  get stored(): number {
    return this.offset;
  }

  /** Runs to the end; `done` gets the image's SHA-256 (every byte is in the slot) or why it stopped. */
  start(done: (result: Result<Uint8Array, FotaError>) => void): void {
    this.done = done;
    this.next();
  }

  /** Stops without calling `done`; the slot and the record keep what was stored. */
  cancel(): void {
    this.over = true;
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.options.http.close();
  }

  private next(): void {
    this.timer = undefined;
    if (this.over) return;
    const { size } = this.manifest;
    if (this.offset === size) return this.finish(ok(this.hash.digest()));
    const length = Math.min(this.buffer.length, size - this.offset);
    const location = this.manifest.locations[this.locationIndex]!;
    this.fill = 0;
    this.options.http.getRange(
      { host: location.host, port: location.port, path: location.path, start: this.offset, end: this.offset + length },
      {
        body: (chunk) => {
          this.buffer.set(chunk, this.fill);
          this.fill += chunk.length;
        },
        // Slot writes and the store are not done from inside the socket callback: a later job does them.
        done: (result) => {
          void Promise.resolve().then(() => {
            if (this.over) return;
            if (result.ok) this.fragmentArrived(result.value, length);
            else this.failed(result.error);
          });
        },
      },
    );
  }

  private fragmentArrived(total: number, length: number): void {
    const { size } = this.manifest;
    if (total < size) return this.finish(fotaError('short-download', `the server holds ${total} of ${size} bytes`));
    if (total > size) return this.finish(fotaError('oversize', `the server holds ${total} bytes, the manifest says ${size}`));
    const fragment = this.buffer.subarray(0, length);
    this.hash.update(fragment);
    try {
      this.options.slot.write(this.offset, fragment);
    } catch (error) {
      return this.finish(fotaError('storage', `slot write at ${this.offset} failed: ${errorText(error)}`));
    }
    this.offset += length;
    const saved = this.options.saveProgress(this.offset, this.hash);
    if (!saved.ok) return this.finish(saved);
    this.attempts = 0;
    this.options.progress(this.offset);
    this.next();
  }

  private failed(error: HttpError): void {
    if (error.code === 'short-file') return this.finish(fotaError('short-download', error.message));
    const decision = decideFailure('fota', error.cause);
    if (!isRetry(decision)) {
      this.locationIndex++;
      if (this.locationIndex >= this.manifest.locations.length) return this.finish(fotaError('download', error.message));
      this.options.log(`${error.message}; trying location ${this.locationIndex + 1}`);
      this.next();
      return;
    }
    this.attempts++;
    const max = this.options.maxAttempts ?? 10;
    if (this.attempts > max) return this.finish(fotaError('download', `${error.message} (${max} attempts without progress)`));
    const delay = backoffDelay(
      { attempt: this.attempts - 1, attemptDurationMs: 0, throttled: decision === 'retry-throttled', random: this.options.random() },
      this.options.backoff ?? DEFAULT_BACKOFF,
    );
    this.options.log(`${error.message}; resuming at byte ${this.offset} in ${delay} ms`);
    this.timer = this.options.timers.setTimeout(() => this.next(), delay);
  }

  private finish(result: Result<Uint8Array, FotaError>): void {
    if (this.over) return;
    this.over = true;
    this.options.http.close();
    this.done?.(result);
  }
}
