import { isRetryableStatus, isSuccessStatus } from '../../src/azure/status';

describe('status classes', () => {
  test('success is below 400', () => {
    expect([200, 202, 204, 399, 400, 429, 500].map(isSuccessStatus)).toEqual([true, true, true, true, false, false, false]);
  });

  test('429 and 5xx are retryable; other failures are not', () => {
    expect([400, 401, 403, 404, 412, 429, 500, 503, 504].map(isRetryableStatus)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });
});
