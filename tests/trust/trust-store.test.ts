import type { LogLevel } from '../../src/ports';
import { buildTrustList } from '../../src/trust/trust-store';
import { loadDefaultRoots } from '../../hosts/node/default-roots';
import { issueCertificate } from '../../emulator/src/pki';

function recorder() {
  const lines: { level: LogLevel; message: string }[] = [];
  return { lines, logger: { log: (level: LogLevel, message: string) => void lines.push({ level, message }) }, warnings: () => lines.filter((l) => l.level === 'warn') };
}

const roots = loadDefaultRoots();
const byName = (name: string) => roots.find((r) => r.name === name)!.der;
const G2 = byName('digicert-global-root-g2');
const MS2017 = byName('microsoft-rsa-root-ca-2017');
const BALTIMORE = byName('baltimore-cybertrust-root');

describe('default roots on Node', () => {
  test('certs/*.der load by name, sorted', () => {
    expect(roots.map((r) => r.name)).toEqual(['baltimore-cybertrust-root', 'digicert-global-root-g2', 'microsoft-rsa-root-ca-2017']);
  });
});

describe('expired roots are skipped once the clock is set', () => {
  test('today: Baltimore skipped with exactly one warning; G2 and Microsoft 2017 kept', () => {
    const log = recorder();
    const list = buildTrustList({ defaultRoots: roots, tagCAs: [], mode: 'extend', nowUnixMs: Date.now(), logger: log.logger });
    expect(list).toEqual([G2, MS2017]);
    expect(log.warnings()).toEqual([{ level: 'warn', message: 'trust: skipping baltimore-cybertrust-root: expired on 2025-05-12T23:59:00.000Z' }]);
  });

  test('the minute before Baltimore expired, all three are kept with no warning', () => {
    const log = recorder();
    const list = buildTrustList({ defaultRoots: roots, tagCAs: [], mode: 'extend', nowUnixMs: Date.UTC(2025, 4, 12, 23, 58), logger: log.logger });
    expect(list).toEqual([BALTIMORE, G2, MS2017]);
    expect(log.warnings()).toEqual([]);
  });

  test('clock not set: everything kept, and the log says why', () => {
    const log = recorder();
    const list = buildTrustList({ defaultRoots: roots, tagCAs: [], mode: 'extend', nowUnixMs: undefined, logger: log.logger });
    expect(list).toEqual([BALTIMORE, G2, MS2017]);
    expect(log.warnings()).toEqual([{ level: 'warn', message: 'trust: wall clock not set, keeping all 3 anchor(s) without checking their dates' }]);
  });

  test('a root not yet valid is skipped too', () => {
    const log = recorder();
    const list = buildTrustList({ defaultRoots: roots, tagCAs: [], mode: 'extend', nowUnixMs: Date.UTC(2015, 0, 1), logger: log.logger });
    expect(list).toEqual([BALTIMORE, G2]);
    expect(log.warnings().map((w) => w.message)).toEqual(['trust: skipping microsoft-rsa-root-ca-2017: not valid before 2019-12-18T22:51:22.000Z']);
  });
});

describe('tag CAs extend or override the default roots', () => {
  const privateCa = issueCertificate({ commonName: 'Private CA', usage: 'ca' }).certDer;
  const now = Date.now();

  test('extend: defaults then tag CAs, duplicates once', () => {
    const log = recorder();
    const list = buildTrustList({ defaultRoots: roots, tagCAs: [privateCa, G2], mode: 'extend', nowUnixMs: now, logger: log.logger });
    expect(list).toEqual([G2, MS2017, privateCa]);
  });

  test('override: only the tag CAs', () => {
    const log = recorder();
    const list = buildTrustList({ defaultRoots: roots, tagCAs: [privateCa], mode: 'override', nowUnixMs: now, logger: log.logger });
    expect(list).toEqual([privateCa]);
    expect(log.warnings()).toEqual([]);
    expect(log.lines).toEqual([{ level: 'info', message: 'trust: 1 tag CA(s) replace the 3 default root(s)' }]);
  });

  test('override with empty tags falls back to the defaults and warns', () => {
    const log = recorder();
    const list = buildTrustList({ defaultRoots: roots, tagCAs: [], mode: 'override', nowUnixMs: now, logger: log.logger });
    expect(list).toEqual([G2, MS2017]);
    expect(log.warnings()[0]!.message).toBe('trust: override asked for but the tags hold no CA; using the default roots');
  });

  test('an unreadable or expired tag CA is skipped with a warning naming it', () => {
    const log = recorder();
    const expired = issueCertificate({ commonName: 'Old CA', usage: 'ca', notBefore: new Date('2000-01-01Z'), notAfter: new Date('2001-01-01Z') }).certDer;
    const list = buildTrustList({ defaultRoots: [], tagCAs: [new Uint8Array([1, 2, 3]), expired], mode: 'override', nowUnixMs: now, logger: log.logger });
    expect(list).toEqual([]);
    expect(log.warnings().map((w) => w.message)).toEqual([
      'trust: skipping tag CA 1: not a readable certificate (not a DER SEQUENCE)',
      'trust: skipping tag CA 2: expired on 2001-01-01T00:00:00.000Z',
    ]);
    expect(log.lines.at(-1)).toEqual({ level: 'error', message: 'trust: no usable trust anchor; every TLS connection will fail verification' });
  });
});
