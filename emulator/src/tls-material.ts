// The emulator's TLS identity: a CA people trust once, and a loopback server certificate it signs.
// Generated on first start and kept in the state folder (or only in memory for tests).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createCa, issueServerCertificate, pemToDer, type KeyAndCert } from './pki';

export interface TlsMaterial {
  ca: KeyAndCert;
  server: KeyAndCert;
  /** Path of the CA certificate (PEM) when kept on disk. */
  caFile?: string;
}

const FILES = { caKey: 'ca.key.pem', caCert: 'ca.cert.pem', serverKey: 'server.key.pem', serverCert: 'server.cert.pem' };

function fromPem(keyPem: string, certPem: string): KeyAndCert {
  return { keyPem, certPem, certDer: pemToDer(certPem), keyDer: pemToDer(keyPem) };
}

function stillValid(certPem: string, minimumDaysLeft: number): boolean {
  const cert = new X509Certificate(certPem);
  return new Date(cert.validTo).getTime() - Date.now() > minimumDaysLeft * 24 * 3600 * 1000;
}

export function createTlsMaterial(): TlsMaterial {
  const ca = createCa('Azure IoT XS Emulator CA');
  return { ca, server: issueServerCertificate(ca) };
}

/** Loads the CA and server certificate from `dir`, creating (or renewing) what is missing or about to expire. */
export function loadOrCreateTlsMaterial(dir: string): TlsMaterial {
  mkdirSync(dir, { recursive: true });
  const path = (name: string): string => join(dir, name);
  let ca: KeyAndCert;
  if (existsSync(path(FILES.caKey)) && existsSync(path(FILES.caCert)) && stillValid(readFileSync(path(FILES.caCert), 'utf8'), 30)) {
    ca = fromPem(readFileSync(path(FILES.caKey), 'utf8'), readFileSync(path(FILES.caCert), 'utf8'));
  } else {
    ca = createCa('Azure IoT XS Emulator CA');
    writeFileSync(path(FILES.caKey), ca.keyPem, { mode: 0o600 });
    writeFileSync(path(FILES.caCert), ca.certPem);
  }
  let server: KeyAndCert | undefined;
  if (existsSync(path(FILES.serverKey)) && existsSync(path(FILES.serverCert))) {
    const certPem = readFileSync(path(FILES.serverCert), 'utf8');
    const issuedByCa = new X509Certificate(certPem).checkIssued(new X509Certificate(ca.certPem));
    if (issuedByCa && stillValid(certPem, 7)) server = fromPem(readFileSync(path(FILES.serverKey), 'utf8'), certPem);
  }
  if (!server) {
    server = issueServerCertificate(ca);
    writeFileSync(path(FILES.serverKey), server.keyPem, { mode: 0o600 });
    writeFileSync(path(FILES.serverCert), server.certPem);
  }
  return { ca, server, caFile: path(FILES.caCert) };
}
