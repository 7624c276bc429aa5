// A fixed run through the storage and trust code, reported as text lines, so the same calls can be made on Node
// and inside the real XS engine and the two transcripts compared (typed arrays, Date, JSON, regular expressions).
// Certificates come in as arguments: XS has no file system.

import type { KeyValueStore, LogLevel } from '../../src/ports';
import { sha256 } from '../../src/crypto/sha256';
import { toHex } from '../../src/crypto/hex';
import { base64Encode } from '../../src/encoding/base64';
import { utf8Encode } from '../../src/encoding/utf8';
import { AssignmentStore, type DpsInputs } from '../../src/storage/assignment-store';
import { crc32 } from '../../src/storage/crc32';
import { DeviceConfigStore } from '../../src/storage/device-config';
import { decodeRecord, encodeRecord, RecordKind } from '../../src/storage/record';
import { SecurityTagStore } from '../../src/storage/security-tag-store';
import { parsePem } from '../../src/trust/pem';
import { buildTrustList, type NamedRoot } from '../../src/trust/trust-store';
import { readCertificateInfo } from '../../src/trust/x509-validity';

function mapStore(): KeyValueStore {
  const entries = new Map<string, Uint8Array>();
  return {
    get: (key) => entries.get(key)?.slice(),
    set: (key, value) => void entries.set(key, value.slice()),
    delete: (key) => void entries.delete(key),
    keys: () => [...entries.keys()],
  };
}

export function runStorageBattery(roots: NamedRoot[]): string[] {
  const lines: string[] = [];
  const say = (line: string) => void lines.push(line);

  say(`crc32: ${crc32(utf8Encode('123456789')).toString(16)}`);
  say(`sha256 abc: ${toHex(sha256(utf8Encode('abc')))}`);

  const record = encodeRecord(RecordKind.assignment, 1, utf8Encode('{"a":1}'));
  say(`record: ${toHex(record)}`);
  const codes = new Set<string>();
  for (let i = 0; i < record.length; i++) {
    const bad = record.slice();
    bad[i] = bad[i]! ^ 0x10;
    const read = decodeRecord(bad, { kind: RecordKind.assignment, versions: [1] });
    codes.add(read.ok ? 'ok' : read.error.code);
  }
  say(`record flips: ${[...codes].sort().join(',')}`);

  for (const root of roots) {
    const read = readCertificateInfo(root.der);
    if (!read.ok) say(`${root.name}: error ${read.error.code}`);
    else say(`${root.name}: ${new Date(read.value.notBeforeMs).toISOString()} .. ${new Date(read.value.notAfterMs).toISOString()} CN=${read.value.subjectCN}`);
  }
  const broken = readCertificateInfo(roots[0]!.der.subarray(0, 100));
  say(`truncated cert: ${broken.ok ? 'ok' : `${broken.error.code} ${broken.error.message}`}`);

  const logged: string[] = [];
  const logger = { log: (level: LogLevel, message: string) => void logged.push(`${level} ${message}`) };
  const list = buildTrustList({ defaultRoots: roots, tagCAs: [], mode: 'extend', nowUnixMs: Date.UTC(2026, 0, 1), logger });
  say(`trust list: ${list.map((der) => toHex(sha256(der)).slice(0, 8)).join(' ')}`);
  for (const line of logged) say(`trust log: ${line}`);

  const pemText = `-----BEGIN CERTIFICATE-----\r\n${base64Encode(roots[1]!.der)}\r\n-----END CERTIFICATE-----\r\n`;
  const pem = parsePem(pemText);
  say(`pem: ${pem.ok ? `${pem.value.length} ${pem.value[0]!.label} ${toHex(sha256(pem.value[0]!.der))}` : pem.error}`);

  const store = mapStore();
  const tags = new SecurityTagStore(store);
  const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
  say(`tag write: ${JSON.stringify(tags.write(10, { caCertificates: [roots[1]!.der], symmetricKey: base64Encode(key) }))}`);
  say(`tag bad key: ${JSON.stringify(tags.write(11, { symmetricKey: 'abc' }))}`);
  say(`tag list: ${JSON.stringify(tags.list())}`);
  say(`tag CAs: ${tags.trustedCAsFor({ primary: 10, secondary: 12 }).length}`);
  say(`tag record: ${toHex(sha256(store.get('tag.10')!))}`);

  const dps: DpsInputs = { globalEndpoint: 'global.azure-devices-provisioning.net', idScope: '0ne1', registrationId: 'r1', attestation: 'symmetric-key' };
  const assignments = new AssignmentStore(store);
  say(`assignment save: ${JSON.stringify(assignments.save({ hubHost: 'h.azure-devices.net', deviceId: 'r1', dps, assignedAt: 1_700_000_000_000 }))}`);
  say(`assignment load: ${JSON.stringify(assignments.load(dps))}`);
  say(`assignment changed: ${JSON.stringify(assignments.load({ ...dps, idScope: '0ne2' }))}`);
  say(`assignment record: ${toHex(store.get('dps.assignment')!)}`);

  const configs = new DeviceConfigStore(store);
  say(`config save: ${JSON.stringify(configs.save({ dps, tags: { primary: 10, secondary: 11 }, trust: 'override' }))}`);
  say(`config load: ${JSON.stringify(configs.load())}`);
  store.set('device.config', new Uint8Array([1, 2, 3]));
  say(`config damaged: ${JSON.stringify(configs.load())}`);
  return lines;
}
