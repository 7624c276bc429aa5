// The emulator's TLS identity: a root CA people trust once, an intermediate it signs, and a loopback server
// certificate the intermediate signs. The server sends leaf + intermediate, like Azure's endpoints do; Moddable's
// TLS stack verifies only such a chain (it refuses a bare leaf issued straight by the trusted root).
// Generated on first start and kept in the state folder (or only in memory for tests).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createCa, createIntermediateCa, issueServerCertificate, pemToDer, type KeyAndCert } from './pki';

export interface TlsMaterial {
  /** The root devices trust. */
  ca: KeyAndCert;
  intermediate: KeyAndCert;
  /** The server key and certificate; `certPem` holds the chain to send (leaf, then intermediate), `certDer` the leaf. */
  server: KeyAndCert;
  /** Path of the CA certificate (PEM) when kept on disk. */
  caFile?: string;
}

const FILES = {
  caKey: 'ca.key.pem',
  caCert: 'ca.cert.pem',
  intermediateKey: 'intermediate.key.pem',
  intermediateCert: 'intermediate.cert.pem',
  serverKey: 'server.key.pem',
  serverCert: 'server.cert.pem',
};

const ROOT_NAME = 'Azure IoT XS Emulator Root CA';
const INTERMEDIATE_NAME = 'Azure IoT XS Emulator Intermediate CA';

function fromPem(keyPem: string, certPem: string): KeyAndCert {
  return { keyPem, certPem, certDer: pemToDer(certPem), keyDer: pemToDer(keyPem) };
}

function stillValid(certPem: string, minimumDaysLeft: number): boolean {
  const cert = new X509Certificate(certPem);
  return new Date(cert.validTo).getTime() - Date.now() > minimumDaysLeft * 24 * 3600 * 1000;
}

function issuedBy(certPem: string, issuer: KeyAndCert): boolean {
  return new X509Certificate(certPem).checkIssued(new X509Certificate(issuer.certPem));
}

/** The server identity with its chain: what a TLS server hands to node:tls as `cert`. */
function withChain(leaf: KeyAndCert, intermediate: KeyAndCert): KeyAndCert {
  return { ...leaf, certPem: leaf.certPem + intermediate.certPem };
}

export function createTlsMaterial(): TlsMaterial {
  const ca = createCa(ROOT_NAME);
  const intermediate = createIntermediateCa(ca, INTERMEDIATE_NAME);
  return { ca, intermediate, server: withChain(issueServerCertificate(intermediate), intermediate) };
}

/** Loads the CA chain and server certificate from `dir`, creating (or renewing) what is missing or about to expire. */
export function loadOrCreateTlsMaterial(dir: string): TlsMaterial {
  mkdirSync(dir, { recursive: true });
  const path = (name: string): string => join(dir, name);
  const load = (keyFile: string, certFile: string, valid: (certPem: string) => boolean): KeyAndCert | undefined => {
    if (!existsSync(path(keyFile)) || !existsSync(path(certFile))) return undefined;
    const certPem = readFileSync(path(certFile), 'utf8');
    return valid(certPem) ? fromPem(readFileSync(path(keyFile), 'utf8'), certPem) : undefined;
  };
  const save = (keyFile: string, certFile: string, material: KeyAndCert): KeyAndCert => {
    writeFileSync(path(keyFile), material.keyPem, { mode: 0o600 });
    writeFileSync(path(certFile), material.certPem);
    return material;
  };

  const ca = load(FILES.caKey, FILES.caCert, (pem) => stillValid(pem, 30)) ?? save(FILES.caKey, FILES.caCert, createCa(ROOT_NAME));
  const intermediate =
    load(FILES.intermediateKey, FILES.intermediateCert, (pem) => issuedBy(pem, ca) && stillValid(pem, 30)) ??
    save(FILES.intermediateKey, FILES.intermediateCert, createIntermediateCa(ca, INTERMEDIATE_NAME));
  const leaf =
    load(FILES.serverKey, FILES.serverCert, (pem) => issuedBy(pem, intermediate) && stillValid(pem, 7)) ??
    save(FILES.serverKey, FILES.serverCert, issueServerCertificate(intermediate));
  return { ca, intermediate, server: withChain(leaf, intermediate), caFile: path(FILES.caCert) };
}
