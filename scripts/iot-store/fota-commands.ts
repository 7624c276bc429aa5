// `iot-store fota keygen | sign | verify`: the vendor's side of signed firmware updates (src/fota). Keys are Ed25519
// (tweetnacl): the private key is its 32-byte seed in base64, written only to the file the user names (mode 0600,
// never over an existing file) and never printed; the public key is printed and written for the firmware's key slots.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { parseManifest, signedManifestText, type SignedFields } from '../../src/fota/manifest';
import { parseTrustBundle } from '../../src/fota/trust-bundle';
import { readDer } from '../../src/trust/der';
import { looksLikePem, parsePem } from '../../src/trust/pem';
import { readCertificateInfo } from '../../src/trust/x509-validity';
import { keyIdOf, verifyManifest } from '../../src/fota/signature';
import { CliError } from './cli-error';

export interface FotaValues {
  'private-key'?: string;
  'public-key'?: string[];
  image?: string;
  version?: string;
  'job-id'?: string;
  host?: string;
  port?: string;
  path?: string;
  'fragment-size'?: string;
  'allow-downgrade'?: boolean;
  manifest?: string;
  'trust-bundle'?: string[];
}

/** Generous: the device applies its own, smaller budget (docs/fota.md). */
const CLI_BUNDLE_BYTES = 64 * 1024;

/** Every certificate of the PEM or DER files, in order, each checked to read as an X.509 certificate. */
function readBundleFiles(paths: string[]): Uint8Array[] {
  const roots: Uint8Array[] = [];
  for (const path of paths) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch {
      throw new CliError(`cannot read the trust bundle file ${path}`);
    }
    let ders: Uint8Array[] = [];
    if (looksLikePem(bytes)) {
      const pem = parsePem(Buffer.from(bytes).toString('utf8'));
      if (!pem.ok) throw new CliError(`${path}: ${pem.error}`);
      ders = pem.value.filter((block) => block.label === 'CERTIFICATE').map((block) => block.der);
    } else {
      // DER: one certificate, or several one after another.
      for (let at = 0; at < bytes.length; ) {
        const element = readDer(bytes, at);
        if (element === undefined) throw new CliError(`${path}: not DER at byte ${at}`);
        ders.push(bytes.slice(at, element.end));
        at = element.end;
      }
    }
    if (ders.length === 0) throw new CliError(`${path}: holds no certificate`);
    ders.forEach((der, i) => {
      const read = readCertificateInfo(der);
      if (!read.ok) throw new CliError(`${path}: certificate ${i + 1} is not an X.509 certificate (${read.error.message})`);
      // A twin string holds at most 4 KB: 3,072 bytes of DER in base64.
      if (der.length > 3072) throw new CliError(`${path}: certificate ${i + 1} is ${der.length} bytes; a twin string takes 3072 bytes of DER in base64`);
    });
    roots.push(...ders);
  }
  return roots;
}

function need(values: FotaValues, name: keyof FotaValues): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new CliError(`--${name} is required`);
  return value;
}

function readKeyFile(path: string, length: number, what: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    throw new CliError(`cannot read the ${what} file ${path}`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== length || bytes.toString('base64') !== text) throw new CliError(`${path} is not a ${what} (${length} bytes in base64)`);
  return new Uint8Array(bytes);
}

