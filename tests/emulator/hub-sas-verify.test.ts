// The emulator's own SAS verification (independent of src/): known vectors, any field order, typed failures.
import { createHmac } from 'node:crypto';
import { computeSasSignature, createSasToken, parseSasToken, verifySasToken } from '../../emulator/src/sas-verify';

const KEY = 'cGFzc3dvcmQ='; // "password"
const RESOURCE = 'myhub.azure-devices.net/devices/d1';
const NOW = 1_700_000_000_000;
const EXPIRY = 1_700_003_600;

function token(fields: string[]): string {
  return `SharedAccessSignature ${fields.join('&')}`;
}

function signed(sr = encodeURIComponent(RESOURCE), se = EXPIRY, key = KEY): string {
  return encodeURIComponent(Buffer.from(computeSasSignature(key, sr, se)).toString('base64'));
}

describe('signature', () => {
  it('matches the public HMAC vector (key cGFzc3dvcmQ= over "string-to-sign")', () => {
    const mac = createHmac('sha256', Buffer.from(KEY, 'base64')).update('string-to-sign').digest('base64');
    expect(mac).toBe('o1n1hiIVgzVA2+krq9ty1Z4xsIJKJZP3dYT8MOi65Y4=');
  });

  it('signs sr exactly as it appears in the token: the hex case of %2F changes the signature', () => {
    expect(signed('myhub.azure-devices.net%2fdevices%2fd1')).not.toBe(signed('myhub.azure-devices.net%2Fdevices%2Fd1'));
  });
});

describe('verify', () => {
  const options = { keys: [KEY], resource: RESOURCE, nowMs: NOW };

  it('accepts a token in any field order, with or without skn', () => {
    const sr = encodeURIComponent(RESOURCE);
    const a = token([`sr=${sr}`, `sig=${signed()}`, `se=${EXPIRY}`]);
    const b = token([`se=${EXPIRY}`, `skn=device`, `sig=${signed()}`, `sr=${sr}`]);
    expect(verifySasToken(a, options)).toEqual(expect.objectContaining({ ok: true, keyIndex: 0 }));
    expect(verifySasToken(b, options)).toEqual(expect.objectContaining({ ok: true, keyIndex: 0 }));
  });

  it('accepts the secondary key and says which key matched', () => {
    const other = Buffer.alloc(32, 7).toString('base64');
    const t = createSasToken({ key: other, resource: RESOURCE, expiry: EXPIRY });
    expect(verifySasToken(t, { ...options, keys: [KEY, other] })).toEqual(expect.objectContaining({ ok: true, keyIndex: 1 }));
  });

  it('compares the resource case-insensitively', () => {
    const t = createSasToken({ key: KEY, resource: RESOURCE.toUpperCase(), expiry: EXPIRY });
    expect(verifySasToken(t, options).ok).toBe(true);
  });

  it.each([
    ['no prefix', `sr=a&sig=b&se=1`],
    ['a missing sig', token([`sr=${encodeURIComponent(RESOURCE)}`, `se=${EXPIRY}`])],
    ['a missing se', token([`sr=${encodeURIComponent(RESOURCE)}`, `sig=${signed()}`])],
    ['a non-numeric se', token([`sr=${encodeURIComponent(RESOURCE)}`, `sig=${signed()}`, 'se=soon'])],
    ['a duplicated field', token([`sr=${encodeURIComponent(RESOURCE)}`, `sr=x`, `sig=${signed()}`, `se=${EXPIRY}`])],
    ['an unknown field', token([`sr=${encodeURIComponent(RESOURCE)}`, `sig=${signed()}`, `se=${EXPIRY}`, 'x=1'])],
    ['a signature that is not 32 bytes', token([`sr=${encodeURIComponent(RESOURCE)}`, 'sig=AAAA', `se=${EXPIRY}`])],
    ['bad percent-encoding', token(['sr=%E0%A4%A', `sig=${signed()}`, `se=${EXPIRY}`])],
  ])('reports malformed for %s', (_label, text) => {
    expect(verifySasToken(text, options)).toEqual(expect.objectContaining({ ok: false, reason: 'malformed' }));
  });

  it('reports expired at or after se', () => {
    const t = createSasToken({ key: KEY, resource: RESOURCE, expiry: NOW / 1000 });
    expect(verifySasToken(t, options)).toEqual(expect.objectContaining({ ok: false, reason: 'expired' }));
  });

  it('reports wrong-resource for a token of another device', () => {
    const t = createSasToken({ key: KEY, resource: 'myhub.azure-devices.net/devices/d2', expiry: EXPIRY });
    expect(verifySasToken(t, options)).toEqual(expect.objectContaining({ ok: false, reason: 'wrong-resource' }));
  });

  it('reports bad-signature for another key, without echoing any key', () => {
    const t = createSasToken({ key: Buffer.alloc(32, 9).toString('base64'), resource: RESOURCE, expiry: EXPIRY });
    const result = verifySasToken(t, options);
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'bad-signature' }));
    expect(JSON.stringify(result)).not.toContain(KEY);
  });

  it('enforces skn when asked (DPS uses skn=registration)', () => {
    const withSkn = createSasToken({ key: KEY, resource: RESOURCE, expiry: EXPIRY, keyName: 'registration' });
    expect(verifySasToken(withSkn, { ...options, keyName: 'registration' }).ok).toBe(true);
    const without = createSasToken({ key: KEY, resource: RESOURCE, expiry: EXPIRY });
    expect(verifySasToken(without, { ...options, keyName: 'registration' })).toEqual(expect.objectContaining({ reason: 'wrong-key-name' }));
  });

  it('parses the fields it verified', () => {
    const parsed = parseSasToken(createSasToken({ key: KEY, resource: RESOURCE, expiry: EXPIRY, keyName: 'k' }));
    expect(parsed).toEqual({ ok: true, token: expect.objectContaining({ resource: RESOURCE, rawResource: encodeURIComponent(RESOURCE), expiry: EXPIRY, keyName: 'k' }) });
  });
});
