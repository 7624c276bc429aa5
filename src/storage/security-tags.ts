// Credentials in numbered slots, as nRF modems keep them (`sec_tag`): configuration refers to a tag number, never
// to key material, so credentials can be rotated by writing another tag and switching the number.
// Each tag is one record under one key (`tag.<n>`), replaced by a single `set`: a power cut leaves the old tag
// or the new one. Certificates and keys are kept as DER in a binary body.
// This module is the device's side: reading tags. Writing, merging and listing them (security-tag-store.ts) is
// the provisioning tools' side, so the device image carries none of it (nor SHA-256 for the fingerprints).
//
// Body (format version 1): u32 tag number, then parts until the end, each u8 part type + u32 length + bytes.

import type { KeyValueStore, Logger } from '../ports';
import { BodyReader } from './body-codec';
import { decodeRecord, recordFault, RecordKind, type RecordFault } from './record';
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

export type TagRead = Result<SecurityTagContent, RecordFault>;

export interface TagSelection {
  primary: number;
  secondary?: number;
}

/** nRF sec_tag numbers are non-negative 31-bit integers; we keep the same range. */
export const MAX_TAG = 0x7fffffff;

const KEY_PREFIX = 'tag.';
export const TAG_FORMAT_VERSION = 1;
const EXPECT = { kind: RecordKind.securityTag, versions: [TAG_FORMAT_VERSION] };
export const PART_CODE: Record<TagPart, number> = { caCertificates: 1, clientCertificates: 2, privateKey: 3, symmetricKey: 4 };

export function isTagNumber(tag: unknown): tag is number {
  return typeof tag === 'number' && Number.isInteger(tag) && tag >= 0 && tag <= MAX_TAG;
}

export function tagKey(tag: number): string {
  return KEY_PREFIX + tag;
}

/** Reads tags: what the device does with them (its credential, the CAs its tags add). */
export class SecurityTagReader {
  constructor(protected readonly store: KeyValueStore) {}

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
}

export function parseTagKey(key: string): number | undefined {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const digits = key.slice(KEY_PREFIX.length);
  if (!/^(0|[1-9][0-9]{0,9})$/.test(digits)) return undefined;
  const tag = Number(digits);
  return isTagNumber(tag) ? tag : undefined;
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
