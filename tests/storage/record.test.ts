import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from '../../src/storage/crc32';
import { decodeRecord, encodeRecord, RECORD_OVERHEAD, RecordKind, type RecordExpectation } from '../../src/storage/record';

const EXPECT: RecordExpectation = { kind: RecordKind.assignment, versions: [1] };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('CRC-32', () => {
  test('matches the standard check value and zlib', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    for (const n of [1, 3, 64, 255, 1000]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    }
  });

  test('covers only the requested range', () => {
    const bytes = new TextEncoder().encode('xx123456789yy');
    expect(crc32(bytes, 2, 11)).toBe(0xcbf43926);
  });
});

describe('record framing', () => {
  test('encodes magic, version, kind, length, body and CRC-32 in that order', () => {
    const record = encodeRecord(RecordKind.assignment, 1, new Uint8Array([0xaa, 0xbb]));
    const framed = '496f5452' + '01' + '41' + '00000002' + 'aabb';
    expect(hex(record.subarray(0, 12))).toBe(framed);
    expect(hex(record.subarray(12))).toBe(zlibCrc32(Buffer.from(framed, 'hex')).toString(16).padStart(8, '0'));
    expect(record.length).toBe(2 + RECORD_OVERHEAD);
  });

  test('decodes what it encodes, empty body included', () => {
    for (const body of [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(5000).fill(7)]) {
      const read = decodeRecord(encodeRecord(RecordKind.assignment, 1, body), EXPECT);
      expect(read).toEqual({ ok: true, value: { version: 1, body } });
    }
  });

  test('refuses kinds and versions that are not bytes', () => {
    expect(() => encodeRecord(256, 1, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeRecord(1, -1, new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('bad records read as absent with a typed reason', () => {
  const good = encodeRecord(RecordKind.assignment, 1, new TextEncoder().encode('{"hubHost":"h"}'));
  const codeOf = (bytes: Uint8Array | undefined, expect = EXPECT) => {
    const read = decodeRecord(bytes, expect);
    return read.ok ? 'ok' : read.error.code;
  };

  test('each fault has its own code', () => {
    expect(codeOf(undefined)).toBe('missing');
    expect(codeOf(good.subarray(0, 5))).toBe('truncated');
    expect(codeOf(good.subarray(0, good.length - 1))).toBe('truncated');
    expect(codeOf(Uint8Array.from([...good, 0]))).toBe('bad-length');
    const magic = good.slice();
    magic[0] = 0x4a;
    expect(codeOf(magic)).toBe('bad-magic');
    expect(codeOf(good, { kind: RecordKind.assignment, versions: [2] })).toBe('unknown-version');
    expect(codeOf(good, { kind: RecordKind.securityTag, versions: [1] })).toBe('wrong-kind');
    const body = good.slice();
    body[12] ^= 1;
    expect(codeOf(body)).toBe('checksum-mismatch');
  });

  test('flipping any single byte anywhere makes the record absent', () => {
    for (let i = 0; i < good.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = good.slice();
        bad[i] ^= mask;
        expect([i, mask, codeOf(bad)]).not.toEqual([i, mask, 'ok']);
      }
    }
  });

  test('every truncation reads as absent', () => {
    for (let n = 0; n < good.length; n++) expect(codeOf(good.subarray(0, n))).toBe('truncated');
  });

  test('messages never quote the stored bytes', () => {
    const bad = good.slice();
    bad[12] ^= 1;
    const read = decodeRecord(bad, EXPECT);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.error.message).not.toContain('hubHost');
  });
});
