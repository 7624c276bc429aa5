// Firmware over the air, driven by the twin: the desired `firmware` object names an image (src/fota/manifest.ts);
// the agent checks its vendor signature and version, downloads it into the update slot, checks its SHA-256,
// activates it and reboots; after the reboot the new image confirms itself once it is connected again. Every step
// is reported under reported `firmware` (fwUpdateStatus, currentFwVersion, pendingFwVersion, jobId, error, progress)
// together with the Plug and Play acknowledgement of the writable property (ac, av, ad, value): 202 while working,
// 200 once current, 400 for a refused manifest, 500 for a failed update. Nothing touches the running image before
// the new one is downloaded in full and verified; the slot keeps the old one bootable until the new one confirms.

import type { JsonObject, JsonValue } from '../azure/json';
import { buildWritablePropertyAck } from '../azure/pnp';
import { Sha256 } from '../crypto/sha256';
import { toHex } from '../crypto/hex';
import { base64Decode, base64Encode } from '../encoding/base64';
import { errorText } from '../errors';
import type { BackoffPolicy, RandomSource } from '../failure/backoff';
import { HttpsClient } from '../http/https-client';
import type { KeyValueStore, LogLevel, Timers, TransportFactory } from '../ports';
import { ok, type Result } from '../result';
import type { StateMachine } from '../state-machine';
import { fotaError, fotaProblem, type FotaError } from './fota-error';
import { FotaRecordStore, type FotaRecord } from './fota-record';
import { fotaMachine, type FotaStatus } from './fota-state';
import { ImageDownload } from './image-download';
import { compareVersions, FOTA_PROPERTY, parseManifest, type FotaManifest } from './manifest';
import { verifyManifest, type VendorKeys } from './signature';
import type { UpdateSlot } from './update-slot';
import type { TrustBundles } from './trust-bundle';

export interface FotaAgentOptions {
  hub: { patchReported(patch: Record<string, unknown>): Promise<number | undefined> };
  transport: TransportFactory;
  timers: Timers;
  store: KeyValueStore;
  slot: UpdateSlot;
  random: RandomSource;
  /** The hub's trust list: images are fetched with the same roots. */
  trustedCAs: Uint8Array[];
  keys: VendorKeys;
  /** The version running now. */
  runningVersion: string;
  /** The largest fragment buffer the device affords; a larger fwFragmentSize is fetched in pieces of this size. */
  maxFragmentBytes: number;
  reboot(): void;
  log(level: LogLevel, message: string): void;
  backoff?: BackoffPolicy;
  maxAttempts?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Signed root-certificate updates (optional): without it a manifest carrying a trust bundle is refused. */
  trust?: TrustBundles;
}

interface Job {
  jobId: string;
  version: string;
  sha256: string;
  /** The desired $version being answered. */
  ackVersion: number;
}

/** Reported progress is sent when it crosses the next multiple of this percentage. */
const PROGRESS_STEP = 10;

export class FotaAgent {
  private readonly machine: StateMachine<FotaStatus, FotaStatus>;
  private readonly records: FotaRecordStore;
  private job: Job | undefined;
  private download: ImageDownload | undefined;
  private lastError: FotaError | null = null;
  private reported = 0;
  private reporting: Promise<unknown> = Promise.resolve();
  private stopped = false;
  /** A new trust bundle is stored: the device boots again to try it, and does nothing else meanwhile. */
  private restarting = false;

  constructor(private readonly options: FotaAgentOptions) {
    this.machine = fotaMachine((message) => this.log('error', message));
    this.records = new FotaRecordStore(options.store);
  }

  get status(): FotaStatus {
    return this.machine.state;
  }

  /** Settles when every report sent so far has been answered (or failed). */
  get settled(): Promise<unknown> {
    return this.reporting;
  }

