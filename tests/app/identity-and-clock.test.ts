import { describe, expect, test } from '@jest/globals';
import { VirtualClock } from '../../hosts/virtual';
import { createMemoryStore } from '../../hosts/node/memory-store';
import { createNodeCrypto } from '../../hosts/node/node-crypto';
import { issueDeviceCertificate } from '../../emulator/src/pki';
import { parseAppConfig, type IdentityConfig } from '../../src/app/config';
import { credentialFromTag, resolveIdentity } from '../../src/app/identity-source';
import { signingIdentity } from '../../src/dps/dps-attestation';
import { credentialKind } from '../../src/identity';
import { waitForClock } from '../../src/app/clock-gate';
import { DeviceConfigStore } from '../../src/storage/device-config';
import { SecurityTagStore } from '../../src/storage/security-tag-store';
import type { KeyValueStore } from '../../src/ports';

const hmac = createNodeCrypto().hmacSha256;
const KEY = 'cGFzc3dvcmQ=';
const device = issueDeviceCertificate('cert-device-1');

function identity(raw: Record<string, unknown>): IdentityConfig {
  const parsed = parseAppConfig(raw);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value.identity;
}

function storeWith(setup: (tags: SecurityTagStore, config: DeviceConfigStore) => void): KeyValueStore {
  const store = createMemoryStore();
  setup(new SecurityTagStore(store), new DeviceConfigStore(store));
  return store;
}

describe('identity from the configuration', () => {
  test('connection string: hub credentials as given', () => {
    const cs = 'HostName=hub.azure-devices.net;DeviceId=d1;SharedAccessKey=cGFzc3dvcmQ=';
    expect(resolveIdentity(identity({ connectionString: cs }), createMemoryStore(), hmac)).toEqual({
      ok: true,
      value: { identity: { kind: 'hub', credentials: { kind: 'connection-string', connectionString: cs } }, tagCAs: [], trust: 'extend' },
    });
  });

  test('x509 connection string: certificate and key from the tag, or a named problem', () => {
    const cs = 'HostName=hub.azure-devices.net;DeviceId=cert-device-1;x509=true';
    const empty = resolveIdentity(identity({ connectionString: cs, securityTag: 5 }), createMemoryStore(), hmac);
    expect(empty).toEqual({ ok: false, error: 'security tag 5: no record stored' });
    const store = storeWith((tags) => {
      expect(tags.write(5, { clientCertificates: [device.certDer], privateKey: device.keyDer }).ok).toBe(true);
    });
    const resolved = resolveIdentity(identity({ connectionString: cs, securityTag: 5 }), store, hmac);
    expect(resolved.ok && resolved.value.identity).toEqual({
      kind: 'hub',
      credentials: { kind: 'connection-string', connectionString: cs, certificate: { kind: 'x509', chain: [device.certDer], privateKey: device.keyDer } },
    });
  });

  test('DPS with a group key: the inputs an assignment is stored under', () => {
    const resolved = resolveIdentity(identity({ idScope: '0ne1', registrationId: 'r-1', groupKey: KEY, dpsEndpoint: 'localhost:8884' }), createMemoryStore(), hmac);
    expect(resolved.ok && resolved.value.identity).toEqual({
      kind: 'dps',
      registration: {
        endpoint: 'localhost:8884',
        identity: { kind: 'dps', idScope: '0ne1', registrationId: 'r-1', credential: { kind: 'sas', key: KEY }, enrollmentGroup: true },
        inputs: { globalEndpoint: 'localhost:8884', idScope: '0ne1', registrationId: 'r-1', attestation: 'symmetric-key' },
      },
    });
  });

  test('DPS with X.509 from a tag takes the registration id from the certificate', () => {
    const store = storeWith((tags) => void tags.write(3, { clientCertificates: [device.certDer], privateKey: device.keyDer }));
    const resolved = resolveIdentity(identity({ idScope: '0ne1', securityTag: 3 }), store, hmac);
    expect(resolved.ok && resolved.value.identity.kind === 'dps' && resolved.value.identity.registration.inputs).toEqual({
      globalEndpoint: 'global.azure-devices-provisioning.net',
      idScope: '0ne1',
      registrationId: 'cert-device-1',
      attestation: 'x509',
    });
    const mismatch = resolveIdentity(identity({ idScope: '0ne1', securityTag: 3, registrationId: 'other' }), store, hmac);
    expect(mismatch).toEqual({ ok: false, error: 'registrationId: differs from the certificate subject CN, which DPS requires' });
  });
});

