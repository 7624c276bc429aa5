// Turns the files a user hands the CLI (PEM or DER, chains or single certificates, any common private key
// format) into the DER the security tags keep.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { looksLikePem, parsePem } from '../../src/trust/pem';
import { readCertificateInfo } from '../../src/trust/x509-validity';
import { CliError } from './cli-error';

function readBytes(option: string, file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(`${option} ${file}: cannot read the file (${code})`);
  }
}

/** Every certificate in a PEM file (in order) or the one certificate of a DER file. */
export function readCertificates(option: string, file: string): Uint8Array[] {
  const bytes = readBytes(option, file);
  let ders: Uint8Array[];
  if (looksLikePem(bytes)) {
    const pem = parsePem(Buffer.from(bytes).toString('latin1'));
    if (!pem.ok) throw new CliError(`${option} ${file}: ${pem.error}`);
    const certs = pem.value.filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE');
    if (certs.length === 0) throw new CliError(`${option} ${file}: holds no CERTIFICATE block (found ${pem.value.map((b) => b.label).join(', ')})`);
    ders = certs.map((b) => b.der);
  } else {
    ders = [bytes];
  }
  ders.forEach((der, i) => {
    const read = readCertificateInfo(der);
    if (!read.ok) throw new CliError(`${option} ${file}: certificate ${i + 1} is not a DER X.509 certificate (${read.error.message})`);
  });
  return ders;
}

/** A private key from PEM (PKCS#8, PKCS#1 RSA, SEC1 EC) or DER, returned as unencrypted PKCS#8 DER. */
export function readPrivateKey(option: string, file: string): { der: Uint8Array; key: KeyObject } {
  const bytes = readBytes(option, file);
  const buffer = Buffer.from(bytes);
  if (looksLikePem(bytes)) {
    const pem = parsePem(buffer.toString('latin1'));
    if (!pem.ok) throw new CliError(`${option} ${file}: ${pem.error}`);
    const keys = pem.value.filter((b) => b.label.endsWith('PRIVATE KEY'));
    if (keys.length !== 1) throw new CliError(`${option} ${file}: must hold exactly one PRIVATE KEY block (found ${keys.length})`);
    if (keys[0]!.label === 'ENCRYPTED PRIVATE KEY' || keys[0]!.hasHeaders) {
      throw new CliError(`${option} ${file}: the key is encrypted; the device needs it unencrypted (openssl pkcs8 -topk8 -nocrypt)`);
    }
  }
  let key: KeyObject | undefined;
  if (looksLikePem(bytes)) {
    key = tryKey(() => createPrivateKey(buffer.toString('latin1')));
  } else {
    for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
      key ??= tryKey(() => createPrivateKey({ key: buffer, format: 'der', type }));
    }
  }
  if (!key) throw new CliError(`${option} ${file}: not a private key in PEM or DER (PKCS#8, PKCS#1 or SEC1)`);
  return { der: new Uint8Array(key.export({ format: 'der', type: 'pkcs8' })), key };
}

function tryKey(make: () => KeyObject): KeyObject | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

/** Refuses a client certificate whose public key is not the private key's: TLS would fail with a vague error. */
export function checkKeyMatchesCertificate(leaf: Uint8Array, key: KeyObject, certFile: string, keyFile: string): void {
  if (!new X509Certificate(leaf).checkPrivateKey(key)) {
    throw new CliError(`--key ${keyFile}: does not belong to the first certificate of --cert ${certFile}`);
  }
}

/** A secret kept in a file, trimmed of the newline editors add. */
export function readSecretText(option: string, file: string): string {
  return Buffer.from(readBytes(option, file)).toString('utf8').trim();
}