  /** At start (connected): finishes what the last boot left, confirming a new image or noticing a rollback. */
  start(): void {
    const trust = this.options.trust;
    if (trust !== undefined) {
      trust.connected();
      this.reportTrust(trust);
    }
    const record = this.records.read();
    if (record === undefined) return;
    const job: Job = { jobId: record.jobId, version: record.version, sha256: record.sha256, ackVersion: record.ackVersion ?? 0 };
    const running = this.options.runningVersion;
    if ((record.phase === 'installed' || record.phase === 'verified') && running === record.version) {
      this.job = job;
      this.move('rebooting');
      this.confirm(record);
    } else if (record.phase === 'installed') {
      this.job = job;
      this.move('rebooting');
      this.safely(() => this.options.slot.rollback());
      this.fail(fotaProblem('rolled-back', `${record.version} did not confirm; running ${running}`), 500, record);
    }
    // downloading / verified on the old image: the desired twin names the job again after connecting and it resumes.
  }

  stop(): void {
    this.stopped = true;
    this.download?.cancel();
    this.download = undefined;
  }

  /** A desired patch or the whole desired section: acts when it holds `firmware`. */
  onDesired(patch: JsonObject, version: number): void {
    if (this.stopped || this.restarting || !Object.prototype.hasOwnProperty.call(patch, FOTA_PROPERTY)) return;
    const value = patch[FOTA_PROPERTY];
    if (value === null) return;
    if (this.machine.state === 'rebooting') {
      // An installed image waits for its reboot; the whole twin after it brings this request again.
      this.log('info', `desired firmware (version ${version}) left for after the reboot`);
      return;
    }
    const manifest = parseManifest(value);
    if (!manifest.ok) {
      this.cancelDownload();
      this.job = jobOf(value, version);
      return this.fail(manifest.error, 400);
    }
    const m = manifest.value;
    const job: Job = { jobId: m.jobId, version: m.version, sha256: m.sha256Hex, ackVersion: version };
    if (this.job !== undefined && sameJob(this.job, job) && this.machine.state !== 'failed' && this.machine.state !== 'current') {
      this.job.ackVersion = version;
      return; // already working on it (the whole twin again after a reconnect)
    }
    const record = this.records.read();
    if (record !== undefined && sameJob(record, job) && (record.phase === 'current' || record.phase === 'failed')) {
      this.job = job;
      if (record.phase === 'failed' && record.error !== undefined) this.lastError = record.error;
      return this.report(record.phase, record.phase === 'current' ? 200 : 500, record.phase === 'current' ? `updated to ${record.version}` : (record.error?.message ?? 'failed'));
    }
    this.cancelDownload();
    this.job = job;
    const refused = this.check(m);
    if (refused !== undefined) return this.fail(refused, 400);
    const trust = this.options.trust;
    if (trust !== undefined && m.trustSha256 !== undefined) {
      const offered = trust.offer(m.trustBundle, m.trustSha256);
      if (!offered.ok) return this.fail(offered.error, offered.error.code === 'storage' ? 500 : 400);
      if (offered.value) {
        // The image (if any) waits: after the boot with the new roots the same desired twin arrives again.
        this.restarting = true;
        this.reportTrust(trust);
        this.log('info', `trust bundle ${m.trustSha256.slice(0, 8)} stored; rebooting to try it`);
        void this.reporting.then(() => {
          if (!this.stopped) this.options.reboot();
        });
        return;
      }
    }
    if (compareVersions(m.version, this.options.runningVersion) === 0) {
      this.lastError = null;
      this.move('current');
      return this.report('current', 200, `already running ${m.version}`);
    }
    this.begin(m, record !== undefined && sameJob(record, job) ? record : undefined);
  }

  private check(m: FotaManifest): FotaError | undefined {
    const signed = verifyManifest(m, this.options.keys);
    if (!signed.ok) return signed.error;
    if (m.trustSha256 !== undefined && this.options.trust === undefined) return { code: 'bad-field', message: 'firmware.trustBundle is not taken by this device', field: 'trustBundle' };
    if (compareVersions(m.version, this.options.runningVersion) < 0 && !m.allowDowngrade) {
      return { code: 'downgrade', message: `firmware.fwVersion ${m.version} is older than ${this.options.runningVersion}`, field: 'fwVersion' };
    }
    if (m.size > this.options.slot.capacity) return { code: 'oversize', message: `firmware.fwSize ${m.size} is over the slot's ${this.options.slot.capacity}`, field: 'fwSize' };
    return undefined;
  }

