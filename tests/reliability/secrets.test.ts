// Secret redaction over a whole device life: DPS with a group key (one 503 first), the hub through a connection
// string, telemetry, twin, desired patches, methods (one throwing), C2D, an authentication failure and the
// re-provisioning it triggers, a SAS renewal, an X.509 device (accepted and refused), and bad configurations.
// Every log line, error (with its causes) and event payload is captured; none may hold the group key, the
// derived device key, a SAS signature that was really sent, or the X.509 private key, in any encoding.

import { Emulator } from '../../emulator/src/emulator';
import { issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { createHmac } from 'node:crypto';
import { createMemoryStore, createNodeClock, createNodeCrypto, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node';
import { BootFlow } from '../../src/boot/boot';
import { hubClientConnector, type HubLinkSettings } from '../../src/boot/hub-client-connector';
import { connectRecorder } from '../../soak/lib/connect-recorder';
import { emulatorHubClient } from '../../soak/lib/emulator-client';
import { findLeaks, textOf, type Secret } from '../../soak/lib/secret-scan';
import { SOAK_BACKOFF, SoakDevice } from '../../soak/fault/soak-device';
import { parseSasToken } from '../../src/azure/sas-verify';
import { percentDecode } from '../../src/encoding/percent';
import { utf8Decode } from '../../src/encoding/utf8';
import { DpsClient } from '../../src/dps/dps-client';
import { HubClient } from '../../src/hub/hub-client';
import type { HubClientEvents } from '../../src/hub/hub-types';
import { report } from './report';

/** Fixed, recognisable test keys (64 bytes, as Azure group keys are), never real ones. */
const GROUP_KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)).toString('base64');
const GROUP_KEY_2 = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 53 + 5) & 0xff)).toString('base64');
const REGISTRATION_ID = 'secret-device';

function waitFor<K extends keyof HubClientEvents>(client: HubClient, event: K, match: (payload: HubClientEvents[K]) => boolean, timeoutMs = 10_000): Promise<HubClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${String(event)}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