describe('identity stored on the device', () => {
  test('nothing stored: says how to configure the device', () => {
    expect(resolveIdentity({ kind: 'stored' }, createMemoryStore(), hmac)).toEqual({
      ok: false,
      error: 'no identity configured: give a connection string or DPS settings, or store them with `iot-store config set`',
    });
  });

  test('hub with a SAS key in the primary tag, and the tag CAs with the trust mode', () => {
    const ca = issueDeviceCertificate('private-ca').certDer;
    const store = storeWith((tags, config) => {
      tags.write(10, { symmetricKey: KEY, caCertificates: [ca] });
      config.save({ hub: { hostName: 'hub.example.net', deviceId: 'd9', moduleId: 'm1', auth: 'symmetric-key' }, tags: { primary: 10 }, trust: 'override' });
    });
    const resolved = resolveIdentity({ kind: 'stored' }, store, hmac);
    expect(resolved.ok && resolved.value).toEqual({
      identity: { kind: 'hub', credentials: { kind: 'hub', hostName: 'hub.example.net', deviceId: 'd9', moduleId: 'm1', credential: { kind: 'sas', key: new Uint8Array(Buffer.from(KEY, 'base64')) } } },
      tagCAs: [ca],
      trust: 'override',
    });
  });

  test('hub with X.509 but no certificate in the tag', () => {
    const store = storeWith((tags, config) => {
      tags.write(10, { symmetricKey: KEY });
      config.save({ hub: { hostName: 'hub.example.net', deviceId: 'd9', auth: 'x509' }, tags: { primary: 10 }, trust: 'extend' });
    });
    expect(resolveIdentity({ kind: 'stored' }, store, hmac)).toEqual({ ok: false, error: 'security tag 10 holds no client certificate' });
  });

  test('DPS: the stored (already derived) key is an individual symmetric key', () => {
    const store = storeWith((tags, config) => {
      tags.write(10, { symmetricKey: KEY });
      config.save({ dps: { globalEndpoint: 'dps.example.net', idScope: '0ne2', registrationId: 'r-2', attestation: 'symmetric-key' }, tags: { primary: 10 }, trust: 'extend' });
    });
    const resolved = resolveIdentity({ kind: 'stored' }, store, hmac);
    expect(resolved.ok && resolved.value.identity.kind === 'dps' && resolved.value.identity.registration.identity).toEqual({
      kind: 'dps',
      idScope: '0ne2',
      registrationId: 'r-2',
      credential: { kind: 'sas', key: new Uint8Array(Buffer.from(KEY, 'base64')) },
    });
  });

  test('a damaged configuration record is named, not used', () => {
    const store = createMemoryStore({ 'device.config': new Uint8Array([1, 2, 3]) });
    const resolved = resolveIdentity({ kind: 'stored' }, store, hmac);
    expect(resolved.ok).toBe(false);
    expect(!resolved.ok && resolved.error).toMatch(/^the stored device configuration is unusable: /);
  });
});

