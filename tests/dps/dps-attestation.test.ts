// Attestation: individual and group symmetric keys (derived on the device), X.509 with the registration id taken
// from the certificate's subject CN, and reading the secret parts from a security tag.
import { createHmac } from 'node:crypto';
import { issueDeviceCertificate } from '../../emulator/src/pki';
import { createMemoryStore } from '../../hosts/node/memory-store';
import { createNodeCrypto } from '../../hosts/node/node-crypto';
import { attestationFromTag, attestationKind, resolveCredentials } from '../../src/dps/dps-attestation';
import { DpsError } from '../../src/dps/dps-errors';
import { SecurityTagStore } from '../../src/storage/security-tags';
import { connectHex, expectedSas, setupDps } from './dps-fixture';

const hmac = createNodeCrypto().hmacSha256;
// The public example from Azure's DPS documentation.
const GROUP_KEY = '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==';
const GROUP_REG_ID = 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6';
const GROUP_DEVICE_KEY = 'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=';

const device = issueDeviceCertificate('x509-dev-1');

describe('group enrollment: the device key is derived on the device', () => {
  test('the derived key is the documented one and signs the CONNECT password', async () => {
    expect(resolveCredentials({ kind: 'group-symmetric-key', registrationId: GROUP_REG_ID, groupKey: GROUP_KEY }, hmac)).toEqual({
      kind: 'sas',
      registrationId: GROUP_REG_ID,
      deviceKey: GROUP_DEVICE_KEY,
    });
    const fx = setupDps();
    fx.register({ attestation: { kind: 'group-symmetric-key', registrationId: GROUP_REG_ID, groupKey: GROUP_KEY } });
    const [connect] = await fx.acceptAndSubscribe();
    expect(connect).toBe(connectHex(GROUP_REG_ID, expectedSas(GROUP_REG_ID, GROUP_DEVICE_KEY)));
  });

  test('a key given as bytes signs the same as its base64 text', () => {
    const bytes = new Uint8Array(Buffer.from(GROUP_KEY, 'base64'));
    const derived = resolveCredentials({ kind: 'group-symmetric-key', registrationId: GROUP_REG_ID, groupKey: bytes }, hmac);
    expect(derived).toMatchObject({ deviceKey: GROUP_DEVICE_KEY });
    const check = createHmac('sha256', Buffer.from(GROUP_KEY, 'base64')).update(GROUP_REG_ID).digest('base64');
    expect(check).toBe(GROUP_DEVICE_KEY);
  });
});

describe('X.509: registration id from the certificate subject CN', () => {
  test('CONNECT has no password and the TLS options carry the chain and key', async () => {
    const fx = setupDps();
    fx.register({ attestation: { kind: 'x509', clientCertificates: [device.certDer], clientKey: device.keyDer } });
    await Promise.resolve();
    expect(fx.link.options.clientCertificates).toEqual([device.certDer]);
    expect(fx.link.options.clientKey).toEqual(device.keyDer);
    const [connect] = await fx.acceptAndSubscribe();
    expect(connect).toBe(connectHex('x509-dev-1'));
  });

  test('a registration id that contradicts the CN is refused before connecting', () => {
    const resolved = resolveCredentials({ kind: 'x509', clientCertificates: [device.certDer], clientKey: device.keyDer, registrationId: 'other' }, hmac);
    expect(resolved).toBeInstanceOf(DpsError);
    expect(resolved).toMatchObject({ code: 'invalid-config', message: 'registrationId: differs from the certificate subject CN, which DPS requires' });
  });

  test('a missing certificate, a missing key or bytes that are no certificate give credentials errors', () => {
    expect(resolveCredentials({ kind: 'x509', clientCertificates: [], clientKey: device.keyDer }, hmac)).toMatchObject({ code: 'credentials' });
    expect(resolveCredentials({ kind: 'x509', clientCertificates: [device.certDer], clientKey: new Uint8Array() }, hmac)).toMatchObject({
      code: 'credentials',
      message: 'clientKey: no private key',
    });
    expect(resolveCredentials({ kind: 'x509', clientCertificates: [new Uint8Array([1, 2, 3])], clientKey: device.keyDer }, hmac)).toMatchObject({
      code: 'credentials',
      message: 'clientCertificates[0]: not a DER SEQUENCE',
    });
  });

  test('the clock must be set for X.509 too', async () => {
    const fx = setupDps();
    fx.wall.now = undefined;
    const result = fx.register({ attestation: { kind: 'x509', clientCertificates: [device.certDer], clientKey: device.keyDer } });
    await fx.advance(0);
    expect(result.error).toMatchObject({ code: 'clock-not-set' });
    expect(fx.transport.connections).toHaveLength(0);
  });
});

describe('attestation from a security tag', () => {
  const store = createMemoryStore();
  const tags = new SecurityTagStore(store);
  tags.write(1, { symmetricKey: GROUP_KEY });
  tags.write(2, { clientCertificates: [device.certDer], privateKey: device.keyDer });

  test('the symmetric key of a tag serves as individual or group key', () => {
    const individual = attestationFromTag(tags, 1, { kind: 'symmetric-key', registrationId: 'dev-1' });
    expect(individual).toEqual({ kind: 'symmetric-key', registrationId: 'dev-1', key: new Uint8Array(Buffer.from(GROUP_KEY, 'base64')) });
    const group = attestationFromTag(tags, 1, { kind: 'group-symmetric-key', registrationId: GROUP_REG_ID });
    expect(resolveCredentials(group as never, hmac)).toMatchObject({ deviceKey: GROUP_DEVICE_KEY });
    expect(attestationKind(group as never)).toBe('symmetric-key');
  });

  test('the certificate and key of a tag give an X.509 attestation', () => {
    const x509 = attestationFromTag(tags, 2, { kind: 'x509' });
    expect(x509).toEqual({ kind: 'x509', clientCertificates: [device.certDer], clientKey: device.keyDer });
    expect(resolveCredentials(x509 as never, hmac)).toMatchObject({ kind: 'x509', registrationId: 'x509-dev-1' });
    expect(attestationKind(x509 as never)).toBe('x509');
  });

  test('a tag without the needed part, or no tag at all, names what is missing', () => {
    expect(attestationFromTag(tags, 2, { kind: 'symmetric-key', registrationId: 'd' })).toMatchObject({
      code: 'credentials',
      message: 'security tag 2 holds no symmetric key',
    });
    expect(attestationFromTag(tags, 1, { kind: 'x509' })).toMatchObject({ code: 'credentials', message: 'security tag 1 holds no client certificate' });
    expect(attestationFromTag(tags, 9, { kind: 'x509' })).toMatchObject({ code: 'credentials' });
  });
});
