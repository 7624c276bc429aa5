import { checkRenewFraction, checkSasTtl, renewalDelayMs } from '../../src/hub/renewal';

describe('renewal at 80 % of the token life', () => {
  it('renews after 80 % of the default hour', () => {
    const signedAt = 1_700_000_000_000;
    expect(renewalDelayMs(signedAt, signedAt / 1000 + 3600)).toBe(2_880_000);
  });

  it('measures the real life when the expiry was rounded down to a whole second', () => {
    // signed at .900 s with a 10 s TTL: the token lives 9.1 s, so renewal comes after 7.28 s, not 8 s
    expect(renewalDelayMs(1_000_900, 1_010)).toBe(7280);
  });

  it('uses a configured fraction and never goes negative', () => {
    expect(renewalDelayMs(0, 100, 0.5)).toBe(50_000);
    expect(renewalDelayMs(200_000, 100)).toBe(0);
  });
});

describe('renewal settings checks', () => {
  it('accepts sane values and names bad ones', () => {
    expect(checkSasTtl(3600)).toBeUndefined();
    expect(checkSasTtl(0)).toMatch(/sasTtlSeconds/);
    expect(checkSasTtl(1.5)).toMatch(/sasTtlSeconds/);
    expect(checkRenewFraction(0.8)).toBeUndefined();
    expect(checkRenewFraction(1)).toMatch(/renewAtFraction/);
    expect(checkRenewFraction(0)).toMatch(/renewAtFraction/);
  });
});
