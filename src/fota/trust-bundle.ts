// Signed root-certificate updates, an optional part of the FOTA module. A manifest may carry `trustBundle` (a list
// of base64 DER roots, inline) and `trustSha256` (the SHA-256 of those DER roots, one after another), which the
// vendor signature covers. The device checks each root reads as a certificate, stores the bundle in flash beside
// the built-in roots and boots once with it on trial: the first hub connection with it makes it active; a first
// connection refused by certificate verification (tls-verify) puts the old roots back and reports rolled-back.
//
// Flash: two bundle records (`roots.1`, `roots.2`, binary, CRC-framed) and one state record (`roots`, JSON). A new
// bundle goes into the record not in force, then the state names it pending: two single-record writes, so a power
// cut at any point leaves the state naming one complete bundle (or the built-in roots) in force.

import type { TrustHook } from '../app/app-module';
import type { JsonObject } from '../azure/json';
import { Sha256 } from '../crypto/sha256';
import { toHex } from '../crypto/hex';
import { base64Decode } from '../encoding/base64';
import type { KeyValueStore } from '../ports';
import { ok, type Result } from '../result';
import { BodyReader, BodyWriter } from '../storage/body-codec';
import { isObject, JsonRecordSlot } from '../storage/json-record';
import { decodeRecord, encodeRecord, RecordKind } from '../storage/record';
import { guardedSet } from '../storage/storage-result';
import type { NamedRoot } from '../trust/trust-store';
import { readCertificateInfo } from '../trust/x509-validity';
import { fotaError, fotaProblem, type FotaError } from './fota-error';

export const MAX_BUNDLE_ROOTS = 16;
export const TRUST_STATE_KEY = 'roots';
export const TRUST_PROPERTY = 'trust';

export type TrustStatus = 'pending' | 'active' | 'rolled-back';

/** What the `roots` record holds. Slot 0 is the built-in roots; 1 and 2 are the `roots.N` records. */
export interface TrustState {
  status: TrustStatus;
  active: number;
  /** The bundle in force (slot 1 or 2); absent for the built-in roots. */
  sha?: string;
  count?: number;
  pending?: number;
  pendingSha?: string;
  pendingCount?: number;
  /** The last bundle rolled back, not tried again. */
  failedSha?: string;
  error?: FotaError;
}

function bad(field: string, problem: string): { ok: false; error: FotaError } {
  return fotaError('bad-field', `firmware.${field} ${problem}`, field);
}

/**
 * The roots of a manifest's `trustBundle`: 1-16 base64 DER certificates, `maxBytes` of DER at most in all, whose
 * SHA-256 (over the DER roots in order) is `sha256Hex`. Refusals name the entry.
 */
export function parseTrustBundle(value: unknown, sha256Hex: string, maxBytes: number): Result<Uint8Array[], FotaError> {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_BUNDLE_ROOTS) return bad('trustBundle', `must be a list of 1-${MAX_BUNDLE_ROOTS} base64 DER roots`);
  const roots: Uint8Array[] = [];
  const hash = new Sha256();
  let total = 0;
  for (let i = 0; i < value.length; i++) {
    const field = `trustBundle[${i}]`;
    const entry: unknown = value[i];
    if (typeof entry !== 'string') return bad(field, 'must be base64 text');
    // Sized before decoding: a bundle over the budget is never decoded.
    if (total + Math.floor((entry.length * 3) / 4) > maxBytes + 2) return fotaError('oversize', `firmware.trustBundle is over ${maxBytes} bytes at ${field}`, 'trustBundle');
    const der = base64Decode(entry);
    if (!der.ok) return bad(field, 'is not base64');
    total += der.value.length;
    if (total > maxBytes) return fotaError('oversize', `firmware.trustBundle is over ${maxBytes} bytes at ${field}`, 'trustBundle');
    const cert = readCertificateInfo(der.value);
    if (!cert.ok) return fotaError('bad-root', `firmware.${field} is not a DER certificate (${cert.error.message})`, field);
    hash.update(der.value);
    roots.push(der.value);
  }
  if (toHex(hash.digest()) !== sha256Hex) return fotaError('hash-mismatch', 'firmware.trustBundle does not match trustSha256', 'trustBundle');
  return ok(roots);
}

function bundleKey(slot: number): string {
  return `${TRUST_STATE_KEY}.${slot}`;
}

export interface TrustBundleOptions {
  store: KeyValueStore;
  /** The most DER bytes a bundle may hold (the device's budget). */
  maxBytes: number;
  log?(message: string): void;
}

/** The flash side: which roots are in force, the trial of a new bundle, the switch and the fallback. */
export class TrustBundles implements TrustHook {
  private readonly state: JsonRecordSlot;
  /** This boot runs the pending bundle on trial. */
  private trying = false;

