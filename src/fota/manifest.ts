// The update manifest, read from the twin's desired `firmware` object. Field names follow the nRF Connect
// azure_iot_hub library where they fit (fwVersion, jobId, fwLocation {host, path}, fwFragmentSize); ours adds
// fwSize, sha256, allowDowngrade, keyId and signature, and fwLocations for more than one place to fetch from.
//
//   {"fwVersion":"1.2.0","jobId":"job-7","fwSize":123456,"sha256":"<64 hex>","allowDowngrade":false,
//    "fwLocation":{"host":"fw.example.com","path":"/images/1.2.0.bin"},"fwFragmentSize":4096,
//    "keyId":"<8 hex>","signature":"<base64, 64 bytes>"}
//
// The signature covers the manifest bytes `signedManifestText` builds from what says WHAT is installed (version,
// size, digest, downgrade permission), in a fixed key order. Where to fetch it and in what fragment size are not
// signed: the digest binds the image, so a mirror can move without a new signature.

import type { JsonValue } from '../azure/json';
import { base64Decode } from '../encoding/base64';
import { utf8Encode } from '../encoding/utf8';
import { ok, type Result } from '../result';
import { fotaError, type FotaError } from './fota-error';

export interface FotaLocation {
  host: string;
  port: number;
  path: string;
}

export interface FotaManifest {
  version: string;
  jobId: string;
  size: number;
  /** 32 bytes. */
  sha256: Uint8Array;
  sha256Hex: string;
  allowDowngrade: boolean;
  locations: FotaLocation[];
  fragmentSize: number;
  /** 8 hex digits: the first 4 bytes of the SHA-256 of the vendor public key that signed. */
  keyId: string;
  /** 64 bytes. */
  signature: Uint8Array;
  /** A new trust bundle rides along (src/fota/trust-bundle.ts): its SHA-256, hex, which the signature covers... */
  trustSha256?: string;
  /** ...and the bundle as sent (a list of base64 DER roots), read by the trust part. */
  trustBundle?: JsonValue;
}

export const FOTA_PROPERTY = 'firmware';
export const DEFAULT_FRAGMENT_SIZE = 4096;
const MAX_LOCATIONS = 4;
const VERSION = /^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX8 = /^[0-9a-f]{8}$/;
const HOST = /^[A-Za-z0-9.-]{1,253}$/;
const PATH = /^\/[\x21-\x7e]{0,511}$/;
const JOB = /^[\x20-\x7e]{1,64}$/;

type Obj = { [key: string]: JsonValue | undefined };

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bad(field: string, problem: string): { ok: false; error: FotaError } {
  return fotaError('bad-field', `firmware.${field} ${problem}`, field);
}

function wholeNumber(value: unknown, min: number, max: number): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}

function readLocation(value: unknown, field: string): Result<FotaLocation, FotaError> {
  if (!isObj(value)) return bad(field, 'must be an object {host, path}');
  const { host, path, port, protocol } = value;
  if (protocol !== undefined && protocol !== 'https') return bad(`${field}.protocol`, 'must be https');
  if (typeof host !== 'string' || !HOST.test(host)) return bad(`${field}.host`, 'must be a host name');
  if (typeof path !== 'string' || !PATH.test(path)) return bad(`${field}.path`, 'must be an absolute path');
  const portNumber = port === undefined ? 443 : wholeNumber(port, 1, 65535);
  if (portNumber === undefined) return bad(`${field}.port`, 'must be 1-65535');
  return ok({ host, port: portNumber, path });
}

