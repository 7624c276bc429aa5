import common from 'azure-iot-common';
import device from 'azure-iot-device';
import { buildDpsSasToken, buildHubSasToken, buildSasToken, dpsSasResource, expiryFromClock, hmacBase64, hubSasResource } from '../../src/azure/sas-token';
import { parseSasToken, sasSignatureMatches } from '../../src/azure/sas-verify';
import { errorOf, hmacSha256, unwrap } from './support';

const KEY = 'cGFzc3dvcmQ=';
const HOST = 'contoso.azure-devices.net';
const EXPIRY = 1700000000;

describe('SAS signature', () => {
  test('public HMAC vector: key cGFzc3dvcmQ= over string-to-sign', () => {
    expect(unwrap(hmacBase64(KEY, 'string-to-sign', hmacSha256))).toBe('o1n1hiIVgzVA2+krq9ty1Z4xsIJKJZP3dYT8MOi65Y4=');
  });

  test('the key may be given as bytes', () => {
    const bytes = new TextEncoder().encode('password');
    expect(unwrap(hmacBase64(bytes, 'string-to-sign', hmacSha256))).toBe('o1n1hiIVgzVA2+krq9ty1Z4xsIJKJZP3dYT8MOi65Y4=');
  });
});

describe('SAS resources', () => {
  test('hub device and module resources are URL-encoded', () => {
    expect(unwrap(hubSasResource(HOST, 'device-1'))).toBe('contoso.azure-devices.net%2Fdevices%2Fdevice-1');
    expect(unwrap(hubSasResource(HOST, 'd1', 'm1'))).toBe('contoso.azure-devices.net%2Fdevices%2Fd1%2Fmodules%2Fm1');
    expect(unwrap(hubSasResource(HOST, 'a:b@c'))).toBe('contoso.azure-devices.net%2Fdevices%2Fa%3Ab%40c');
  });

  test('DPS resource', () => {
    expect(unwrap(dpsSasResource('0ne00000A0A', 'reg-1'))).toBe('0ne00000A0A%2Fregistrations%2Freg-1');
  });

  test('bad identifiers are named', () => {
    expect(errorOf(hubSasResource(HOST, 'a/b')).field).toBe('deviceId');
    expect(errorOf(hubSasResource(HOST, 'd', 'm+')).field).toBe('moduleId');
    expect(errorOf(dpsSasResource('0ne!', 'r')).field).toBe('idScope');
  });
});

