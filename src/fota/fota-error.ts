// What can go wrong with a firmware update, one code each, so firmware.error in the twin and the logs name the
// problem the same way on every host. Messages name the field or the figure, never a key.

export type FotaErrorCode =
  /** The desired `firmware` value is not a JSON object. */
  | 'not-object'
  /** A manifest field is missing or malformed; `field` names it. */
  | 'bad-field'
  /** `keyId` names no vendor key slot of this device. */
  | 'unknown-key'
  /** The Ed25519 signature does not verify over the manifest bytes. */
  | 'bad-signature'
  /** The version is not newer than the running one and the manifest does not allow a downgrade. */
  | 'downgrade'
  /** The image is larger than the slot, or the server sent more than the manifest's size. */
  | 'oversize'
  /** The server holds fewer bytes than the manifest's size. */
  | 'short-download'
  /** The downloaded image's SHA-256 is not the manifest's. */
  | 'hash-mismatch'
  /** Fetching failed for good: the failure policy stopped retrying (404, a refused certificate...). */
  | 'download'
  /** The update slot or the progress record could not be written. */
  | 'storage'
  /** The new image did not confirm itself and the host went back to the old one. */
  | 'rolled-back'
  /** A trust bundle entry is not a certificate; `field` names the entry (trustBundle[i]). */
  | 'bad-root';

export interface FotaError {
  code: FotaErrorCode;
  field?: string;
  message: string;
}

export function fotaProblem(code: FotaErrorCode, message: string, field?: string): FotaError {
  return field === undefined ? { code, message } : { code, field, message };
}

export function fotaError(code: FotaErrorCode, message: string, field?: string): { ok: false; error: FotaError } {
  return { ok: false, error: fotaProblem(code, message, field) };
}