/** The manifest in the desired `firmware` value, checked field by field (the signature is checked separately). */
export function parseManifest(desired: unknown): Result<FotaManifest, FotaError> {
  if (!isObj(desired)) return fotaError('not-object', 'firmware must be a JSON object');
  const { fwVersion, jobId, fwSize, sha256, allowDowngrade, fwLocation, fwLocations, fwFragmentSize, keyId, signature, trustSha256, trustBundle } = desired;
  if (typeof fwVersion !== 'string' || !VERSION.test(fwVersion)) return bad('fwVersion', 'must be a dotted version like 1.2.0');
  if (typeof jobId !== 'string' || !JOB.test(jobId)) return bad('jobId', 'must be 1-64 printable characters');
  const size = wholeNumber(fwSize, 1, 0x7fffffff);
  if (size === undefined) return bad('fwSize', 'must be a positive whole number of bytes');
  if (typeof sha256 !== 'string' || !HEX64.test(sha256)) return bad('sha256', 'must be 64 lowercase hex digits');
  if (allowDowngrade !== undefined && typeof allowDowngrade !== 'boolean') return bad('allowDowngrade', 'must be true or false');
  const raw = fwLocations === undefined ? [fwLocation] : fwLocations;
  if (fwLocations !== undefined && (!Array.isArray(fwLocations) || fwLocations.length === 0 || fwLocations.length > MAX_LOCATIONS)) {
    return bad('fwLocations', `must be a list of 1-${MAX_LOCATIONS} locations`);
  }
  const locations: FotaLocation[] = [];
  for (let i = 0; i < (raw as unknown[]).length; i++) {
    const location = readLocation((raw as unknown[])[i], fwLocations === undefined ? 'fwLocation' : `fwLocations[${i}]`);
    if (!location.ok) return location;
    locations.push(location.value);
  }
  const fragmentSize = fwFragmentSize === undefined ? DEFAULT_FRAGMENT_SIZE : wholeNumber(fwFragmentSize, 256, 1 << 20);
  if (fragmentSize === undefined) return bad('fwFragmentSize', 'must be 256 to 1048576 bytes');
  if (typeof keyId !== 'string' || !HEX8.test(keyId)) return bad('keyId', 'must be 8 lowercase hex digits');
  const sig = typeof signature === 'string' ? base64Decode(signature) : undefined;
  if (sig === undefined || !sig.ok || sig.value.length !== 64) return bad('signature', 'must be 64 bytes in base64');
  if ((trustSha256 === undefined) !== (trustBundle === undefined)) return bad(trustSha256 === undefined ? 'trustSha256' : 'trustBundle', 'must come with the other');
  if (trustSha256 !== undefined && (typeof trustSha256 !== 'string' || !HEX64.test(trustSha256))) return bad('trustSha256', 'must be 64 lowercase hex digits');
  const trust = trustBundle === undefined ? {} : { trustSha256: trustSha256 as string, trustBundle };
  return ok({
    ...trust,
    version: fwVersion,
    jobId,
    size,
    sha256: hexBytes(sha256),
    sha256Hex: sha256,
    allowDowngrade: allowDowngrade === true,
    locations,
    fragmentSize,
    keyId,
    signature: sig.value,
  });
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export interface SignedFields {
  fwVersion: string;
  fwSize: number;
  sha256: string;
  allowDowngrade: boolean;
  /** Present when the manifest carries a trust bundle. */
  trustSha256?: string;
}

/**
 * The exact text the vendor signs and the device verifies: JSON of these four fields in this order, and a fifth,
 * `trustSha256`, at the end when the manifest carries a trust bundle.
 */
export function signedManifestText(fields: SignedFields): string {
  const signed: SignedFields = { fwVersion: fields.fwVersion, fwSize: fields.fwSize, sha256: fields.sha256, allowDowngrade: fields.allowDowngrade };
  if (fields.trustSha256 !== undefined) signed.trustSha256 = fields.trustSha256;
  return JSON.stringify(signed);
}

export function signedManifestBytes(manifest: FotaManifest): Uint8Array {
  const fields: SignedFields = { fwVersion: manifest.version, fwSize: manifest.size, sha256: manifest.sha256Hex, allowDowngrade: manifest.allowDowngrade };
  if (manifest.trustSha256 !== undefined) fields.trustSha256 = manifest.trustSha256;
  return utf8Encode(signedManifestText(fields));
}

/** Negative when a < b, 0 when equal, positive when a > b; dotted numeric versions, missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = Number(x[i] ?? 0) - Number(y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