describe('no secret leaves the device through logs, errors or events', () => {
  const logs: string[] = [];
  const captured: string[] = [];
  const tokens: string[] = [];
  let secrets: Secret[] = [];
  let counts = { logs: 0, errors: 0, events: 0, tokens: 0 };

  beforeAll(async () => {
    const emulator = await Emulator.start({ persist: false, hubHostName: 'secrets-hub.azure-devices.net', tls: createTlsMaterial() });
    const dps = emulator.dps!;
    const onLog = (level: string, message: string): void => {
      logs.push(`${level} ${message}`);
    };
    const capture = (what: string, value: unknown): void => {
      captured.push(`${what}: ${textOf(value)}`);
    };
    const recorder = connectRecorder(createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 5000, closeGraceMs: 200 }));
    let desiredSeen: () => void = () => undefined;
    let c2dSeen: () => void = () => undefined;
    const desiredArrived = new Promise<void>((resolve) => (desiredSeen = resolve));
    const c2dArrived = new Promise<void>((resolve) => (c2dSeen = resolve));
    let device: SoakDevice | undefined;
    let x509Client: HubClient | undefined;
    let refusedClient: HubClient | undefined;
    try {
      dps.enrollments.addGroup({
        enrollmentGroupId: 'secrets-group',
        attestation: { type: 'symmetricKey', primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY_2 },
        pollsBeforeAssigned: 1,
        retryAfterSeconds: 0,
      });
      dps.faults.answerWith({ status: 503, count: 1, retryAfterSeconds: 0 });

      device = new SoakDevice({
        idScope: dps.idScope,
        registrationId: REGISTRATION_ID,
        key: GROUP_KEY,
        group: true,
        useConnectionString: true,
        trustedCAs: [emulator.caDer],
        dpsEndpoint: `127.0.0.1:${dps.port}`,
        hubPort: emulator.hubPort,
        serverName: 'localhost',
        hub: { sasTtlSeconds: 3, renewAtFraction: 0.5, methodTimeoutMs: 2000 },
        onLog,
        ports: { transport: recorder.factory },
        onClient: (client) => {
          for (const event of ['state', 'connected', 'disconnected', 'reconnecting', 'error'] as const) {
            client.on(event, (payload: unknown) => capture(`hub ${event}`, payload));
          }
          client.onMethod('ok', () => ({ status: 200, payload: { fine: true } }));
          client.onMethod('fail', () => {
            throw new Error('handler exploded');
          });
          client.onDesired((patch, version, info) => {
            capture('desired', { patch, version, info });
            if (!info.full) desiredSeen();
          });
          client.onC2D((message) => {
            capture('c2d', message);
            c2dSeen();
          });
        },
      });
      device.dpsClient.on('state', (payload) => capture('dps state', payload));
      const client = await device.start();
      const deviceId = client.deviceId;

      for (let i = 0; i < 3; i++) await client.sendTelemetry(`{"n":${i}}`, { properties: { kind: 'secret-test' } });
      await client.patchReported({ firmware: { version: '1.0.0' } });
      emulator.patchDesired(deviceId, { interval: 7 });
      await desiredArrived;
      capture('method ok', await emulator.invokeMethod(deviceId, 'ok', { a: 1 }));
      capture('method fail', await emulator.invokeMethod(deviceId, 'fail', null));
      emulator.sendC2D(deviceId, 'hello device', { color: 'blue' });
      await c2dArrived;

      // An authentication failure: the device provisions again (DPS answers 503 first) and reconnects.
      dps.faults.answerWith({ status: 503, count: 1, retryAfterSeconds: 0 });
      emulator.faults.refuseConnect(deviceId, 5, { count: 1 });
      const refused = waitFor(client, 'error', (e) => e.code === 'auth-failed');
      emulator.faults.dropConnection(deviceId);
      await refused;
      await waitFor(client, 'connected', () => true);

      // A SAS renewal: a 3 s token renewed at half its life.
      await waitFor(client, 'disconnected', ({ reason }) => reason.code === 'renewal');
      await waitFor(client, 'connected', () => true);
      await client.sendTelemetry('after renewal');

      // X.509: one registered device, one whose certificate the hub does not know.
      const cert = issueDeviceCertificate('x509-secret');
      emulator.addDevice('x509-secret', { type: 'x509-thumbprint', primaryThumbprint: thumbprint(cert.certDer) });
      const certificate = { chain: [cert.certDer], privateKey: cert.keyDer };
      x509Client = emulatorHubClient(emulator, { deviceId: 'x509-secret', key: '', onLog, config: { credentials: { kind: 'hub', hostName: emulator.hubHostName, deviceId: 'x509-secret', credential: { kind: 'x509', ...certificate } } } });
      x509Client.on('error', (e) => capture('x509 error', e));
      await x509Client.connect();
      await x509Client.sendTelemetry('from x509');
      const stranger = issueDeviceCertificate('x509-secret');
      refusedClient = emulatorHubClient(emulator, {
        deviceId: 'x509-secret',
        key: '',
        onLog,
        config: { credentials: { kind: 'hub', hostName: emulator.hubHostName, deviceId: 'x509-secret', credential: { kind: 'x509', chain: [stranger.certDer], privateKey: stranger.keyDer } } },
      });
      refusedClient.on('error', (e) => capture('x509 refused error', e));
      capture('x509 refused connect', await refusedClient.connect().catch((e: unknown) => e));

      // Bad configurations: a damaged key in a connection string, a damaged group key for DPS.
      const deviceKey = device.deviceKey();
      try {
        new HubClient(device.ports, { credentials: { kind: 'connection-string', connectionString: `HostName=h.example;DeviceId=d;SharedAccessKey=${deviceKey.slice(0, 20)}!${deviceKey.slice(21)}` }, trustedCAs: [] });
      } catch (error) {
        capture('bad connection string', error);
      }
      const badDps = new DpsClient({ ...device.ports });
      capture(
        'bad group key',
        await badDps
          .register({ identity: { kind: 'dps', idScope: dps.idScope, registrationId: REGISTRATION_ID, credential: { kind: 'sas', key: `${GROUP_KEY.slice(0, 30)}*${GROUP_KEY.slice(31)}` }, enrollmentGroup: true }, trustedCAs: [emulator.caDer], endpoint: `127.0.0.1:${dps.port}`, serverName: 'localhost' })
          .catch((e: unknown) => e),
      );

      for (const connect of recorder.connects) {
        if (connect.password === undefined) continue;
        const token = utf8Decode(connect.password) ?? '';
        if (token.length > 0) tokens.push(token);
      }
      const signatures = tokens.map((t) => {
        const parsed = parseSasToken(t);
        if (!parsed.ok) throw new Error('the device sent a token it cannot parse back');
        const sig = percentDecode(parsed.value.sig);
        if (!sig.ok) throw new Error('the device sent a signature that is not percent-encoded');
        return sig.value;
      });
      secrets = [
        { name: 'group key', value: GROUP_KEY },
        { name: 'device key (derived, in the connection string)', value: deviceKey },
        { name: 'X.509 private key', value: Buffer.from(cert.keyDer).toString('base64') },
        { name: 'refused X.509 private key', value: Buffer.from(stranger.keyDer).toString('base64') },
        ...signatures.map((value, i) => ({ name: `SAS signature ${i + 1}`, value })),
      ];
    } finally {
      await refusedClient?.close();
      await x509Client?.close();
      await device?.close();
      await emulator.stop();
    }
    counts = { logs: logs.length, errors: captured.filter((c) => /error|fail|refused|bad/.test(c)).length, events: captured.length, tokens: tokens.length };
    report(`secrets: scanned ${counts.logs} log lines and ${counts.events} captured events/errors against ${secrets.length} secrets (${counts.tokens} SAS tokens really sent)`);
  }, 60_000);

  test('the flow really covered DPS, renewal, re-provisioning, errors and several tokens', () => {
    expect(counts.tokens).toBeGreaterThanOrEqual(4); // DPS, first hub connection, after re-provisioning, after renewal
    expect(logs.some((l) => /renew/i.test(l))).toBe(true);
    expect(captured.some((c) => c.startsWith('hub error') && /auth-failed|refused the credentials/.test(c))).toBe(true);
    expect(captured.some((c) => c.startsWith('bad connection string') && /SharedAccessKey/.test(c))).toBe(true);
    expect(captured.some((c) => c.startsWith('bad group key'))).toBe(true);
    expect(captured.some((c) => c.startsWith('method fail') && /handler exploded/.test(c))).toBe(true);
    expect(captured.some((c) => c.startsWith('desired') && /interval/.test(c))).toBe(true);
    expect(captured.some((c) => c.startsWith('c2d') && /hello device/.test(c))).toBe(true);
    expect(captured.some((c) => c.startsWith('x509 refused connect') && /auth-failed/.test(c))).toBe(true);
  });

  test('the scanner finds a planted leak in each form it claims to check', () => {
    const key = secrets[1]!.value;
    const planted = [
      `log ${key}`,
      `log ${encodeURIComponent(key)}`,
      `log ${key.slice(7, 21)}`,
      `log ${Buffer.from(key, 'base64').toString('hex')}`,
      `log ${key.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`,
    ];
    for (const line of planted) expect(findLeaks([line], [secrets[1]!])).not.toEqual([]);
  });

  test('no log line holds a secret', () => {
    expect(findLeaks(logs, secrets)).toEqual([]);
  });

  test('no error message (causes included) or event payload holds a secret', () => {
    expect(findLeaks(captured, secrets)).toEqual([]);
  });
});

