// Attestation: individual and group symmetric keys (derived on the device), X.509 with the registration id taken
// from the certificate's subject CN. (Reading the secret parts from a security tag: tests/app/identity-and-clock.test.ts.)
import { createHmac } from 'node:crypto';
import { issueDeviceCertificate } from '../../emulator/src/pki';
import { createNodeCrypto } from '../../hosts/node/node-crypto';
import { signingIdentity } from '../../src/dps/dps-attestation';
import { DpsError } from '../../src/dps/dps-errors';
import type { DeviceCredential, DpsIdentity } from '../../src/identity';
import { connectHex, dpsIdentity, expectedSas, ID_SCOPE, setupDps } from './dps-fixture';

const hmac = createNodeCrypto().hmacSha256;
// The public example from Azure's DPS documentation.
const GROUP_KEY = '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==';
const GROUP_REG_ID = 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6';
const GROUP_DEVICE_KEY = 'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=';

const device = issueDeviceCertificate('x509-dev-1');
const group = (key: DeviceCredential & { kind: 'sas' }): DpsIdentity => dpsIdentity(key, { registrationId: GROUP_REG_ID, enrollmentGroup: true });
const x509 = (chain: Uint8Array[], privateKey: Uint8Array, more: Partial<DpsIdentity> = {}): DpsIdentity => dpsIdentity({ kind: 'x509', chain, privateKey }, more);
/** The signing identity, or the error when there is none. */
const resolve = (identity: DpsIdentity): unknown => {
  const resolved = signingIdentity(identity, hmac);
  return resolved.ok ? resolved.value : resolved.error;
};

describe('group enrollment: the device key is derived on the device', () => {
  test('the derived key is the documented one and signs the CONNECT password', async () => {
    expect(resolve(group({ kind: 'sas', key: GROUP_KEY }))).toEqual({
      kind: 'dps',
      idScope: ID_SCOPE,
      registrationId: GROUP_REG_ID,
      credential: { kind: 'sas', key: GROUP_DEVICE_KEY },
    });
    const fx = setupDps();
    fx.register({ identity: group({ kind: 'sas', key: GROUP_KEY }) });
    const [connect] = await fx.acceptAndSubscribe();
    expect(connect).toBe(connectHex(GROUP_REG_ID, expectedSas(GROUP_REG_ID, GROUP_DEVICE_KEY)));
  });

  test('a key given as bytes signs the same as its base64 text', () => {
    const bytes = new Uint8Array(Buffer.from(GROUP_KEY, 'base64'));
    const derived = resolve(group({ kind: 'sas', key: bytes }));
    expect(derived).toMatchObject({ credential: { key: GROUP_DEVICE_KEY } });
    const check = createHmac('sha256', Buffer.from(GROUP_KEY, 'base64')).update(GROUP_REG_ID).digest('base64');
    expect(check).toBe(GROUP_DEVICE_KEY);
  });
});

describe('X.509: registration id from the certificate subject CN', () => {
  test('CONNECT has no password and the TLS options carry the chain and key', async () => {
    const fx = setupDps();
    fx.register({ identity: x509([device.certDer], device.keyDer) });
    await Promise.resolve();
    expect(fx.link.options.clientCertificates).toEqual([device.certDer]);
    expect(fx.link.options.clientKey).toEqual(device.keyDer);
    const [connect] = await fx.acceptAndSubscribe();
    expect(connect).toBe(connectHex('x509-dev-1'));
  });

  test('a registration id that contradicts the CN is refused before connecting', () => {
    const resolved = resolve(x509([device.certDer], device.keyDer, { registrationId: 'other' }));
    expect(resolved).toBeInstanceOf(DpsError);
    expect(resolved).toMatchObject({ code: 'invalid-config', message: 'registrationId: differs from the certificate subject CN, which DPS requires' });
  });

  test('a missing certificate, a missing key or bytes that are no certificate give credentials errors', () => {
    expect(resolve(x509([], device.keyDer))).toMatchObject({ code: 'credentials' });
    expect(resolve(x509([device.certDer], new Uint8Array()))).toMatchObject({
      code: 'credentials',
      message: 'privateKey: no private key',
    });
    expect(resolve(x509([new Uint8Array([1, 2, 3])], device.keyDer))).toMatchObject({
      code: 'credentials',
      message: 'chain[0]: not a DER SEQUENCE',
    });
  });

  test('the clock must be set for X.509 too', async () => {
    const fx = setupDps();
    fx.wall.now = undefined;
    const result = fx.register({ identity: x509([device.certDer], device.keyDer) });
    await fx.advance(0);
    expect(result.error).toMatchObject({ code: 'clock-not-set' });
    expect(fx.transport.connections).toHaveLength(0);
  });
});
