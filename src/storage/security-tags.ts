// Credentials in numbered slots, as nRF modems keep them (`sec_tag`): configuration refers to a tag number, never
// to key material, so credentials can be rotated by writing another tag and switching the number.
// Each tag is one record under one key (`tag.<n>`), replaced by a single `set`: a power cut leaves the old tag
// or the new one. Certificates and keys are kept as DER in a binary body; listing shows lengths and
// fingerprints only.
//
// Body (format version 1): u32 tag number, then parts until the end, each u8 part type + u32 length + bytes.

import type { KeyValueStore, Logger } from '../ports';
import { base64Decode } from '../encoding/base64';
import { sha256 } from '../crypto/sha256';
import { toHex } from '../crypto/hex';
import { isSingleDerSequence } from '../trust/der';
import { readCertificateInfo } from '../trust/x509-validity';
import { BodyReader, BodyWriter } from './body-codec';
import { decodeRecord, encodeRecord, recordFault, RecordKind, type RecordFault } from './record';
import { guardedDelete, guardedSet, invalidField, type StorageError, type StorageWrite } from './storage-result';
import { errorText } from '../errors';
import { ok, type Result } from '../result';

export interface SecurityTagContent {
  /** Trust anchors for the server, DER. */
  caCertificates: Uint8Array[];
  /** The device's certificate chain, DER, leaf first. */
  clientCertificates: Uint8Array[];
  /** The device's private key, DER (PKCS#8 for TLS). */
  privateKey?: Uint8Array;
  /** The raw bytes of a SAS key. */
  symmetricKey?: Uint8Array;
}

export type TagPart = keyof SecurityTagContent;

export const TAG_PARTS: readonly TagPart[] = ['caCertificates', 'clientCertificates', 'privateKey', 'symmetricKey'];

/** What callers may hand in: a symmetric key may also be base64 text, as connection strings carry it. */
export interface TagPartInput {
  caCertificates: Uint8Array[];
  clientCertificates: Uint8Array[];
  privateKey: Uint8Array;
  symmetricKey: Uint8Array | string;
}

export type SecurityTagInput = Partial<TagPartInput>;

export type TagRead = Result<SecurityTagContent, RecordFault>;

export interface TagPartSummary {
  part: TagPart;
  /** Position in a certificate list; 0 for single parts. */
  index: number;
  length: number;
  /**
   * SHA-256 hex. Full for certificates (compare with `openssl x509 -fingerprint -sha256`); only the first
   * 8 bytes for keys, enough to tell two keys apart and no more.
   */
  fingerprint: string;
  subjectCN?: string;
  notAfterMs?: number;
}

export type TagSummary = { tag: number; parts: TagPartSummary[] } | { tag: number; fault: RecordFault };

export interface TagSelection {
  primary: number;
  secondary?: number;
}

/** nRF sec_tag numbers are non-negative 31-bit integers; we keep the same range. */
export const MAX_TAG = 0x7fffffff;
/** Bigger than any real SAS key, small enough to catch a file passed where a key was meant. */
export const MAX_SYMMETRIC_KEY_BYTES = 512;

const KEY_PREFIX = 'tag.';
const VERSION = 1;
const EXPECT = { kind: RecordKind.securityTag, versions: [VERSION] };
const PART_CODE: Record<TagPart, number> = { caCertificates: 1, clientCertificates: 2, privateKey: 3, symmetricKey: 4 };

export function isTagNumber(tag: unknown): tag is number {
  return typeof tag === 'number' && Number.isInteger(tag) && tag >= 0 && tag <= MAX_TAG;
}

export function tagKey(tag: number): string {
  return KEY_PREFIX + tag;
}

export class SecurityTagStore {
  constructor(private readonly store: KeyValueStore) {}

  read(tag: number): TagRead {
    if (!isTagNumber(tag)) return recordFault('missing', `tag must be an integer 0..${MAX_TAG}`);
    let stored: Uint8Array | undefined;
    try {
      stored = this.store.get(tagKey(tag));
    } catch (error) {
      return recordFault('missing', `reading tag ${tag} failed: ${errorText(error)}`);
    }
    const record = decodeRecord(stored, EXPECT);
    if (!record.ok) return record;
    return decodeTagBody(tag, record.value.body);
  }

  /** Replaces the whole tag with `input`; parts not given are gone afterwards. An empty input deletes the tag. */
  write(tag: number, input: SecurityTagInput): StorageWrite {
    const content = normalize(input);
    if (!content.ok) return content;
    return this.put(tag, content.value);
  }

