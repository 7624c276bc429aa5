// `iot-store fota keygen | sign | verify`: the vendor's side of signed firmware updates (src/fota). Keys are Ed25519
// (tweetnacl): the private key is its 32-byte seed in base64, written only to the file the user names (mode 0600,
// never over an existing file) and never printed; the public key is printed and written for the firmware's key slots.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { parseManifest, signedManifestText } from '../../src/fota/manifest';
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
  const fields = { fwVersion: need(values, 'version'), fwSize: image.length, sha256: createHash('sha256').update(image).digest('hex'), allowDowngrade: values['allow-downgrade'] === true };
  const location: Record<string, unknown> = { host: need(values, 'host'), path: need(values, 'path') };
  if (values.port !== undefined) location['port'] = Number(values.port);
  const firmware = {
    ...fields,
    jobId: values['job-id'] ?? `${fields.fwVersion}-${fields.sha256.slice(0, 8)}`,
    fwLocation: location,
    fwFragmentSize: values['fragment-size'] === undefined ? 4096 : Number(values['fragment-size']),
    keyId: keyIdOf(pair.publicKey),
    signature: Buffer.from(nacl.sign.detached(Buffer.from(signedManifestText(fields), 'utf8'), pair.secretKey)).toString('base64'),
  };
  const checked = parseManifest(firmware);
  if (!checked.ok) throw new CliError(checked.error.message);
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
  if (values.image !== undefined) {
    const image = readFileSync(values.image);
    const digest = createHash('sha256').update(image).digest('hex');
    if (image.length !== manifest.value.size || digest !== manifest.value.sha256Hex) throw new CliError(`hash-mismatch: ${values.image} is not the image the manifest names`);
    out(`image matches: sha256 ${digest}`);
  }
  return 0;
}
