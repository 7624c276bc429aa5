// CONNECT rules of the hub emulator, each with the CONNACK code (or close) the real hub gives.
import type { Emulator } from '../../emulator/src/emulator';
import { createCa, issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import { RawMqttClient } from '../helpers/raw-mqtt';
import { KEY_B, addSasDevice, connectDevice, openRaw, sasFor, startTestEmulator, usernameFor } from './hub-fixture';

let emulator: Emulator;
const clients: RawMqttClient[] = [];

async function raw(): Promise<RawMqttClient> {
  const client = await openRaw(emulator);
  clients.push(client);
  return client;
}

async function connackFor(options: { clientId: string; username?: string; password?: string; protocolVersion?: 3 | 4; clean?: boolean }): Promise<number> {
  const client = await raw();
  const connack = await client.mqttConnect(options);
  if (connack.returnCode !== 0) await client.waitClosed();
  return connack.returnCode ?? -1;
}

beforeEach(async () => {
  emulator = await startTestEmulator();
  addSasDevice(emulator, 'd1');
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await emulator.stop();
});

describe('client id', () => {
  it('accepts a registered device with a valid SAS token (CONNACK 0, session not present)', async () => {
    const client = await raw();
    const connack = await client.mqttConnect({ clientId: 'd1', username: usernameFor(emulator, 'd1'), password: sasFor(emulator, 'd1') });
    expect(connack.returnCode).toBe(0);
    expect(connack.sessionPresent).toBe(false);
    expect(emulator.isConnected('d1')).toBe(true);
  });

  it('refuses an unknown device with CONNACK 2 and closes', async () => {
    expect(await connackFor({ clientId: 'ghost', username: usernameFor(emulator, 'ghost'), password: sasFor(emulator, 'ghost') })).toBe(2);
  });

  it('refuses an empty client id with CONNACK 2', async () => {
    expect(await connackFor({ clientId: '', username: usernameFor(emulator, 'd1'), password: sasFor(emulator, 'd1'), clean: true })).toBe(2);
  });

  it('refuses a client id with more than two segments with CONNACK 2', async () => {
    expect(await connackFor({ clientId: 'd1/m1/x', username: usernameFor(emulator, 'd1/m1/x'), password: sasFor(emulator, 'd1') })).toBe(2);
  });

  it('refuses an unknown module of a known device with CONNACK 2', async () => {
    expect(await connackFor({ clientId: 'd1/m9', username: usernameFor(emulator, 'd1/m9'), password: sasFor(emulator, 'd1', { moduleId: 'm9' }) })).toBe(2);
  });

  it('refuses MQTT 3.1 with CONNACK 1', async () => {
    expect(await connackFor({ clientId: 'd1', username: usernameFor(emulator, 'd1'), password: sasFor(emulator, 'd1'), protocolVersion: 3 })).toBe(1);
  });
});

describe('username', () => {
  it.each([
    ['no api-version', (host: string) => `${host}/d1/?DeviceClientType=x`],
    ['no ?', (host: string) => `${host}/d1/api-version=2021-04-12`],
    ['another device id', (host: string) => `${host}/d2/?api-version=2021-04-12`],
    ['another host', () => 'other.azure-devices.net/d1/?api-version=2021-04-12'],
    ['only a host', (host: string) => `${host}/?api-version=2021-04-12`],
  ])('refuses a username with %s with CONNACK 4', async (_label, make) => {
    expect(await connackFor({ clientId: 'd1', username: make(emulator.hubHostName), password: sasFor(emulator, 'd1') })).toBe(4);
  });

  it('refuses a CONNECT without username (and so without password) with CONNACK 4', async () => {
    expect(await connackFor({ clientId: 'd1' })).toBe(4);
  });

  it('accepts extra username parameters (DeviceClientType, model-id)', async () => {
    const username = `${usernameFor(emulator, 'd1')}&DeviceClientType=xs%2F1.0&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1`;
    expect(await connackFor({ clientId: 'd1', username, password: sasFor(emulator, 'd1') })).toBe(0);
  });
});

describe('SAS password', () => {
  const username = (): string => usernameFor(emulator, 'd1');

  it('accepts a token signed with the secondary key', async () => {
    expect(await connackFor({ clientId: 'd1', username: username(), password: sasFor(emulator, 'd1', { key: KEY_B }) })).toBe(0);
  });

  it('refuses a token with a wrong signature with CONNACK 4', async () => {
    const wrongKey = Buffer.alloc(32, 9).toString('base64');
    expect(await connackFor({ clientId: 'd1', username: username(), password: sasFor(emulator, 'd1', { key: wrongKey }) })).toBe(4);
  });

  it('refuses a malformed token with CONNACK 4', async () => {
    expect(await connackFor({ clientId: 'd1', username: username(), password: 'SharedAccessSignature sr=x&se=1' })).toBe(4);
  });

  it('refuses a token for another resource with CONNACK 4', async () => {
    expect(await connackFor({ clientId: 'd1', username: username(), password: sasFor(emulator, 'd1', { host: 'elsewhere:1' }) })).toBe(4);
  });

  it('refuses a missing password with CONNACK 4', async () => {
    expect(await connackFor({ clientId: 'd1', username: username() })).toBe(4);
  });

  it('refuses an expired token with CONNACK 5', async () => {
    const expiry = Math.floor(Date.now() / 1000) - 10;
    expect(await connackFor({ clientId: 'd1', username: username(), password: sasFor(emulator, 'd1', { expiry }) })).toBe(5);
  });

  it('refuses a disabled device with CONNACK 5', async () => {
    emulator.registry.setStatus('d1', 'disabled');
    expect(await connackFor({ clientId: 'd1', username: username(), password: sasFor(emulator, 'd1') })).toBe(5);
  });

  it('records each refusal with its code', async () => {
    await connackFor({ clientId: 'ghost', username: usernameFor(emulator, 'ghost'), password: 'x' });
    expect(emulator.connectionLog()).toEqual([expect.objectContaining({ type: 'refused', clientId: 'ghost', returnCode: 2 })]);
  });
});

describe('modules', () => {
  it('accepts a module with its own key on client id {device}/{module}', async () => {
    emulator.addModule('d1', 'm1', { type: 'sas', primaryKey: KEY_B, secondaryKey: KEY_B });
    const code = await connackFor({
      clientId: 'd1/m1',
      username: usernameFor(emulator, 'd1/m1'),
      password: sasFor(emulator, 'd1', { moduleId: 'm1', key: KEY_B }),
    });
    expect(code).toBe(0);
    expect(emulator.isConnected('d1', 'm1')).toBe(true);
  });

  it('refuses a module signing with the device resource with CONNACK 4', async () => {
    emulator.addModule('d1', 'm1', { type: 'sas', primaryKey: KEY_B, secondaryKey: KEY_B });
    const code = await connackFor({ clientId: 'd1/m1', username: usernameFor(emulator, 'd1/m1'), password: sasFor(emulator, 'd1', { key: KEY_B }) });
    expect(code).toBe(4);
  });
});

describe('X.509', () => {
  async function x509Connack(clientId: string, cert: { certPem: string; keyPem: string }, password?: string): Promise<number> {
    const client = await RawMqttClient.connect({ port: emulator.hubPort, ca: emulator.caPem, cert: cert.certPem, key: cert.keyPem });
    clients.push(client);
    const connack = await client.mqttConnect({ clientId, username: usernameFor(emulator, clientId), password });
    return connack.returnCode ?? -1;
  }

  it('accepts a self-signed certificate by SHA-256 thumbprint and refuses another one with CONNACK 4', async () => {
    const cert = issueDeviceCertificate('x1');
    const other = issueDeviceCertificate('x1');
    emulator.registry.upsertDevice({ deviceId: 'x1', auth: { type: 'x509-thumbprint', primaryThumbprint: thumbprint(cert.certDer) } });
    expect(await x509Connack('x1', cert)).toBe(0);
    expect(await x509Connack('x1', other)).toBe(4);
  });

  it('accepts a SHA-1 secondary thumbprint', async () => {
    const cert = issueDeviceCertificate('x1');
    emulator.registry.upsertDevice({
      deviceId: 'x1',
      auth: { type: 'x509-thumbprint', primaryThumbprint: 'AA'.repeat(32), secondaryThumbprint: thumbprint(cert.certDer, 'sha1') },
    });
    expect(await x509Connack('x1', cert)).toBe(0);
  });

  it('refuses a certificate whose CN is not the device id with CONNACK 4', async () => {
    const cert = issueDeviceCertificate('someone-else');
    emulator.registry.upsertDevice({ deviceId: 'x1', auth: { type: 'x509-thumbprint', primaryThumbprint: thumbprint(cert.certDer) } });
    expect(await x509Connack('x1', cert)).toBe(4);
  });

  it('refuses an X.509 device without a certificate, or with a password, with CONNACK 4', async () => {
    const cert = issueDeviceCertificate('x1');
    emulator.registry.upsertDevice({ deviceId: 'x1', auth: { type: 'x509-thumbprint', primaryThumbprint: thumbprint(cert.certDer) } });
    expect(await connackFor({ clientId: 'x1', username: usernameFor(emulator, 'x1') })).toBe(4);
    expect(await x509Connack('x1', cert, 'SharedAccessSignature sr=a&sig=b&se=1')).toBe(4);
  });

  it('accepts a certificate signed by a registered CA, and refuses one from an unregistered CA with CONNACK 4', async () => {
    const ca = createCa('Test Device CA');
    const rogue = createCa('Rogue CA');
    emulator.registry.addCertificateAuthority('test-ca', ca.certPem);
    emulator.registry.upsertDevice({ deviceId: 'x2', auth: { type: 'x509-ca' } });
    expect(await x509Connack('x2', issueDeviceCertificate('x2', ca))).toBe(0);
    expect(await x509Connack('x2', issueDeviceCertificate('x2', rogue))).toBe(4);
  });
});

describe('one connection per identity', () => {
  it('drops the older connection when the same device connects again', async () => {
    const first = await connectDevice(emulator, 'd1');
    clients.push(first);
    const second = await connectDevice(emulator, 'd1');
    clients.push(second);
    await first.waitClosed();
    expect(second.isOpen).toBe(true);
    expect(emulator.isConnected('d1')).toBe(true);
    // The client may see its socket close before the hub has logged why: give the log a moment.
    const disconnects = () => emulator.connectionLog().filter((e) => e.type === 'disconnected');
    for (let i = 0; i < 100 && disconnects().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const events = disconnects();
    expect(events).toEqual([expect.objectContaining({ deviceId: 'd1', reason: 'replaced' })]);
  });

  it('leaves the live connection alone when a second CONNECT is refused', async () => {
    const first = await connectDevice(emulator, 'd1');
    clients.push(first);
    expect(await connackFor({ clientId: 'd1', username: usernameFor(emulator, 'd1'), password: 'SharedAccessSignature sr=a&sig=b&se=1' })).toBe(4);
    expect(first.isOpen).toBe(true);
  });
});

describe('keep-alive', () => {
  it('closes a silent connection after 1.5 x keep-alive, not before', async () => {
    const client = await connectDevice(emulator, 'd1', { keepalive: 1 });
    clients.push(client);
    const disconnected = emulator.waitFor('connection', (e) => e.type === 'disconnected');
    const closed = await client.waitClosed(4000);
    expect(closed.afterMs).toBeGreaterThanOrEqual(1450);
    expect(closed.afterMs).toBeLessThan(2500);
    expect(await disconnected).toEqual(expect.objectContaining({ type: 'disconnected', reason: 'keepalive-timeout' }));
  });

  it('keeps a connection that pings within the keep-alive', async () => {
    const client = await connectDevice(emulator, 'd1', { keepalive: 1 });
    clients.push(client);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 700));
      client.send({ cmd: 'pingreq' });
      await client.next('pingresp');
    }
    expect(client.isOpen).toBe(true);
  });
});

describe('connection events', () => {
  it('reports connected, then disconnected with reason client-disconnect after DISCONNECT', async () => {
    const seen: string[] = [];
    emulator.on('connection', (e) => seen.push(`${e.type}:${e.type === 'disconnected' ? e.reason : ''}`));
    const client = await connectDevice(emulator, 'd1');
    client.send({ cmd: 'disconnect' });
    await client.waitClosed();
    await emulator.waitFor('connection', (e) => e.type === 'disconnected');
    expect(seen).toEqual(['connected:', 'disconnected:client-disconnect']);
  });
});