  /** Replaces the parts given in `input` and keeps the others. */
  update(tag: number, input: SecurityTagInput): StorageWrite {
    const content = normalize(input);
    if (!content.ok) return content;
    const current = this.readForChange(tag);
    if (!current.ok) return current;
    const merged = current.value;
    for (const part of TAG_PARTS) {
      if (input[part] !== undefined) assignPart(merged, part, content.value[part]);
    }
    return this.put(tag, merged);
  }

  readPart<P extends TagPart>(tag: number, part: P): SecurityTagContent[P] | undefined {
    const read = this.read(tag);
    return read.ok ? read.value[part] : undefined;
  }

  writePart<P extends TagPart>(tag: number, part: P, value: TagPartInput[P]): StorageWrite {
    const input: SecurityTagInput = {};
    (input as Record<P, TagPartInput[P]>)[part] = value;
    return this.update(tag, input);
  }

  deletePart(tag: number, part: TagPart): StorageWrite {
    const current = this.readForChange(tag);
    if (!current.ok) return current;
    const content = current.value;
    if (part === 'caCertificates' || part === 'clientCertificates') content[part] = [];
    else delete content[part];
    return this.put(tag, content);
  }

  delete(tag: number): StorageWrite {
    if (!isTagNumber(tag)) return invalidField('tag', `must be an integer 0..${MAX_TAG}`);
    return guardedDelete(this.store, tagKey(tag));
  }

  /** Every stored tag in ascending order, without secret bytes; unreadable tags show why. */
  list(): TagSummary[] {
    const tags: number[] = [];
    for (const key of this.store.keys()) {
      const tag = parseTagKey(key);
      if (tag !== undefined) tags.push(tag);
    }
    tags.sort((a, b) => a - b);
    return tags.map((tag) => {
      const read = this.read(tag);
      return read.ok ? { tag, parts: summarize(read.value) } : { tag, fault: read.error };
    });
  }

  /** The union of the CAs in the selected tags, primary first, without duplicates. Unreadable tags are logged. */
  trustedCAsFor(selection: TagSelection, logger?: Logger): Uint8Array[] {
    const out: Uint8Array[] = [];
    const tags = selection.secondary === undefined || selection.secondary === selection.primary ? [selection.primary] : [selection.primary, selection.secondary];
    for (const tag of tags) {
      const read = this.read(tag);
      if (!read.ok) {
        if (read.error.code !== 'missing') logger?.log('warn', `tag ${tag} ignored: ${read.error.message}`);
        continue;
      }
      for (const ca of read.value.caCertificates) if (!out.some((seen) => sameBytes(seen, ca))) out.push(ca);
    }
    return out;
  }

  private readForChange(tag: number): Normalized {
    if (!isTagNumber(tag)) return invalidField('tag', `must be an integer 0..${MAX_TAG}`);
    const read = this.read(tag);
    if (read.ok) return ok(read.value);
    // A damaged tag cannot be merged into; treating it as empty lets the caller rewrite it part by part.
    return ok({ caCertificates: [], clientCertificates: [] });
  }

  private put(tag: number, content: SecurityTagContent): StorageWrite {
    if (!isTagNumber(tag)) return invalidField('tag', `must be an integer 0..${MAX_TAG}`);
    if (isEmpty(content)) return guardedDelete(this.store, tagKey(tag));
    return guardedSet(this.store, tagKey(tag), encodeRecord(RecordKind.securityTag, VERSION, encodeTagBody(tag, content)));
  }
}

export function parseTagKey(key: string): number | undefined {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const digits = key.slice(KEY_PREFIX.length);
  if (!/^(0|[1-9][0-9]{0,9})$/.test(digits)) return undefined;
  const tag = Number(digits);
  return isTagNumber(tag) ? tag : undefined;
}

function encodeTagBody(tag: number, content: SecurityTagContent): Uint8Array {
  const w = new BodyWriter().u32(tag);
  for (const der of content.caCertificates) w.u8(PART_CODE.caCertificates).blob(der);
  for (const der of content.clientCertificates) w.u8(PART_CODE.clientCertificates).blob(der);
  if (content.privateKey) w.u8(PART_CODE.privateKey).blob(content.privateKey);
  if (content.symmetricKey) w.u8(PART_CODE.symmetricKey).blob(content.symmetricKey);
  return w.finish();
}

