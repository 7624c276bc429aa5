// Test support: the CryptoPort HMAC over node:crypto, and unwrapping of protocol results.
import { createHmac } from 'node:crypto';
import type { AzureError } from '../../src/azure/azure-error';
import type { Result } from '../../src/result';

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

/** The value of a successful result; fails the test with the error message otherwise. */
export function unwrap<T>(result: Result<T, AzureError>): T {
  if (!result.ok) throw new Error(`unexpected ${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** The error of a failed result; fails the test when it succeeded. */
export function errorOf<T>(result: Result<T, AzureError>): { code: string; field: string | undefined; message: string } {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return { code: result.error.code, field: result.error.field, message: result.error.message };
}