describe('credential from a security tag', () => {
  const GROUP_KEY = '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==';
  const GROUP_REG_ID = 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6';
  const GROUP_DEVICE_KEY = 'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=';
  const x509Device = issueDeviceCertificate('x509-dev-1');
  const store = createMemoryStore();
  const tags = new SecurityTagStore(store);
  tags.write(1, { symmetricKey: GROUP_KEY });
  tags.write(2, { clientCertificates: [x509Device.certDer], privateKey: x509Device.keyDer });

  test('the symmetric key of a tag serves as individual or group key', () => {
    const individual = credentialFromTag(tags, 1, 'symmetric-key');
    expect(individual).toEqual({ ok: true, value: { kind: 'sas', key: new Uint8Array(Buffer.from(GROUP_KEY, 'base64')) } });
    if (!individual.ok) throw new Error(individual.error);
    const group = signingIdentity({ kind: 'dps', idScope: '0ne1', registrationId: GROUP_REG_ID, credential: individual.value, enrollmentGroup: true }, hmac);
    expect(group.ok && group.value.credential).toMatchObject({ key: GROUP_DEVICE_KEY });
    expect(credentialKind(individual.value)).toBe('symmetric-key');
  });

  test('the certificate and key of a tag give an X.509 credential', () => {
    const x509 = credentialFromTag(tags, 2, 'x509');
    expect(x509).toEqual({ ok: true, value: { kind: 'x509', chain: [x509Device.certDer], privateKey: x509Device.keyDer } });
    if (!x509.ok) throw new Error(x509.error);
    const signing = signingIdentity({ kind: 'dps', idScope: '0ne1', credential: x509.value }, hmac);
    expect(signing.ok && signing.value).toMatchObject({ credential: { kind: 'x509' }, registrationId: 'x509-dev-1' });
    expect(credentialKind(x509.value)).toBe('x509');
  });

  test('a tag without the needed part, or no tag at all, names what is missing', () => {
    expect(credentialFromTag(tags, 2, 'symmetric-key')).toEqual({ ok: false, error: 'security tag 2 holds no symmetric key' });
    expect(credentialFromTag(tags, 1, 'x509')).toEqual({ ok: false, error: 'security tag 1 holds no client certificate' });
    expect(credentialFromTag(tags, 9, 'x509')).toMatchObject({ ok: false, error: 'security tag 9: no record stored' });
  });
});

describe('hubEndpoint', () => {
  test('host or host:port, checked', () => {
    const parsed = parseAppConfig({ hubEndpoint: '127.0.0.1:8883' });
    expect(parsed.ok && parsed.value.hubEndpoint).toEqual({ host: '127.0.0.1', port: 8883 });
    const bare = parseAppConfig({ hubEndpoint: 'gateway.local' });
    expect(bare.ok && bare.value.hubEndpoint).toEqual({ host: 'gateway.local', port: 8883 });
    const bad = parseAppConfig({ hubEndpoint: 'bad host:1' });
    expect(bad.ok ? '' : bad.error.field).toBe('hubEndpoint');
    const badPort = parseAppConfig({ hubEndpoint: 'host:99999' });
    expect(badPort.ok ? '' : badPort.error.message).toBe('hubEndpoint host: has a port outside 1..65535');
  });
});

describe('clock gate', () => {
  test('a set clock passes at once, without a log line', async () => {
    const timers = new VirtualClock();
    const lines: string[] = [];
    const wait = waitForClock({ unixMs: () => 1_700_000_000_000 }, timers, (level, m) => lines.push(`${level} ${m}`));
    expect(await wait.ready).toBe(1_700_000_000_000);
    expect(lines).toEqual([]);
    expect(timers.pendingCount).toBe(0);
  });

  test('waits, reminds every 10 s, and goes on once the clock is set', async () => {
    const timers = new VirtualClock();
    let now: number | undefined;
    const lines: string[] = [];
    const wait = waitForClock({ unixMs: () => now }, timers, (level, m) => lines.push(`${level} ${m}`));
    let result: number | undefined | 'pending' = 'pending';
    void wait.ready.then((value) => (result = value));
    await timers.advanceSettled(25_000);
    expect(result).toBe('pending');
    expect(lines).toEqual([
      'info waiting for the wall clock to be set (SNTP) before signing anything or opening TLS',
      'warn still waiting for the wall clock after 10 s; is SNTP reachable?',
      'warn still waiting for the wall clock after 20 s; is SNTP reachable?',
    ]);
    now = Date.UTC(2026, 0, 1);
    await timers.advanceSettled(500);
    expect(result).toBe(Date.UTC(2026, 0, 1));
    expect(lines[3]).toBe('info wall clock set after 25500 ms: 2026-01-01T00:00:00.000Z');
    expect(timers.pendingCount).toBe(0);
  });

  test('cancel settles with undefined and leaves no timer', async () => {
    const timers = new VirtualClock();
    const wait = waitForClock({ unixMs: () => undefined }, timers, () => undefined);
    wait.cancel();
    expect(await wait.ready).toBeUndefined();
    expect(timers.pendingCount).toBe(0);
  });
});