function decodeTagBody(tag: number, body: Uint8Array): TagRead {
  const r = new BodyReader(body);
  const stored = r.u32();
  if (stored === undefined) return recordFault('bad-body', `tag ${tag} body is too short`);
  // A record copied under another key would otherwise hand one slot's credentials to another.
  if (stored !== tag) return recordFault('bad-body', `tag ${tag} holds the record of tag ${stored}`);
  const content: SecurityTagContent = { caCertificates: [], clientCertificates: [] };
  while (!r.done) {
    const code = r.u8();
    const value = r.blob();
    if (code === undefined || value === undefined) return recordFault('bad-body', `tag ${tag} has a truncated part`);
    if (code === PART_CODE.caCertificates) content.caCertificates.push(value);
    else if (code === PART_CODE.clientCertificates) content.clientCertificates.push(value);
    else if (code === PART_CODE.privateKey && !content.privateKey) content.privateKey = value;
    else if (code === PART_CODE.symmetricKey && !content.symmetricKey) content.symmetricKey = value;
    else return recordFault('bad-body', `tag ${tag} has an unknown or repeated part type ${code}`);
  }
  return ok(content);
}

/** The content to write, or why the write is refused. */
type Normalized = Result<SecurityTagContent, StorageError>;

function normalize(input: SecurityTagInput): Normalized {
  const content: SecurityTagContent = { caCertificates: [], clientCertificates: [] };
  for (const list of ['caCertificates', 'clientCertificates'] as const) {
    const certs = input[list];
    if (certs === undefined) continue;
    if (!Array.isArray(certs)) return invalidField(list, 'must be a list of DER certificates');
    for (let i = 0; i < certs.length; i++) {
      const der = certs[i];
      if (!(der instanceof Uint8Array)) return invalidField(`${list}[${i}]`, 'must be bytes');
      const info = readCertificateInfo(der);
      if (!info.ok) return invalidField(`${list}[${i}]`, `is not a DER certificate (${info.error.message})`);
      content[list].push(der.slice());
    }
  }
  if (input.privateKey !== undefined) {
    const key = input.privateKey;
    if (!(key instanceof Uint8Array) || !isSingleDerSequence(key)) {
      return invalidField('privateKey', 'is not a DER private key');
    }
    content.privateKey = key.slice();
  }
  if (input.symmetricKey !== undefined) {
    let key: Uint8Array;
    if (typeof input.symmetricKey === 'string') {
      const decoded = base64Decode(input.symmetricKey);
      if (!decoded.ok) return invalidField('symmetricKey', `is not valid base64 (${decoded.error.message})`);
      key = decoded.value;
    } else if (input.symmetricKey instanceof Uint8Array) {
      key = input.symmetricKey.slice();
    } else {
      return invalidField('symmetricKey', 'must be base64 text or bytes');
    }
    if (key.length === 0 || key.length > MAX_SYMMETRIC_KEY_BYTES) {
      return invalidField('symmetricKey', `must be 1..${MAX_SYMMETRIC_KEY_BYTES} bytes (got ${key.length})`);
    }
    content.symmetricKey = key;
  }
  return ok(content);
}

function assignPart(target: SecurityTagContent, part: TagPart, value: SecurityTagContent[TagPart]): void {
  if (part === 'caCertificates' || part === 'clientCertificates') target[part] = (value as Uint8Array[] | undefined) ?? [];
  else if (value === undefined) delete target[part];
  else target[part] = value as Uint8Array;
}

function summarize(content: SecurityTagContent): TagPartSummary[] {
  const parts: TagPartSummary[] = [];
  for (const list of ['caCertificates', 'clientCertificates'] as const) {
    content[list].forEach((der, index) => {
      const summary: TagPartSummary = { part: list, index, length: der.length, fingerprint: toHex(sha256(der)) };
      const info = readCertificateInfo(der);
      if (info.ok) {
        if (info.value.subjectCN !== undefined) summary.subjectCN = info.value.subjectCN;
        summary.notAfterMs = info.value.notAfterMs;
      }
      parts.push(summary);
    });
  }
  for (const single of ['privateKey', 'symmetricKey'] as const) {
    const secret = content[single];
    if (secret) parts.push({ part: single, index: 0, length: secret.length, fingerprint: toHex(sha256(secret).subarray(0, 8)) });
  }
  return parts;
}

function isEmpty(content: SecurityTagContent): boolean {
  return content.caCertificates.length === 0 && content.clientCertificates.length === 0 && !content.privateKey && !content.symmetricKey;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

