// The vendor signature on a manifest: Ed25519 (tweetnacl's `nacl.sign.detached.verify`) over the exact bytes of
// signedManifestText, against the vendor public keys built into the firmware. Two slots allow a key rotation: ship
// the new key in slot 2 with one release, sign with it from the next one, retire the old key after that.

import nacl from 'tweetnacl';
import { sha256 } from '../crypto/sha256';
import { toHex } from '../crypto/hex';
import { ok, type Result } from '../result';
import { fotaError, type FotaError } from './fota-error';
import { signedManifestBytes, type FotaManifest } from './manifest';

/** The vendor public keys (32 bytes each) in flash; undefined for an empty slot. */
export type VendorKeys = readonly [Uint8Array | undefined, Uint8Array | undefined];

/** The 8-hex-digit name of a public key: the first 4 bytes of its SHA-256. */
export function keyIdOf(publicKey: Uint8Array): string {
  return toHex(sha256(publicKey).subarray(0, 4));
}

/** The slot (0 or 1) whose key signed the manifest, or why it is refused. */
export function verifyManifest(manifest: FotaManifest, keys: VendorKeys): Result<number, FotaError> {
  for (let slot = 0; slot < keys.length; slot++) {
    const key = keys[slot];
    if (key === undefined || key.length !== 32 || keyIdOf(key) !== manifest.keyId) continue;
    if (nacl.sign.detached.verify(signedManifestBytes(manifest), manifest.signature, key)) return ok(slot);
    return fotaError('bad-signature', `firmware.signature does not verify with key ${manifest.keyId}`, 'signature');
  }
  return fotaError('unknown-key', `firmware.keyId ${manifest.keyId} is in no key slot`, 'keyId');
}
