import { createHash } from 'node:crypto';
import { createMemoryStore } from '../../hosts/node/memory-store';
import { loadDefaultRoots } from '../../hosts/node/default-roots';
import { issueCertificate, issueDeviceCertificate } from '../../emulator/src/pki';
import { parseTagKey, tagKey } from '../../src/storage/security-tags';
import { SecurityTagStore, type SecurityTagInput, type TagSummary } from '../../src/storage/security-tag-store';
import type { KeyValueStore } from '../../src/ports';

const roots = loadDefaultRoots();
const G2 = roots.find((r) => r.name === 'digicert-global-root-g2')!.der;
const MS2017 = roots.find((r) => r.name === 'microsoft-rsa-root-ca-2017')!.der;
const fleetCa = issueCertificate({ commonName: 'Fleet CA', usage: 'ca' });
const device = issueDeviceCertificate('sn-042', fleetCa);
const KEY_B64 = 'cGFzc3dvcmQ=';
const KEY = new Uint8Array(Buffer.from(KEY_B64, 'base64'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function setCounter(inner: KeyValueStore = createMemoryStore()) {
  const sets: string[] = [];
  const store: KeyValueStore = { ...inner, set: (k, v) => (sets.push(k), inner.set(k, v)) };
  return { store, sets };
}

describe('a tag holds CAs, a client chain, a private key and a symmetric key', () => {
  test('write then read every part back, as one set under tag.<n>', () => {
    const { store, sets } = setCounter();
    const tags = new SecurityTagStore(store);
    const write = tags.write(10, {
      caCertificates: [G2, MS2017],
      clientCertificates: [device.certDer, fleetCa.certDer],
      privateKey: device.keyDer,
      symmetricKey: KEY_B64,
    });
    expect(write).toEqual({ ok: true });
    expect(sets).toEqual(['tag.10']);
    expect(tags.read(10)).toEqual({
      ok: true,
      value: { caCertificates: [G2, MS2017], clientCertificates: [device.certDer, fleetCa.certDer], privateKey: device.keyDer, symmetricKey: KEY },
    });
  });

  test('parts are read, written and deleted one at a time; the others stay', () => {
    const tags = new SecurityTagStore(createMemoryStore());
    expect(tags.writePart(7, 'symmetricKey', KEY)).toEqual({ ok: true });
    expect(tags.writePart(7, 'caCertificates', [G2])).toEqual({ ok: true });
    expect(tags.readPart(7, 'symmetricKey')).toEqual(KEY);
    expect(tags.readPart(7, 'caCertificates')).toEqual([G2]);
    expect(tags.readPart(7, 'privateKey')).toBeUndefined();
    expect(tags.deletePart(7, 'symmetricKey')).toEqual({ ok: true });
    expect(tags.read(7)).toEqual({ ok: true, value: { caCertificates: [G2], clientCertificates: [] } });
    expect(tags.update(7, { privateKey: device.keyDer })).toEqual({ ok: true });
    expect(tags.readPart(7, 'caCertificates')).toEqual([G2]);
    expect(tags.readPart(7, 'privateKey')).toEqual(device.keyDer);
  });

  test('removing the last part removes the tag; delete removes it outright', () => {
    const store = createMemoryStore();
    const tags = new SecurityTagStore(store);
    tags.writePart(3, 'symmetricKey', KEY);
    tags.deletePart(3, 'symmetricKey');
    expect(store.keys()).toEqual([]);
    tags.writePart(4, 'caCertificates', [G2]);
    expect(tags.delete(4)).toEqual({ ok: true });
    expect(tags.read(4)).toMatchObject({ ok: false, error: { code: 'missing' } });
  });

  test('values returned are copies: mutating them does not touch the store', () => {
    const tags = new SecurityTagStore(createMemoryStore());
    tags.writePart(1, 'symmetricKey', KEY);
    tags.readPart(1, 'symmetricKey')![0] = 0;
    expect(tags.readPart(1, 'symmetricKey')).toEqual(KEY);
  });
});

describe('bad input is refused with the field named, never the value', () => {
  const tags = new SecurityTagStore(createMemoryStore());

  test.each([
    ['caCertificates[1]', { caCertificates: [G2, new Uint8Array([1, 2, 3])] }],
    ['clientCertificates[0]', { clientCertificates: [new TextEncoder().encode('-----BEGIN CERTIFICATE-----')] }],
    ['privateKey', { privateKey: new Uint8Array([0x30, 0x05, 0x00]) }],
    ['symmetricKey', { symmetricKey: 'not base64!' }],
    ['symmetricKey', { symmetricKey: '' }],
    ['symmetricKey', { symmetricKey: new Uint8Array(513) }],
  ])('%s', (field, input: SecurityTagInput) => {
    const result = tags.write(1, input);
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid-field', field } });
    if (!result.ok && typeof input.symmetricKey === 'string' && input.symmetricKey) expect(result.error.message).not.toContain(input.symmetricKey);
  });

  test.each([-1, 1.5, 0x80000000, Number.NaN])('tag number %p', (tag) => {
    expect(tags.write(tag, { symmetricKey: KEY })).toMatchObject({ ok: false, error: { code: 'invalid-field', field: 'tag' } });
    expect(tags.read(tag).ok).toBe(false);
  });

  test('tag keys parse back only in canonical form', () => {
    expect(parseTagKey(tagKey(0))).toBe(0);
    expect(parseTagKey(tagKey(2147483647))).toBe(2147483647);
    for (const key of ['tag.', 'tag.01', 'tag.-1', 'tag.2147483648', 'tag.1e3', 'tags.1', 'dps.assignment']) expect(parseTagKey(key)).toBeUndefined();
  });
});

describe('listing shows lengths and fingerprints, never secret bytes', () => {
  test('summaries per part, tags in numeric order', () => {
    const store = createMemoryStore();
    const tags = new SecurityTagStore(store);
    tags.write(20, { symmetricKey: KEY });
    tags.write(3, { caCertificates: [G2], clientCertificates: [device.certDer], privateKey: device.keyDer });
    store.set('dps.assignment', new Uint8Array([1]));
    const list = tags.list();
    expect(list).toEqual<TagSummary[]>([
      {
        tag: 3,
        parts: [
          { part: 'caCertificates', index: 0, length: G2.length, fingerprint: sha(G2), subjectCN: 'DigiCert Global Root G2', notAfterMs: Date.UTC(2038, 0, 15, 12) },
          { part: 'clientCertificates', index: 0, length: device.certDer.length, fingerprint: sha(device.certDer), subjectCN: 'sn-042', notAfterMs: expect.any(Number) },
          { part: 'privateKey', index: 0, length: device.keyDer.length, fingerprint: sha(device.keyDer).slice(0, 16) },
        ],
      },
      { tag: 20, parts: [{ part: 'symmetricKey', index: 0, length: KEY.length, fingerprint: sha(KEY).slice(0, 16) }] },
    ]);
    const text = JSON.stringify(list);
    expect(text).not.toContain(KEY_B64);
    expect(text).not.toContain(Buffer.from(KEY).toString('hex'));
  });

  test('a damaged tag is listed with its fault', () => {
    const store = createMemoryStore();
    const tags = new SecurityTagStore(store);
    tags.write(5, { symmetricKey: KEY });
    const bytes = store.get('tag.5')!;
    bytes[bytes.length - 1] ^= 1;
    store.set('tag.5', bytes);
    expect(tags.list()).toEqual([{ tag: 5, fault: { code: 'checksum-mismatch', message: 'record checksum does not match its content' } }]);
  });
});

describe('damaged tags read as absent', () => {
  test('every single-byte flip of a stored tag', () => {
    const store = createMemoryStore();
    const tags = new SecurityTagStore(store);
    tags.write(9, { symmetricKey: KEY, caCertificates: [G2] });
    const good = store.get('tag.9')!;
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 0x01;
      store.set('tag.9', bad);
      expect([i, tags.read(9).ok]).toEqual([i, false]);
    }
  });

  test('a record copied under another tag number is refused', () => {
    const store = createMemoryStore();
    const tags = new SecurityTagStore(store);
    tags.write(1, { symmetricKey: KEY });
    store.set('tag.2', store.get('tag.1')!);
    expect(tags.read(2)).toEqual({ ok: false, error: { code: 'bad-body', message: 'tag 2 holds the record of tag 1' } });
  });

  test('a damaged tag can be rewritten part by part', () => {
    const store = createMemoryStore();
    const tags = new SecurityTagStore(store);
    store.set('tag.6', new Uint8Array([0xde, 0xad]));
    expect(tags.writePart(6, 'symmetricKey', KEY)).toEqual({ ok: true });
    expect(tags.readPart(6, 'symmetricKey')).toEqual(KEY);
  });
});

describe('trusted CAs of the configured tags', () => {
  test('the union of primary and secondary, primary first, each CA once', () => {
    const tags = new SecurityTagStore(createMemoryStore());
    tags.write(10, { caCertificates: [G2], symmetricKey: KEY });
    tags.write(11, { caCertificates: [MS2017, G2, fleetCa.certDer] });
    expect(tags.trustedCAsFor({ primary: 10, secondary: 11 })).toEqual([G2, MS2017, fleetCa.certDer]);
    expect(tags.trustedCAsFor({ primary: 11 })).toEqual([MS2017, G2, fleetCa.certDer]);
    expect(tags.trustedCAsFor({ primary: 10, secondary: 10 })).toEqual([G2]);
  });

  test('missing tags contribute nothing silently; damaged ones are logged', () => {
    const store = createMemoryStore();
    const tags = new SecurityTagStore(store);
    tags.write(10, { caCertificates: [G2] });
    store.set('tag.12', new Uint8Array(3));
    const lines: string[] = [];
    const logger = { log: (level: string, message: string) => void lines.push(`${level} ${message}`) };
    expect(tags.trustedCAsFor({ primary: 99, secondary: 10 }, logger)).toEqual([G2]);
    expect(lines).toEqual([]);
    expect(tags.trustedCAsFor({ primary: 12, secondary: 10 }, logger)).toEqual([G2]);
    expect(lines).toEqual(['warn tag 12 ignored: record is 3 bytes, shorter than its 14-byte frame']);
  });
});

describe('write failures', () => {
  test('a store that throws gives write-failed', () => {
    const store = { ...createMemoryStore(), set: () => { throw new Error('flash full'); } };
    expect(new SecurityTagStore(store).write(1, { symmetricKey: KEY })).toEqual({ ok: false, error: { code: 'write-failed', message: 'writing tag.1 failed: flash full' } });
  });
});