describe('buildSasToken', () => {
  test('exact token for a hub device', () => {
    const token = unwrap(
      buildSasToken({ resource: 'contoso.azure-devices.net%2Fdevices%2Fdevice-1', key: KEY, expiryUnixSeconds: EXPIRY }, hmacSha256),
    );
    expect(token).toBe(
      'SharedAccessSignature sr=contoso.azure-devices.net%2Fdevices%2Fdevice-1&sig=ocbX%2BoCwamWD0U%2BRlrXq6kar6aGprl7iKeA%2B5982AAI%3D&se=1700000000',
    );
  });

  test('the resource is signed exactly as given: the hex case of %2F changes the signature', () => {
    const lower = unwrap(buildSasToken({ resource: 'contoso.azure-devices.net%2fdevices%2fdevice-1', key: KEY, expiryUnixSeconds: EXPIRY }, hmacSha256));
    expect(lower).toBe(
      'SharedAccessSignature sr=contoso.azure-devices.net%2fdevices%2fdevice-1&sig=1bVjuvxUgR7E9QioSEHl2KdZE%2BJGVMY8LmahS3QXPRQ%3D&se=1700000000',
    );
  });

  test('skn is appended, URL-encoded', () => {
    const token = unwrap(buildSasToken({ resource: 'r', key: KEY, expiryUnixSeconds: 5, keyName: 'a policy' }, hmacSha256));
    expect(token.endsWith('&se=5&skn=a%20policy')).toBe(true);
  });

  test('refuses a raw (unencoded) resource, a bad expiry or key, and an empty key name', () => {
    expect(errorOf(buildSasToken({ resource: `${HOST}/devices/d1`, key: KEY, expiryUnixSeconds: EXPIRY }, hmacSha256))).toEqual({
      code: 'invalid-argument',
      field: 'resource',
      message: 'resource: must be the URL-encoded sr text (see hubSasResource / dpsSasResource)',
    });
    expect(errorOf(buildSasToken({ resource: '', key: KEY, expiryUnixSeconds: EXPIRY }, hmacSha256)).field).toBe('resource');
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(errorOf(buildSasToken({ resource: 'r', key: KEY, expiryUnixSeconds: bad }, hmacSha256)).field).toBe('expiryUnixSeconds');
    }
    expect(errorOf(buildSasToken({ resource: 'r', key: 'not base64!', expiryUnixSeconds: 1 }, hmacSha256))).toEqual({
      code: 'invalid-base64',
      field: 'key',
      message: 'key: is not valid base64 (length 11 is not a multiple of 4)',
    });
    expect(errorOf(buildSasToken({ resource: 'r', key: '', expiryUnixSeconds: 1 }, hmacSha256)).message).toBe('key: is empty');
    expect(errorOf(buildSasToken({ resource: 'r', key: KEY, expiryUnixSeconds: 1, keyName: '' }, hmacSha256)).field).toBe('keyName');
  });

  test('a failing crypto port gives crypto-failed', () => {
    const throwing = (): Uint8Array => {
      throw new Error('boom');
    };
    expect(errorOf(buildSasToken({ resource: 'r', key: KEY, expiryUnixSeconds: 1 }, throwing)).code).toBe('crypto-failed');
    expect(errorOf(buildSasToken({ resource: 'r', key: KEY, expiryUnixSeconds: 1 }, () => new Uint8Array(16))).message).toBe(
      'hmacSha256: the crypto port did not return 32 bytes',
    );
  });
});

describe('hub and DPS tokens agree with the official Node SDK', () => {
  test('device token is identical to azure-iot-device SharedAccessSignature.create', () => {
    const ours = unwrap(buildHubSasToken({ hostName: HOST, deviceId: 'device-1', key: KEY, expiryUnixSeconds: EXPIRY }, hmacSha256));
    const theirs = device.SharedAccessSignature.create(HOST, 'device-1', KEY, String(EXPIRY)).toString();
    expect(ours).toBe(theirs);
  });

  test('module token is identical to azure-iot-common SharedAccessSignature.create', () => {
    const key = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
    const ours = unwrap(buildHubSasToken({ hostName: HOST, deviceId: 'd1', moduleId: 'm1', key, expiryUnixSeconds: EXPIRY }, hmacSha256));
    const resource = common.encodeUriComponentStrict(`${HOST}/devices/d1/modules/m1`);
    expect(ours).toBe(common.SharedAccessSignature.create(resource, '', key, EXPIRY).toString());
  });

  test('DPS token has skn=registration and the same fields as the SDK (which orders them differently)', () => {
    const ours = unwrap(buildDpsSasToken({ idScope: '0ne00000A0A', registrationId: 'reg-1', key: KEY, expiryUnixSeconds: EXPIRY }, hmacSha256));
    expect(ours).toBe(
      `SharedAccessSignature sr=0ne00000A0A%2Fregistrations%2Freg-1&sig=${unwrap(parseSasToken(ours)).sig}&se=1700000000&skn=registration`,
    );
    const resource = common.encodeUriComponentStrict('0ne00000A0A/registrations/reg-1');
    const theirs = common.SharedAccessSignature.create(resource, 'registration', KEY, EXPIRY).toString();
    expect(theirs).not.toBe(ours);
    expect(unwrap(parseSasToken(ours))).toEqual(unwrap(parseSasToken(theirs)));
  });
});

