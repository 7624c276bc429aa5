// Shared pieces of the FOTA tests: a vendor key pair from a fixed seed, a signer that builds the desired `firmware`
// object the way the vendor CLI does, deterministic images, and a hub fake that merges reported patches the way
// the twin does (objects merge key by key, null deletes).
import nacl from 'tweetnacl';
import { createHash } from 'node:crypto';
import { signedManifestText, type SignedFields } from '../../src/fota/manifest';
import { keyIdOf } from '../../src/fota/signature';

export const SEED_A = new Uint8Array(32).fill(1);
export const SEED_B = new Uint8Array(32).fill(2);
export const VENDOR_A = nacl.sign.keyPair.fromSeed(SEED_A);
export const VENDOR_B = nacl.sign.keyPair.fromSeed(SEED_B);
export const STRANGER = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(3));

export function image(size: number, salt = 0): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = 0x12345678 ^ salt;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface SignOptions {
  version: string;
  jobId?: string;
  host?: string;
  port?: number;
  path?: string;
  fragmentSize?: number;
  allowDowngrade?: boolean;
  key?: nacl.SignKeyPair;
  size?: number;
  sha256?: string;
  /** DER roots to carry as a trust bundle (signed through trustSha256). */
  trustBundle?: Uint8Array[];
}

/** The SHA-256 of a trust bundle: over its DER roots, one after another. */
export function bundleSha256Hex(roots: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const der of roots) hash.update(der);
  return hash.digest('hex');
}

/** The desired `firmware` object for `bytes`, signed with `key` (vendor A by default). */
export function signedFirmware(bytes: Uint8Array, options: SignOptions): Record<string, unknown> {
  const key = options.key ?? VENDOR_A;
  const fields: SignedFields = { fwVersion: options.version, fwSize: options.size ?? bytes.length, sha256: options.sha256 ?? sha256Hex(bytes), allowDowngrade: options.allowDowngrade ?? false };
  if (options.trustBundle !== undefined) fields.trustSha256 = bundleSha256Hex(options.trustBundle);
  const signature = nacl.sign.detached(new TextEncoder().encode(signedManifestText(fields)), key.secretKey);
  return {
    ...fields,
    ...(options.trustBundle === undefined ? {} : { trustBundle: options.trustBundle.map((der) => Buffer.from(der).toString('base64')) }),
    jobId: options.jobId ?? `job-${options.version}`,
    fwLocation: { host: options.host ?? '127.0.0.1', port: options.port ?? 443, path: options.path ?? `/fw/${options.version}.bin` },
    fwFragmentSize: options.fragmentSize ?? 1024,
    keyId: keyIdOf(key.publicKey),
    signature: Buffer.from(signature).toString('base64'),
  };
}

export type Patch = Record<string, unknown>;

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete target[key];
    else if (typeof value === 'object' && !Array.isArray(value)) {
      const inner = typeof target[key] === 'object' && target[key] !== null ? (target[key] as Record<string, unknown>) : {};
      merge(inner, value as Record<string, unknown>);
      target[key] = inner;
    } else target[key] = value;
  }
}

export class ReportedTwin {
  readonly patches: Patch[] = [];
  readonly reported: Record<string, unknown> = {};

  patchReported(patch: Patch): Promise<number | undefined> {
    this.patches.push(JSON.parse(JSON.stringify(patch)) as Patch);
    merge(this.reported, patch);
    return Promise.resolve(this.patches.length);
  }

  /** The fwUpdateStatus of every firmware patch, in order. */
  statuses(): string[] {
    return this.patches.map((p) => (p['firmware'] as Record<string, unknown>)['fwUpdateStatus'] as string);
  }

  get firmware(): Record<string, unknown> {
    return this.reported['firmware'] as Record<string, unknown>;
  }
}
