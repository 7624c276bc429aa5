// Writing, merging and listing security tags (security-tags.ts reads them): what the provisioning tools
// (`npm run iot-store`) and the tests do. The device only reads tags, so this module stays out of its image.

import { base64Decode } from '../encoding/base64';
import { sha256 } from '../crypto/sha256';
import { toHex } from '../crypto/hex';
import { isSingleDerSequence } from '../trust/der';
import { readCertificateInfo } from '../trust/x509-validity';
import { BodyWriter } from './body-codec';
import { encodeRecord, RecordKind, type RecordFault } from './record';
import { guardedDelete, guardedSet, invalidField, type StorageError, type StorageWrite } from './storage-result';
import { ok, type Result } from '../result';
import { isTagNumber, MAX_TAG, PART_CODE, SecurityTagReader, TAG_FORMAT_VERSION, tagKey, parseTagKey, type SecurityTagContent, type TagPart } from './security-tags';

export const TAG_PARTS: readonly TagPart[] = ['caCertificates', 'clientCertificates', 'privateKey', 'symmetricKey'];

/** What callers may hand in: a symmetric key may also be base64 text, as connection strings carry it. */
export interface TagPartInput {
  caCertificates: Uint8Array[];
  clientCertificates: Uint8Array[];
  privateKey: Uint8Array;
  symmetricKey: Uint8Array | string;
}

export type SecurityTagInput = Partial<TagPartInput>;

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

/** Bigger than any real SAS key, small enough to catch a file passed where a key was meant. */
export const MAX_SYMMETRIC_KEY_BYTES = 512;

/** Every tag operation: reading (SecurityTagReader), writing whole tags or parts, and listing without secrets. */
export class SecurityTagStore extends SecurityTagReader {

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
    return guardedSet(this.store, tagKey(tag), encodeRecord(RecordKind.securityTag, TAG_FORMAT_VERSION, encodeTagBody(tag, content)));
  }
}

function encodeTagBody(tag: number, content: SecurityTagContent): Uint8Array {
  const w = new BodyWriter().u32(tag);
  for (const der of content.caCertificates) w.u8(PART_CODE.caCertificates).blob(der);
  for (const der of content.clientCertificates) w.u8(PART_CODE.clientCertificates).blob(der);
  if (content.privateKey) w.u8(PART_CODE.privateKey).blob(content.privateKey);
  if (content.symmetricKey) w.u8(PART_CODE.symmetricKey).blob(content.symmetricKey);
  return w.finish();
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