  /** Starts or resumes the download (`record` is this job's progress from before a drop or a power cut). */
  private begin(m: FotaManifest, record: FotaRecord | undefined): void {
    let offset = 0;
    let hash = new Sha256();
    if (record?.phase === 'downloading' && record.offset !== undefined && record.hash !== undefined) {
      const state = base64Decode(record.hash);
      const restored = state.ok ? Sha256.restore(state.value) : undefined;
      if (restored !== undefined && restored.length === record.offset) {
        offset = record.offset;
        hash = restored;
      }
    }
    const verified = record?.phase === 'verified' || record?.phase === 'installed';
    let kept: number;
    try {
      kept = this.options.slot.begin(m.size, verified ? m.size : offset);
    } catch (error) {
      return this.fail(fotaProblem('storage', `slot begin failed: ${errorText(error)}`), 500);
    }
    this.lastError = null;
    if (verified && kept === m.size) {
      // Verified before a power cut: every byte is still in the slot; close it again and go on installing.
      try {
        this.options.slot.finish();
      } catch (error) {
        return this.fail(fotaProblem('storage', `slot finish failed: ${errorText(error)}`), 500);
      }
      this.move('applying');
      return this.activate(m, record!);
    }
    if (kept !== offset) {
      offset = 0;
      hash = new Sha256();
    }
    if (offset > 0) this.log('info', `resuming ${m.version} at byte ${offset} of ${m.size}`);
    this.move('downloading');
    this.reported = -1;
    this.onProgress(m, offset);
    const http = new HttpsClient({
      transport: this.options.transport,
      timers: this.options.timers,
      trustedCAs: this.options.trustedCAs,
      ...(this.options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.options.connectTimeoutMs }),
      ...(this.options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: this.options.idleTimeoutMs }),
    });
    const download = new ImageDownload(
      {
        http,
        slot: this.options.slot,
        timers: this.options.timers,
        random: this.options.random,
        ...(this.options.backoff === undefined ? {} : { backoff: this.options.backoff }),
        ...(this.options.maxAttempts === undefined ? {} : { maxAttempts: this.options.maxAttempts }),
        fragmentBytes: Math.min(m.fragmentSize, this.options.maxFragmentBytes),
        saveProgress: (at, state) => this.save({ ...this.recordOf(m, 'downloading'), offset: at, hash: base64Encode(state.save()) }),
        progress: (at) => this.onProgress(m, at),
        log: (message) => this.log('warn', message),
      },
      m,
      offset,
      hash,
    );
    this.download = download;
    download.start((result) => {
      if (this.download !== download) return;
      this.download = undefined;
      if (!result.ok) {
        if (result.error.code !== 'storage') this.safely(() => this.options.slot.rollback());
        return this.fail(result.error, 500, this.recordOf(m, 'failed'));
      }
      this.verify(m, result.value);
    });
  }

  private verify(m: FotaManifest, digest: Uint8Array): void {
    this.move('verifying');
    this.report('verifying', 202, 'verifying');
    try {
      this.options.slot.finish();
    } catch (error) {
      return this.fail(fotaProblem('storage', `slot finish failed: ${errorText(error)}`), 500);
    }
    const got = toHex(digest);
    if (got !== m.sha256Hex) {
      this.safely(() => this.options.slot.rollback());
      return this.fail(fotaProblem('hash-mismatch', `image SHA-256 ${got.slice(0, 16)}... is not firmware.sha256`, 'sha256'), 500, this.recordOf(m, 'failed'));
    }
    const saved = this.save(this.recordOf(m, 'verified'));
    if (!saved.ok) return this.fail(saved.error, 500);
    this.move('applying');
    this.activate(m, this.recordOf(m, 'verified'));
  }

  private activate(m: FotaManifest, record: FotaRecord): void {
    this.report('applying', 202, 'applying');
    try {
      this.options.slot.activate(m.version);
    } catch (error) {
      return this.fail(fotaProblem('storage', `slot activate failed: ${errorText(error)}`), 500);
    }
    const saved = this.save({ ...record, phase: 'installed', previous: this.options.runningVersion });
    if (!saved.ok) return this.fail(saved.error, 500);
    this.move('rebooting');
    this.report('rebooting', 202, 'rebooting');
    this.log('info', `${m.version} installed; rebooting`);
    void this.reporting.then(() => {
      if (!this.stopped) this.options.reboot();
    });
  }

  private confirm(record: FotaRecord): void {
    try {
      this.options.slot.confirm();
    } catch (error) {
      this.log('warn', `slot confirm failed: ${errorText(error)}`);
    }
    this.save({ jobId: record.jobId, version: record.version, sha256: record.sha256, size: record.size, phase: 'current', ...(record.ackVersion === undefined ? {} : { ackVersion: record.ackVersion }) });
    this.lastError = null;
    this.move('current');
    this.report('current', 200, `updated to ${record.version}`);
    this.log('info', `running ${record.version}: update confirmed`);
  }

  private fail(error: FotaError, ackCode: number, record?: FotaRecord): void {
    this.lastError = error;
    if (record !== undefined) this.save({ ...record, phase: 'failed', error });
    this.move('failed');
    this.log('warn', `update refused or failed: ${error.code}: ${error.message}`);
    this.report('failed', ackCode, error.message);
  }

  private onProgress(m: FotaManifest, offset: number): void {
    const percent = Math.floor((offset * 100) / m.size);
    const step = Math.floor(percent / PROGRESS_STEP) * PROGRESS_STEP;
    if (step <= this.reported) return;
    this.reported = step;
    this.report('downloading', 202, 'downloading', step);
  }

  private report(status: FotaStatus, ackCode: number, description: string, progress?: number): void {
    const job = this.job;
    const value: JsonObject = { fwVersion: job?.version ?? null, jobId: job?.jobId ?? null };
    const ack = buildWritablePropertyAck({ name: FOTA_PROPERTY, value, ackCode, ackVersion: job?.ackVersion ?? 0, description });
    const body: Record<string, JsonValue> = ack.ok ? { ...(ack.value[FOTA_PROPERTY] as JsonObject) } : {};
    body['fwUpdateStatus'] = status;
    body['currentFwVersion'] = this.options.runningVersion;
    const busy = status === 'downloading' || status === 'verifying' || status === 'applying' || status === 'rebooting';
    body['pendingFwVersion'] = busy && job !== undefined ? job.version : null;
    body['jobId'] = job?.jobId ?? null;
    body['error'] = this.lastError === null ? null : errorValue(this.lastError);
    body['progress'] = progress ?? null;
    this.send({ [FOTA_PROPERTY]: body });
  }

  /** Reported `trust`: {status pending | active | rolled-back, sha256, roots, error}, once roots were updated. */
  private reportTrust(trust: TrustBundles): void {
    const value = trust.report();
    if (value !== undefined) this.send({ trust: value });
  }

  private send(patch: Record<string, JsonValue>): void {
    this.reporting = this.reporting
      .then(() => this.options.hub.patchReported(patch))
      .catch((error: unknown) => this.log('warn', `status not reported: ${errorText(error)}`));
  }

  private recordOf(m: FotaManifest, phase: FotaRecord['phase']): FotaRecord {
    const record: FotaRecord = { phase, jobId: m.jobId, version: m.version, sha256: m.sha256Hex, size: m.size };
    if (this.job !== undefined) record.ackVersion = this.job.ackVersion;
    return record;
  }

  private save(record: FotaRecord): Result<undefined, FotaError> {
    const written = this.records.write(record);
    return written.ok ? ok(undefined) : fotaError('storage', written.error.message);
  }

  private cancelDownload(): void {
    this.download?.cancel();
    this.download = undefined;
  }

  private move(next: FotaStatus): void {
    if (this.machine.state !== next || next === 'downloading') this.machine.move(next);
  }

  private safely(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.log('warn', `slot: ${errorText(error)}`);
    }
  }

  private log(level: LogLevel, message: string): void {
    this.options.log(level, `fota: ${message}`);
  }
}

function sameJob(a: { jobId: string; sha256: string }, b: { jobId: string; sha256: string }): boolean {
  return a.jobId === b.jobId && a.sha256 === b.sha256;
}

function jobOf(value: unknown, ackVersion: number): Job {
  const o = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const text = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 64) : '');
  return { jobId: text(o['jobId']), version: text(o['fwVersion']), sha256: text(o['sha256']), ackVersion };
}

function errorValue(error: FotaError): JsonObject {
  return error.field === undefined ? { code: error.code, message: error.message } : { code: error.code, field: error.field, message: error.message };
}
