import { createRequestIdGenerator } from '../../src/azure/request-id';

describe('request ids', () => {
  test('decimal counter from 1', () => {
    const next = createRequestIdGenerator();
    expect([next(), next(), next()]).toEqual(['1', '2', '3']);
  });

  test('generators are independent and may start elsewhere', () => {
    const a = createRequestIdGenerator(10);
    const b = createRequestIdGenerator();
    expect([a(), b(), a()]).toEqual(['10', '1', '11']);
  });

  test('wraps to 1 after 2^32 - 1; a bad start falls back to 1', () => {
    const next = createRequestIdGenerator(0xffffffff);
    expect([next(), next()]).toEqual(['4294967295', '1']);
    expect(createRequestIdGenerator(-5)()).toBe('1');
    expect(createRequestIdGenerator(1.5)()).toBe('1');
  });
});
