// The one result shape of src/: a fallible function returns ok(value) or err(error) instead of throwing, so the
// caller must look at `ok` before it can reach the value. Exceptions stay for bugs and for promise rejections.

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
