import { X509Certificate } from 'node:crypto';
import { createCa, issueServerCertificate, issueDeviceCertificate, thumbprint, subjectCommonName, pemToDer, derToPem } from '../../emulator/src/pki';

describe('emulator PKI', () => {
  const ca = createCa('Test Root CA');

  test('a server certificate for loopback is signed by the CA and names localhost and 127.0.0.1', () => {
    const server = issueServerCertificate(ca);
    const x = new X509Certificate(server.certPem);
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.ca).toBe(false);
    expect(new X509Certificate(ca.certPem).ca).toBe(true);
  });

  test('device certificates carry the registration id as CN, CA-signed or self-signed', () => {
    const signed = issueDeviceCertificate('dev-1', ca);
    const self = issueDeviceCertificate('dev-2');
    expect(subjectCommonName(signed.certPem)).toBe('dev-1');
    expect(subjectCommonName(self.certDer)).toBe('dev-2');
    expect(new X509Certificate(self.certPem).verify(new X509Certificate(self.certPem).publicKey)).toBe(true);
    expect(thumbprint(self.certDer, 'sha1')).toMatch(/^[0-9A-F]{40}$/);
    expect(thumbprint(self.certDer)).toBe(new X509Certificate(self.certPem).fingerprint256.replace(/:/g, ''));
  });

  test('PEM and DER convert both ways', () => {
    expect(pemToDer(derToPem(ca.certDer))).toEqual(ca.certDer);
  });
});
