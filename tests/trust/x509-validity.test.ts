import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { issueCertificate, issueDeviceCertificate } from '../../emulator/src/pki';
import { readCertificateInfo, readTime } from '../../src/trust/x509-validity';
import { isSingleDerSequence } from '../../src/trust/der';

const root = (name: string) => new Uint8Array(readFileSync(new URL(`../../certs/${name}.der`, import.meta.url)));
const ROOTS = ['digicert-global-root-g2', 'microsoft-rsa-root-ca-2017', 'baltimore-cybertrust-root'];

function info(der: Uint8Array) {
  const read = readCertificateInfo(der);
  if (!read.ok) throw new Error(read.error.message);
  return read.value;
}

describe('validity and names of the shipped roots', () => {
  test.each(ROOTS)('%s agrees with node:crypto', (name) => {
    const der = root(name);
    const x = new X509Certificate(der);
    const got = info(der);
    expect(got.notBeforeMs).toBe(Date.parse(x.validFrom));
    expect(got.notAfterMs).toBe(Date.parse(x.validTo));
    const cn = /CN=([^\n]+)/.exec(x.subject)![1];
    expect(got.subjectCN).toBe(cn);
    expect(got.issuerCN).toBe(cn);
  });

  test('Baltimore ends on 2025-05-12 23:59:00 UTC', () => {
    expect(new Date(info(root('baltimore-cybertrust-root')).notAfterMs).toISOString()).toBe('2025-05-12T23:59:00.000Z');
  });
});

describe('subject CN of device certificates (registration id for X.509 attestation)', () => {
  test('CA-signed device certificate: subject CN is the registration id, issuer CN the CA', () => {
    const ca = issueCertificate({ commonName: 'Fleet CA', usage: 'ca' });
    const device = issueDeviceCertificate('sn-007-888', ca);
    const got = info(device.certDer);
    expect(got.subjectCN).toBe('sn-007-888');
    expect(got.issuerCN).toBe('Fleet CA');
  });

  test('dates after 2049 are GeneralizedTime and read right', () => {
    const cert = issueCertificate({
      commonName: 'long-lived',
      usage: 'ca',
      notBefore: new Date('2049-12-31T23:59:59Z'),
      notAfter: new Date('2051-06-30T12:00:00Z'),
    });
    const got = info(cert.certDer);
    expect(new Date(got.notBeforeMs).toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(new Date(got.notAfterMs).toISOString()).toBe('2051-06-30T12:00:00.000Z');
  });
});

describe('time fields', () => {
  const element = (tag: number, text: string) => {
    const bytes = Uint8Array.from([tag, text.length, ...Buffer.from(text, 'latin1')]);
    return readTime(bytes, { tag, start: 2, end: bytes.length });
  };

  test('UTCTime years 50..99 are 19xx, 00..49 are 20xx', () => {
    expect(element(0x17, '500101000000Z')).toBe(Date.UTC(1950, 0, 1));
    expect(element(0x17, '491231235959Z')).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
  });

  test('GeneralizedTime with four-digit years', () => {
    expect(element(0x18, '20500101000000Z')).toBe(Date.UTC(2050, 0, 1));
    expect(element(0x18, '20240229120000Z')).toBe(Date.UTC(2024, 1, 29, 12));
  });

  test('refuses what RFC 5280 does not allow', () => {
    for (const [tag, text] of [
      [0x17, '5001010000Z'], // no seconds
      [0x17, '500101000000+0100'], // offset instead of Z
      [0x18, '20500101000000.5Z'], // fraction
      [0x18, '20230229000000Z'], // no 29 February in 2023
      [0x17, '501301000000Z'], // month 13
      [0x17, '500101240000Z'], // hour 24
      [0x17, '5a0101000000Z'], // not a digit
      [0x04, '500101000000Z'], // not a time type
    ] as const) {
      expect([text, element(tag, text)]).toEqual([text, undefined]);
    }
  });
});

describe('bad input yields a typed error, never a throw', () => {
  const der = root('digicert-global-root-g2');

  test('every truncation', () => {
    for (let n = 0; n < der.length; n++) {
      const read = readCertificateInfo(der.subarray(0, n));
      expect(read.ok).toBe(false);
    }
  });

  test('every single-byte flip either fails cleanly or still reads', () => {
    for (let i = 0; i < der.length; i++) {
      const bad = der.slice();
      bad[i] ^= 0xff;
      expect(() => readCertificateInfo(bad)).not.toThrow();
    }
  });

  test('trailing bytes, PEM text, and a non-certificate sequence', () => {
    expect(readCertificateInfo(Uint8Array.from([...der, 0]))).toMatchObject({ ok: false, error: { code: 'malformed-der' } });
    const pem = new Uint8Array(readFileSync(new URL('../../certs/digicert-global-root-g2.pem', import.meta.url)));
    expect(readCertificateInfo(pem)).toMatchObject({ ok: false, error: { code: 'malformed-der' } });
    expect(readCertificateInfo(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x00]))).toMatchObject({ ok: false, error: { code: 'not-a-certificate' } });
    expect(readCertificateInfo(Uint8Array.from([0x30, 0x80, 0x00, 0x00]))).toMatchObject({ ok: false, error: { code: 'malformed-der' } });
  });

  test('DER sequence framing check used for private keys', () => {
    expect(isSingleDerSequence(der)).toBe(true);
    expect(isSingleDerSequence(der.subarray(1))).toBe(false);
    expect(isSingleDerSequence(new Uint8Array(0))).toBe(false);
  });
});
