// Test and emulator PKI: CAs, server and device certificates made on the fly with node-forge.
// RSA-2048 keys because Moddable's TLS stack speaks RSA/ECDHE_RSA only; SHA-256 signatures.
// Nothing made here is ever committed: the emulator keeps it in its state folder, tests in temp folders.
import { generateKeyPairSync, createHash, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface KeyAndCert {
  keyPem: string;
  certPem: string;
  /** DER of the certificate. */
  certDer: Uint8Array;
  /** DER of the private key, PKCS#8. */
  keyDer: Uint8Array;
}

export interface IssueOptions {
  commonName: string;
  /** Signing CA; omit for a self-signed certificate. */
  ca?: KeyAndCert;
  usage: 'ca' | 'server' | 'client';
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

const DAY_MS = 24 * 3600 * 1000;

function newRsaKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function serialNumber(): string {
  // Positive (high bit clear) random serial, as RFC 5280 asks.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

export function issueCertificate(options: IssueOptions): KeyAndCert {
  const keys = newRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serialNumber();
  const now = Date.now();
  cert.validity.notBefore = options.notBefore ?? new Date(now - DAY_MS);
  cert.validity.notAfter = options.notAfter ?? new Date(now + (options.usage === 'ca' ? 3650 : 825) * DAY_MS);
  const subject = [{ name: 'commonName', value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(options.ca ? forge.pki.certificateFromPem(options.ca.certPem).subject.attributes : subject);

  const extensions: object[] = [{ name: 'subjectKeyIdentifier' }];
  if (options.usage === 'ca') {
    extensions.push({ name: 'basicConstraints', cA: true, critical: true });
    extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  } else {
    extensions.push({ name: 'basicConstraints', cA: false });
    extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    extensions.push({ name: 'extKeyUsage', serverAuth: options.usage === 'server', clientAuth: options.usage === 'client' });
  }
  const altNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  // Every certificate names its issuer's key, roots included: Moddable's TLS stack refuses a chain whose last
  // certificate lacks an authorityKeyIdentifier.
  const issuerCert = options.ca ? forge.pki.certificateFromPem(options.ca.certPem) : cert;
  extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: issuerCert.generateSubjectKeyIdentifier().getBytes() });
  cert.setExtensions(extensions);

  const signingKeyPem = options.ca ? options.ca.keyPem : keys.privatePem;
  cert.sign(forge.pki.privateKeyFromPem(signingKeyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());

  const certPem = forge.pki.certificateToPem(cert);
  return { keyPem: keys.privatePem, certPem, certDer: pemToDer(certPem), keyDer: pemToDer(keys.privatePem) };
}

export function createCa(commonName: string, validity?: { notBefore?: Date; notAfter?: Date }): KeyAndCert {
  return issueCertificate({ commonName, usage: 'ca', ...validity });
}

/** An intermediate CA signed by `root`: servers send it with their leaf, as Azure's do. */
export function createIntermediateCa(root: KeyAndCert, commonName: string): KeyAndCert {
  return issueCertificate({ commonName, ca: root, usage: 'ca' });
}

/** A TLS server certificate for loopback: SAN localhost and 127.0.0.1 unless told otherwise. */
export function issueServerCertificate(
  ca: KeyAndCert,
  options: { commonName?: string; dnsNames?: string[]; ipAddresses?: string[]; notBefore?: Date; notAfter?: Date } = {},
): KeyAndCert {
  return issueCertificate({
    commonName: options.commonName ?? 'localhost',
    ca,
    usage: 'server',
    dnsNames: options.dnsNames ?? ['localhost'],
    ipAddresses: options.ipAddresses ?? ['127.0.0.1'],
    notBefore: options.notBefore,
    notAfter: options.notAfter,
  });
}

/** A device (client) certificate whose subject CN is the device or registration id. */
export function issueDeviceCertificate(commonName: string, ca?: KeyAndCert): KeyAndCert {
  return issueCertificate({ commonName, ca, usage: 'client' });
}

export function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Upper-case hex SHA-1 or SHA-256 of the DER certificate, as Azure shows thumbprints. */
export function thumbprint(der: Uint8Array, algorithm: 'sha1' | 'sha256' = 'sha256'): string {
  return createHash(algorithm).update(der).digest('hex').toUpperCase();
}

/** Subject common name of a PEM or DER certificate. */
export function subjectCommonName(cert: string | Uint8Array): string | undefined {
  const pem = typeof cert === 'string' ? cert : derToPem(cert);
  const field = forge.pki.certificateFromPem(pem).subject.getField('CN') as { value?: string } | null;
  return field?.value;
}
