// Every HubClient API against the emulator over real TLS.
import type { Emulator } from '../../emulator/src/emulator';
import { issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import type { C2dMessage } from '../../src/hub/hub-types';
import { clientFor, delay, startHubEmulator, text, until, type EmulatorClient } from './emulator-fixture';

let emulator: Emulator;
let device: EmulatorClient;

beforeAll(async () => {
  emulator = await startHubEmulator();
  emulator.addDevice('api-dev');
  device = clientFor(emulator, 'api-dev', { modelId: 'dtmi:com:example:Thermostat;1' });
  await device.client.connect();
});

afterAll(async () => {
  await device.client.close();
  await emulator.stop();
});

describe('connect', () => {
  it('connects with cleanSession false and the four subscriptions', async () => {
    expect(emulator.isConnected('api-dev')).toBe(true);
    const log = emulator.connectionLog().find((e) => e.type === 'connected' && e.deviceId === 'api-dev');
    expect(log).toMatchObject({ authMethod: 'sas', cleanSession: false, keepAlive: 240 });
    await until(() => emulator.subscriptions('api-dev').length === 4, 5000, 'subscriptions');
    expect(emulator.subscriptions('api-dev').sort()).toEqual(
      ['$iothub/methods/POST/#', '$iothub/twin/PATCH/properties/desired/#', '$iothub/twin/res/#', 'devices/api-dev/messages/devicebound/#'].sort(),
    );
  });
});

describe('telemetry', () => {
  it('delivers body, application and system properties (component, content type)', async () => {
    const received = emulator.waitFor('telemetry', (m) => m.deviceId === 'api-dev' && text(m.body) === '{"temp":21.5}');
    await device.client.sendTelemetry('{"temp":21.5}', {
      properties: { alert: 'high temp' },
      systemProperties: { messageId: 'm-1', contentType: 'application/json', contentEncoding: 'utf-8', component: 'thermostat1' },
    });
    const message = await received;
    expect(message.properties).toMatchObject({ alert: 'high temp' });
    expect(message.systemProperties).toMatchObject({ '$.mid': 'm-1', '$.ct': 'application/json', '$.ce': 'utf-8', '$.sub': 'thermostat1' });
    expect(message.qos).toBe(1);
  });
});

describe('cloud-to-device', () => {
  it('hands the message to onC2D and completes it with the PUBACK', async () => {
    const got: C2dMessage[] = [];
    const off = device.client.onC2D((m) => {
      got.push(m);
    });
    const completed = emulator.waitFor('c2d', (e) => e.deviceId === 'api-dev' && e.outcome === 'completed');
    const id = emulator.sendC2D('api-dev', 'turn on', { color: 'blue' });
    await completed;
    expect(got).toHaveLength(1);
    expect(text(got[0]!.payload)).toBe('turn on');
    expect(got[0]!.messageId).toBe(id);
    expect(got[0]!.properties).toContainEqual({ name: 'color', value: 'blue' });
    off();
  });
});

describe('device twin', () => {
  it('patches reported properties and reads them back', async () => {
    const version = await device.client.patchReported({ firmware: { currentFwVersion: '1.0.0' }, serial: 'SN-1' });
    expect(typeof version).toBe('number');
    expect(emulator.getTwin('api-dev').reported).toMatchObject({ serial: 'SN-1', $version: version });
    const twin = await device.client.getTwin();
    expect(twin.reported).toMatchObject({ serial: 'SN-1', firmware: { currentFwVersion: '1.0.0' } });
    expect(twin.reportedVersion).toBe(version);
  });

  it('applies a live desired patch once, with its version', async () => {
    const seen: Array<[unknown, number, boolean]> = [];
    const off = device.client.onDesired((patch, version, info) => {
      seen.push([patch, version, info.full]);
    });
    const twin = emulator.patchDesired('api-dev', { telemetryInterval: 5 });
    await until(() => seen.length > 0, 5000, 'desired patch');
    await delay(50);
    expect(seen).toEqual([[{ telemetryInterval: 5, $version: twin.desired['$version'] }, twin.desired['$version'], false]]);
    off();
  });

  it('acknowledges a writable Plug and Play property in its component', async () => {
    await device.client.ackWritableProperty({ name: 'targetTemperature', value: 22, ackCode: 200, ackVersion: 2, description: 'ok', component: 'thermostat1' });
    expect(emulator.getTwin('api-dev').reported['thermostat1']).toEqual({
      __t: 'c',
      targetTemperature: { ac: 200, av: 2, ad: 'ok', value: 22 },
    });
  });
});

describe('direct methods', () => {
  it('answers 200 with the handler payload', async () => {
    device.client.onMethod('getStatus', (call) => ({ status: 200, payload: { echo: call.payload } }));
    expect(await emulator.invokeMethod('api-dev', 'getStatus', { q: 1 })).toEqual({ status: 200, payload: { echo: { q: 1 } } });
  });

  it('answers 404 for an unknown method and 500 for a throwing handler', async () => {
    device.client.onMethod('explode', () => {
      throw new Error('sensor offline');
    });
    expect(await emulator.invokeMethod('api-dev', 'nothing')).toEqual({ status: 404, payload: { error: "no handler for method 'nothing'" } });
    expect(await emulator.invokeMethod('api-dev', 'explode')).toEqual({ status: 500, payload: { error: 'sensor offline' } });
  });

  it('routes a Plug and Play command', async () => {
    device.client.onCommand('thermostat1', 'reboot', (call) => ({ status: 202, payload: { component: call.component ?? null } }));
    expect(await emulator.invokeMethod('api-dev', 'thermostat1*reboot', 3)).toEqual({ status: 202, payload: { component: 'thermostat1' } });
  });
});

describe('other identities', () => {
  it('connects a module identity (no C2D subscription)', async () => {
    emulator.addModule('api-dev', 'mod1');
    const module = clientFor(emulator, 'api-dev', {}, 'mod1');
    try {
      await module.client.connect();
      expect(emulator.isConnected('api-dev', 'mod1')).toBe(true);
      await module.client.sendTelemetry('from module');
      expect(emulator.telemetry('api-dev').some((m) => m.moduleId === 'mod1' && text(m.body) === 'from module')).toBe(true);
      await until(() => emulator.subscriptions('api-dev', 'mod1').length === 3, 5000, 'module subscriptions');
    } finally {
      await module.client.close();
    }
  });

  it('connects through an IoT Edge gateway: TLS to the gateway, the token signed for the hub', async () => {
    emulator.addDevice('gw-dev');
    // The emulator plays the gateway too: reached as 127.0.0.1:{port}, while the hub's name stays `localhost`.
    const gateway = `127.0.0.1:${emulator.hubPort}`;
    const viaGateway = clientFor(emulator, 'gw-dev', {
      credentials: { kind: 'connection-string', connectionString: `${emulator.connectionString('gw-dev')};GatewayHostName=${gateway}` },
      endpoint: undefined,
    });
    try {
      await viaGateway.client.connect();
      const log = emulator.connectionLog().find((e) => e.type === 'connected' && e.deviceId === 'gw-dev');
      expect(log).toMatchObject({ authMethod: 'sas' });
      await viaGateway.client.sendTelemetry('through the gateway');
      expect(emulator.telemetry('gw-dev').map((m) => text(m.body))).toEqual(['through the gateway']);
    } finally {
      await viaGateway.client.close();
    }
  });

  it('connects with an X.509 client certificate and no password', async () => {
    const cert = issueDeviceCertificate('x509-dev');
    emulator.addDevice('x509-dev', { type: 'x509-thumbprint', primaryThumbprint: thumbprint(cert.certDer) });
    const x509 = clientFor(emulator, 'x509-dev', {
      credentials: {
        kind: 'hub',
        hostName: emulator.hubHostName,
        deviceId: 'x509-dev',
        credential: { kind: 'x509', chain: [cert.certDer], privateKey: cert.keyDer },
      },
    });
    try {
      await x509.client.connect();
      const log = emulator.connectionLog().find((e) => e.type === 'connected' && e.deviceId === 'x509-dev');
      expect(log).toMatchObject({ authMethod: 'x509-thumbprint' });
      await x509.client.sendTelemetry('signed by certificate');
    } finally {
      await x509.client.close();
    }
  });
});

describe('close', () => {
  it('disconnects cleanly and rejects later calls', async () => {
    emulator.addDevice('close-dev');
    const c = clientFor(emulator, 'close-dev');
    await c.client.connect();
    await c.client.close();
    await until(() => !emulator.isConnected('close-dev'), 5000, 'disconnect');
    expect(emulator.connectionLog().find((e) => e.type === 'disconnected' && e.deviceId === 'close-dev')).toMatchObject({ reason: 'client-disconnect' });
    await expect(c.client.sendTelemetry('late')).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('along the way', () => {
  it('reported only the expected handler failure, and the catch-up GET never failed', () => {
    expect(device.errors.map((e) => e.code)).toEqual(['handler-failed']);
    expect(device.logs.filter((l) => l.includes('reading the twin failed'))).toEqual([]);
    expect(device.events.filter((e) => e.startsWith('disconnected'))).toEqual([]);
  });
});