  constructor(private readonly options: TrustBundleOptions) {
    this.state = new JsonRecordSlot(options.store, TRUST_STATE_KEY, RecordKind.trustState, 1);
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** The stored state; undefined when the built-in roots were never replaced (or the record is damaged). */
  read(): TrustState | undefined {
    const read = this.state.read();
    if (!read.ok || !isObject(read.value)) return undefined;
    const s = read.value;
    if (typeof s['status'] !== 'string' || typeof s['active'] !== 'number') return undefined;
    return s as unknown as TrustState;
  }

  roots(): NamedRoot[] | undefined {
    this.trying = false;
    const state = this.read();
    if (state === undefined) return undefined;
    if (state.pending !== undefined) {
      const pending = this.readBundle(state.pending, state.pendingSha);
      if (pending !== undefined) {
        this.trying = true;
        return pending;
      }
      this.write(this.fallback(state, fotaProblem('storage', `roots.${state.pending} is unreadable`)));
    }
    if (state.active === 0) return undefined;
    const active = this.readBundle(state.active, state.sha);
    if (active === undefined) this.log(`roots.${state.active} is unreadable; using the built-in roots`);
    return active;
  }

  verifyFailed(): boolean {
    if (!this.trying) return false;
    this.trying = false;
    const state = this.read();
    if (state === undefined) return false;
    const sha = (state.pendingSha ?? '').slice(0, 8);
    this.write(this.fallback(state, fotaProblem('rolled-back', `the hub's certificate did not verify with bundle ${sha}; old roots kept`, 'trustBundle')));
    return true;
  }

  /** Called once connected: a bundle on trial has made its one good connection and becomes the roots in force. */
  connected(): void {
    if (!this.trying) return;
    this.trying = false;
    const state = this.read();
    if (state?.pending === undefined) return;
    const next: TrustState = { status: 'active', active: state.pending };
    if (state.pendingSha !== undefined) next.sha = state.pendingSha;
    if (state.pendingCount !== undefined) next.count = state.pendingCount;
    if (state.failedSha !== undefined) next.failedSha = state.failedSha;
    if (this.write(next)) this.log(`bundle ${next.sha?.slice(0, 8) ?? ''} active`);
  }

  /**
   * A signed manifest's bundle: true when it is new and now stored as pending (boot again to try it), false when
   * it is the one in force, on trial or rolled back already; an error names the refused entry or the failed write.
   */
  offer(value: unknown, sha256Hex: string): Result<boolean, FotaError> {
    const state = this.read();
    if (state !== undefined && (sha256Hex === state.sha || sha256Hex === state.pendingSha || sha256Hex === state.failedSha)) return ok(false);
    const roots = parseTrustBundle(value, sha256Hex, this.options.maxBytes);
    if (!roots.ok) return roots;
    const slot = state?.active === 1 ? 2 : 1;
    const body = new BodyWriter().text(sha256Hex).u8(roots.value.length);
    for (const der of roots.value) body.blob(der);
    const written = guardedSet(this.options.store, bundleKey(slot), encodeRecord(RecordKind.trustBundle, 1, body.finish()));
    if (!written.ok) return fotaError('storage', written.error.message);
    const next: TrustState = { status: 'pending', active: state?.active ?? 0, pending: slot, pendingSha: sha256Hex, pendingCount: roots.value.length };
    if (state?.sha !== undefined) next.sha = state.sha;
    if (state?.count !== undefined) next.count = state.count;
    if (state?.failedSha !== undefined) next.failedSha = state.failedSha;
    const saved = this.state.write(next);
    if (!saved.ok) return fotaError('storage', saved.error.message);
    return ok(true);
  }

  /**
   * The reported `trust` object; undefined while the built-in roots were never replaced. `sha256` and `roots` name
   * the bundle in force (the pending one while pending); null (absent from the twin) means the built-in roots.
   */
  report(): JsonObject | undefined {
    const state = this.read();
    if (state === undefined) return undefined;
    const pending = state.status === 'pending';
    return {
      status: state.status,
      sha256: (pending ? state.pendingSha : state.sha) ?? null,
      roots: (pending ? state.pendingCount : state.count) ?? null,
      rejectedSha256: state.status === 'rolled-back' ? (state.failedSha ?? null) : null,
      error: state.error === undefined ? null : { code: state.error.code, message: state.error.message },
    };
  }

  private fallback(state: TrustState, error: FotaError): TrustState {
    const next: TrustState = { status: 'rolled-back', active: state.active, error };
    if (state.sha !== undefined) next.sha = state.sha;
    if (state.count !== undefined) next.count = state.count;
    if (state.pendingSha !== undefined) next.failedSha = state.pendingSha;
    this.log(error.message);
    return next;
  }

  private readBundle(slot: number, sha: string | undefined): NamedRoot[] | undefined {
    let stored: Uint8Array | undefined;
    try {
      stored = this.options.store.get(bundleKey(slot));
    } catch {
      return undefined;
    }
    const record = decodeRecord(stored, { kind: RecordKind.trustBundle, versions: [1] });
    if (!record.ok) return undefined;
    const reader = new BodyReader(record.value.body);
    if (reader.text() !== sha) return undefined;
    const count = reader.u8() ?? 0;
    const roots: NamedRoot[] = [];
    for (let i = 0; i < count; i++) {
      const der = reader.blob();
      if (der === undefined) return undefined;
      roots.push({ name: `flash root ${i + 1}`, der });
    }
    return count > 0 && reader.done ? roots : undefined;
  }

  private write(state: TrustState): boolean {
    const written = this.state.write(state);
    if (!written.ok) this.log(`state not saved: ${written.error.message}`);
    return written.ok;
  }

  private log(message: string): void {
    this.options.log?.(`trust: ${message}`);
  }
}