describe('the firmware boot flow keeps the same secrets in', () => {
  test('BootFlow with a group key: DPS (503 first), hub, auth refusal, re-provisioning, renewal; logs, events and flash scanned', async () => {
    const emulator = await Emulator.start({ persist: false, hubHostName: 'secrets-boot-hub.azure-devices.net', tls: createTlsMaterial() });
    const dps = emulator.dps!;
    const logs: string[] = [];
    const captured: string[] = [];
    const capture = (what: string, value: unknown): void => {
      captured.push(`${what}: ${textOf(value)}`);
    };
    const recorder = connectRecorder(createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 5000, closeGraceMs: 200 }));
    const ports = {
      transport: recorder.factory,
      timers: createNodeTimers(),
      clock: createNodeClock(),
      crypto: createNodeCrypto(),
      logger: { log: (level: string, message: string) => logs.push(`${level} ${message}`) },
    };
    const store = createMemoryStore();
    const settings: HubLinkSettings = {
      trustedCAs: [emulator.caDer],
      endpoint: { host: '127.0.0.1', port: emulator.hubPort, serverName: 'localhost' },
      backoff: SOAK_BACKOFF,
      sasTtlSeconds: 3,
      renewAtFraction: 0.5,
    };
    const flow = new BootFlow<HubClient>(
      { ...ports, store, hub: hubClientConnector(ports, settings) },
      {
        dps: {
          identity: { kind: 'dps', idScope: dps.idScope, registrationId: 'boot-secret-device', credential: { kind: 'sas', key: GROUP_KEY }, enrollmentGroup: true },
          trustedCAs: [emulator.caDer],
          endpoint: `127.0.0.1:${dps.port}`,
          serverName: 'localhost',
          limits: { pollFallbackMs: 10, retryFallbackMs: 10 },
        },
        backoff: { minDelayMs: 10, maxDelayMs: 200, maxJitterMs: 10 },
      },
    );
    const clients: HubClient[] = [];
    flow.on('state', (payload) => capture('boot state', payload));
    flow.on('provisioned', (payload) => capture('boot provisioned', payload));
    flow.on('failed', (payload) => capture('boot failed', payload));
    const connected = (count: number): Promise<void> =>
      new Promise((resolve) => {
        const off = flow.on('connected', ({ client, hubHost, deviceId, fromStore }) => {
          // The client object itself holds the key by design; what the flow reports about it is scanned.
          capture('boot connected', { hubHost, deviceId, fromStore });
          if (!clients.includes(client)) {
            clients.push(client);
            for (const event of ['state', 'connected', 'disconnected', 'reconnecting', 'error'] as const) {
              client.on(event, (payload: unknown) => capture(`hub ${event}`, payload));
            }
          }
          if (clients.length >= count) {
            off();
            resolve();
          }
        });
      });
    try {
      dps.enrollments.addGroup({ enrollmentGroupId: 'boot-group', attestation: { type: 'symmetricKey', primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY_2 }, pollsBeforeAssigned: 1, retryAfterSeconds: 0 });
      dps.faults.answerWith({ status: 503, count: 1, retryAfterSeconds: 0 });
      const first = connected(1);
      flow.start();
      await first;
      const deviceId = clients[0]!.deviceId;
      await clients[0]!.sendTelemetry('boot telemetry');

      // The hub refuses the credentials once: the flow provisions again (503 first) and opens a new link.
      dps.faults.answerWith({ status: 503, count: 1, retryAfterSeconds: 0 });
      emulator.faults.refuseConnect(deviceId, 5, { count: 1 });
      const second = connected(2);
      emulator.faults.dropConnection(deviceId);
      await second;
      const renewed = waitFor(clients[1]!, 'disconnected', ({ reason }) => reason.code === 'renewal');
      await renewed;
      await waitFor(clients[1]!, 'connected', () => true);
      await clients[1]!.sendTelemetry('after renewal');
    } finally {
      await flow.stop();
      await emulator.stop();
    }

    const deviceKey = Buffer.from(createHmac('sha256', Buffer.from(GROUP_KEY, 'base64')).update('boot-secret-device').digest()).toString('base64');
    const signatures = recorder.connects.flatMap((c) => {
      const token = c.password === undefined ? undefined : utf8Decode(c.password);
      const parsed = token === undefined ? undefined : parseSasToken(token);
      const sig = parsed?.ok ? percentDecode(parsed.value.sig) : undefined;
      return sig?.ok ? [sig.value] : [];
    });
    const secrets: Secret[] = [
      { name: 'group key', value: GROUP_KEY },
      { name: 'derived device key', value: deviceKey },
      ...signatures.map((value, i) => ({ name: `SAS signature ${i + 1}`, value })),
    ];
    const flash = store.keys().map((k) => `${k}: ${String.fromCharCode(...(store.get(k) ?? []))}`);
    report(`secrets (boot flow): ${logs.length} log lines, ${captured.length} events, ${flash.length} flash records, ${signatures.length} SAS tokens sent, ${clients.length} hub links`);
    expect(signatures.length).toBeGreaterThanOrEqual(5); // 2 DPS registrations, 3+ hub connections
    expect(logs.some((l) => /provision/i.test(l))).toBe(true);
    expect(flash.length).toBeGreaterThan(0);
    expect(findLeaks(logs, secrets)).toEqual([]);
    expect(findLeaks(captured, secrets)).toEqual([]);
    expect(findLeaks(flash, secrets)).toEqual([]);
  }, 60_000);
});
