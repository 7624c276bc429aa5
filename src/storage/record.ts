// One stored value framed for flash: a torn write, a decayed cell or a value written by other firmware must read
// as "absent, because ..." rather than as garbage or an exception.
//
// Layout (big-endian):  magic "IoTR" (4) | format version (1) | kind (1) | body length (4) | body | CRC-32 (4)
// The CRC covers every byte before it. The kind byte stops one record type being read as another.

import { crc32 } from './crc32';
import { err, ok, type Result } from '../result';

export const RECORD_MAGIC = new Uint8Array([0x49, 0x6f, 0x54, 0x52]);
export const RECORD_HEADER_LENGTH = 10;
export const RECORD_OVERHEAD = RECORD_HEADER_LENGTH + 4;

/** The record kinds this firmware writes; one byte each, spelled as an ASCII letter to read well in a hex dump. */
export const RecordKind = {
  assignment: 0x41, // 'A'
  deviceConfig: 0x43, // 'C'
  fileStore: 0x46, // 'F'
  journalSegment: 0x4a, // 'J'
  fotaProgress: 0x55, // 'U' (update)
  securityTag: 0x54, // 'T'
  trustBundle: 0x52, // 'R' (roots)
  trustState: 0x53, // 'S' (which roots are in force)
} as const;

export type RecordFaultCode =
  /** No value under the key. */
  | 'missing'
  /** Fewer bytes than the header, or than the header's length promises. */
  | 'truncated'
  /** Does not start with the record magic: not ours, or its first bytes decayed. */
  | 'bad-magic'
  /** A format version this firmware does not read (written by newer firmware, or damaged). */
  | 'unknown-version'
  /** A record of another kind under this key. */
  | 'wrong-kind'
  /** Bytes left over after the body and checksum. */
  | 'bad-length'
  /** The CRC-32 does not match: a torn or decayed write. */
  | 'checksum-mismatch'
  /** The frame is sound but the body does not hold what its kind requires. */
  | 'bad-body';

export interface RecordFault {
  code: RecordFaultCode;
  /** Names what is wrong, never the stored bytes. */
  message: string;
}

export interface RecordBody {
  version: number;
  body: Uint8Array;
}

export type RecordRead = Result<RecordBody, RecordFault>;

export interface RecordExpectation {
  kind: number;
  /** Format versions the reader understands. */
  versions: readonly number[];
}

export function recordFault(code: RecordFaultCode, message: string): { ok: false; error: RecordFault } {
  return err({ code, message });
}

/** Frames `body`. `kind` and `version` are single bytes chosen by the caller's code, not by input. */
export function encodeRecord(kind: number, version: number, body: Uint8Array): Uint8Array {
  if (!isByte(kind) || !isByte(version)) throw new RangeError('record kind and version must be bytes');
  const out = new Uint8Array(RECORD_OVERHEAD + body.length);
  out.set(RECORD_MAGIC, 0);
  out[4] = version;
  out[5] = kind;
  writeU32(out, 6, body.length);
  out.set(body, RECORD_HEADER_LENGTH);
  writeU32(out, RECORD_HEADER_LENGTH + body.length, crc32(out, 0, RECORD_HEADER_LENGTH + body.length));
  return out;
}

/**
 * Frames a body of `bodyLength` bytes that `fill` writes in place from `at`: one allocation of the final size, for
 * bodies too big to build and then copy (journal segments).
 */
export function encodeRecordWith(kind: number, version: number, bodyLength: number, fill: (out: Uint8Array, at: number) => void): Uint8Array {
  const out = new Uint8Array(RECORD_OVERHEAD + bodyLength);
  out.set(RECORD_MAGIC, 0);
  out[4] = version;
  out[5] = kind;
  writeU32(out, 6, bodyLength);
  fill(out, RECORD_HEADER_LENGTH);
  writeU32(out, RECORD_HEADER_LENGTH + bodyLength, crc32(out, 0, RECORD_HEADER_LENGTH + bodyLength));
  return out;
}

/** Checks the frame and returns the body (a view into `bytes`), or the reason the record must count as absent. */
export function decodeRecord(bytes: Uint8Array | undefined, expect: RecordExpectation): RecordRead {
  if (bytes === undefined) return recordFault('missing', 'no record stored');
  if (bytes.length < RECORD_OVERHEAD) {
    return recordFault('truncated', `record is ${bytes.length} bytes, shorter than its ${RECORD_OVERHEAD}-byte frame`);
  }
  for (let i = 0; i < RECORD_MAGIC.length; i++) {
    if (bytes[i] !== RECORD_MAGIC[i]) return recordFault('bad-magic', 'record does not start with the record magic');
  }
  const version = bytes[4]!;
  if (!expect.versions.includes(version)) {
    return recordFault('unknown-version', `record format version ${version} is not one this firmware reads`);
  }
  const kind = bytes[5]!;
  if (kind !== expect.kind) {
    return recordFault('wrong-kind', `record kind 0x${kind.toString(16)} where 0x${expect.kind.toString(16)} was expected`);
  }
  const length = readU32(bytes, 6);
  const available = bytes.length - RECORD_OVERHEAD;
  if (length > available) {
    return recordFault('truncated', `record body should be ${length} bytes but only ${available} are stored`);
  }
  if (length < available) {
    return recordFault('bad-length', `record holds ${available - length} bytes beyond its declared length`);
  }
  const end = RECORD_HEADER_LENGTH + length;
  if (readU32(bytes, end) !== crc32(bytes, 0, end)) {
    return recordFault('checksum-mismatch', 'record checksum does not match its content');
  }
  return ok({ version, body: bytes.subarray(RECORD_HEADER_LENGTH, end) });
}

function isByte(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 255;
}

export function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = (value >>> 16) & 0xff;
  target[at + 2] = (value >>> 8) & 0xff;
  target[at + 3] = value & 0xff;
}

export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
