// Fallible protocol functions return a Result instead of throwing: callers must look at the error to get the value.

import { AzureError, type AzureErrorCode } from './azure-error';

export type Result<T> = { ok: true; value: T } | { ok: false; error: AzureError };

export type Failure = { ok: false; error: AzureError };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(code: AzureErrorCode, field: string | undefined, detail: string): Failure {
  return { ok: false, error: new AzureError(code, field, detail) };
}