describe('expiryFromClock', () => {
  test('adds the lifetime to the current Unix second', () => {
    expect(unwrap(expiryFromClock(1700000000999, 3600))).toBe(1700003600);
  });

  test('an unset clock is a typed error, not a 1970 token', () => {
    expect(errorOf(expiryFromClock(undefined, 3600))).toEqual({
      code: 'clock-not-set',
      field: 'clock',
      message: 'clock: the wall clock is not set (no SNTP yet): cannot sign',
    });
  });

  test('bad numbers are refused', () => {
    expect(errorOf(expiryFromClock(Number.NaN, 60)).field).toBe('nowMs');
    expect(errorOf(expiryFromClock(-1, 60)).field).toBe('nowMs');
    expect(errorOf(expiryFromClock(0, 0)).field).toBe('ttlSeconds');
    expect(errorOf(expiryFromClock(0, 1.5)).field).toBe('ttlSeconds');
  });
});

describe('parseSasToken', () => {
  test('accepts any field order and keeps texts as sent', () => {
    const expected = { sr: 'a%2Fb', sig: 'x%2By%3D', se: 1700000000, skn: 'registration' };
    expect(unwrap(parseSasToken('SharedAccessSignature sr=a%2Fb&sig=x%2By%3D&se=1700000000&skn=registration'))).toEqual(expected);
    expect(unwrap(parseSasToken('SharedAccessSignature skn=registration&se=1700000000&sig=x%2By%3D&sr=a%2Fb'))).toEqual(expected);
    expect(unwrap(parseSasToken('SharedAccessSignature se=1&sr=r&sig=s'))).toEqual({ sr: 'r', sig: 's', se: 1 });
  });

  test('names what is wrong', () => {
    expect(errorOf(parseSasToken('sr=a&sig=b&se=1')).message).toBe("token: must start with 'SharedAccessSignature '");
    expect(errorOf(parseSasToken('SharedAccessSignature sig=b&se=1')).field).toBe('sr');
    expect(errorOf(parseSasToken('SharedAccessSignature sr=a&se=1')).field).toBe('sig');
    expect(errorOf(parseSasToken('SharedAccessSignature sr=a&sig=b')).field).toBe('se');
    expect(errorOf(parseSasToken('SharedAccessSignature sr=a&sr=a&sig=b&se=1')).code).toBe('duplicate-field');
    expect(errorOf(parseSasToken('SharedAccessSignature sr=a&sig=&se=1')).code).toBe('empty-field');
    expect(errorOf(parseSasToken('SharedAccessSignature sr=a&sig=b&se=1&x=2')).code).toBe('unknown-field');
    expect(errorOf(parseSasToken('SharedAccessSignature sr=a&sig=b&se')).code).toBe('malformed');
    expect(errorOf(parseSasToken('SharedAccessSignature sr=a&sig=b&se=12a')).field).toBe('se');
    expect(errorOf(parseSasToken('SharedAccessSignature sr=a&sig=b&se=0012')).field).toBe('se');
  });

  test('errors never quote the signature', () => {
    const e = errorOf(parseSasToken('SharedAccessSignature sr=a&sig=SECRETSIG&sig=SECRETSIG&se=1'));
    expect(e.message).not.toContain('SECRETSIG');
  });
});

describe('sasSignatureMatches', () => {
  const token = unwrap(buildHubSasToken({ hostName: HOST, deviceId: 'device-1', key: KEY, expiryUnixSeconds: EXPIRY }, hmacSha256));

  test('true for the key that signed it, false for another key or an altered expiry', () => {
    const parsed = unwrap(parseSasToken(token));
    expect(unwrap(sasSignatureMatches(parsed, KEY, hmacSha256))).toBe(true);
    expect(unwrap(sasSignatureMatches(parsed, 'b3RoZXI=', hmacSha256))).toBe(false);
    expect(unwrap(sasSignatureMatches({ ...parsed, se: EXPIRY + 1 }, KEY, hmacSha256))).toBe(false);
  });

  test('accepts a signature escaped in lower-case hex', () => {
    const parsed = unwrap(parseSasToken(token.replace(/%2B/g, '%2b').replace('%3D', '%3d')));
    expect(unwrap(sasSignatureMatches(parsed, KEY, hmacSha256))).toBe(true);
  });
});