export function fotaKeygen(values: FotaValues, out: (text: string) => void): number {
  const privatePath = need(values, 'private-key');
  const publicPath = values['public-key']?.[0];
  for (const path of [privatePath, publicPath]) if (path !== undefined && existsSync(path)) throw new CliError(`${path} exists; not written over`);
  const seed = nacl.randomBytes(32);
  const pair = nacl.sign.keyPair.fromSeed(seed);
  writeFileSync(privatePath, `${Buffer.from(seed).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  const publicText = Buffer.from(pair.publicKey).toString('base64');
  if (publicPath !== undefined) writeFileSync(publicPath, `${publicText}\n`, { flag: 'wx' });
  out(`private key written to ${privatePath} (keep it off the device and out of the repository)`);
  out(`public key ${publicText}`);
  out(`key id ${keyIdOf(pair.publicKey)}`);
  return 0;
}

export function fotaSign(values: FotaValues, out: (text: string) => void): number {
  const seed = readKeyFile(need(values, 'private-key'), 32, 'private key');
  const imagePath = need(values, 'image');
  let image: Buffer;
  try {
    image = readFileSync(imagePath);
  } catch {
    throw new CliError(`cannot read the image ${imagePath}`);
  }
  const pair = nacl.sign.keyPair.fromSeed(seed);
  const fields: SignedFields = { fwVersion: need(values, 'version'), fwSize: image.length, sha256: createHash('sha256').update(image).digest('hex'), allowDowngrade: values['allow-downgrade'] === true };
  const roots = values['trust-bundle'] === undefined ? undefined : readBundleFiles(values['trust-bundle']);
  if (roots !== undefined) {
    const hash = createHash('sha256');
    for (const der of roots) hash.update(der);
    fields.trustSha256 = hash.digest('hex');
  }
  const location: Record<string, unknown> = { host: need(values, 'host'), path: need(values, 'path') };
  if (values.port !== undefined) location['port'] = Number(values.port);
  const firmware = {
    ...fields,
    jobId: values['job-id'] ?? `${fields.fwVersion}-${fields.sha256.slice(0, 8)}`,
    fwLocation: location,
    fwFragmentSize: values['fragment-size'] === undefined ? 4096 : Number(values['fragment-size']),
    keyId: keyIdOf(pair.publicKey),
    signature: Buffer.from(nacl.sign.detached(Buffer.from(signedManifestText(fields), 'utf8'), pair.secretKey)).toString('base64'),
    ...(roots === undefined ? {} : { trustBundle: roots.map((der) => Buffer.from(der).toString('base64')) }),
  };
  const checked = parseManifest(firmware);
  if (!checked.ok) throw new CliError(checked.error.message);
  if (roots !== undefined) {
    const bundle = parseTrustBundle(firmware.trustBundle, fields.trustSha256 as string, CLI_BUNDLE_BYTES);
    if (!bundle.ok) throw new CliError(`${bundle.error.code}: ${bundle.error.message}`);
  }
  out(JSON.stringify(firmware, null, 2));
  return 0;
}

export function fotaVerify(values: FotaValues, out: (text: string) => void): number {
  const keys = (values['public-key'] ?? []).map((path) => readKeyFile(path, 32, 'public key'));
  if (keys.length === 0 || keys.length > 2) throw new CliError('give one or two --public-key files (the key slots)');
  const manifestPath = need(values, 'manifest');
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    throw new CliError(`${manifestPath} is not readable JSON`);
  }
  if (typeof value === 'object' && value !== null && 'firmware' in value) value = (value as { firmware: unknown }).firmware;
  const manifest = parseManifest(value);
  if (!manifest.ok) throw new CliError(`${manifest.error.code}: ${manifest.error.message}`);
  const signed = verifyManifest(manifest.value, [keys[0], keys[1]]);
  if (!signed.ok) throw new CliError(`${signed.error.code}: ${signed.error.message}`);
  out(`signature good: key ${manifest.value.keyId} (slot ${signed.value + 1}), version ${manifest.value.version}, ${manifest.value.size} bytes`);
  if (manifest.value.trustSha256 !== undefined) {
    const bundle = parseTrustBundle(manifest.value.trustBundle, manifest.value.trustSha256, CLI_BUNDLE_BYTES);
    if (!bundle.ok) throw new CliError(`${bundle.error.code}: ${bundle.error.message}`);
    const bytes = bundle.value.reduce((sum, der) => sum + der.length, 0);
    out(`trust bundle: ${bundle.value.length} root(s), ${bytes} bytes of DER, sha256 ${manifest.value.trustSha256}`);
  }
  if (values.image !== undefined) {
    const image = readFileSync(values.image);
    const digest = createHash('sha256').update(image).digest('hex');
    if (image.length !== manifest.value.size || digest !== manifest.value.sha256Hex) throw new CliError(`hash-mismatch: ${values.image} is not the image the manifest names`);
    out(`image matches: sha256 ${digest}`);
  }
  return 0;
}
