import { AzureError, fail } from '../../src/azure/azure-error';
import { err, ok } from '../../src/result';

describe('AzureError', () => {
  test('is an Error with a code, the field and a message naming the field', () => {
    const e = new AzureError('missing-field', 'HostName', 'is required');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('AzureError');
    expect(e.code).toBe('missing-field');
    expect(e.field).toBe('HostName');
    expect(e.message).toBe('HostName: is required');
  });

  test('without a field the message is the detail alone', () => {
    expect(new AzureError('clock-not-set', undefined, 'no time').message).toBe('no time');
  });
});

describe('Result helpers', () => {
  test('ok and fail build the two shapes', () => {
    expect(ok(3)).toEqual({ ok: true, value: 3 });
    const f = fail('invalid-json', 'payload', 'is not valid JSON');
    expect(f.ok).toBe(false);
    expect(f.error).toBeInstanceOf(AzureError);
    expect(f.error.message).toBe('payload: is not valid JSON');
    expect(err('x')).toEqual({ ok: false, error: 'x' });
  });
});
