// Through an IoT Edge gateway (GatewayHostName): the device opens TLS to the gateway, trusting only the gateway's
// own CA, and signs for the hub; the emulator's Edge gateway (its own CA and certificate) carries the connection to
// the hub over a TLS connection of its own. Telemetry, the twin (GET, reported patch, desired patch) and a direct
// method all go through it.
import { Emulator } from '../../emulator/src/emulator';
import { startEdgeGateway, type EdgeGateway } from '../../emulator/src/edge-gateway';
import { clientFor, startHubEmulator, text, until } from './emulator-fixture';

let emulator: Emulator;
let gateway: EdgeGateway;

beforeAll(async () => {
  emulator = await startHubEmulator();
  gateway = await startEdgeGateway({ hubPort: emulator.hubPort, hubCaPem: emulator.caPem });
});

afterAll(async () => {
  await gateway?.close();
  await emulator?.stop();
});

describe('a device behind an IoT Edge gateway', () => {
  it('connects to the gateway with its CA, signs for the hub, and does telemetry, twin and a method through it', async () => {
    emulator.addDevice('edge-dev');
    const viaGateway = clientFor(emulator, 'edge-dev', {
      credentials: { kind: 'connection-string', connectionString: `${emulator.connectionString('edge-dev')};GatewayHostName=localhost:${gateway.port}` },
      // Only the gateway's CA: the hub's certificate is never shown to the device.
      trustedCAs: [gateway.caDer],
      endpoint: undefined,
    });
    const desired: unknown[] = [];
    viaGateway.client.onDesired((patch) => void desired.push(patch));
    viaGateway.client.onMethod('ping', (call) => ({ status: 200, payload: { pong: call.payload } }));
    try {
      await viaGateway.client.connect();
      expect(gateway.routed).toBe(1);
      expect(emulator.connectionLog().find((e) => e.type === 'connected' && e.deviceId === 'edge-dev')).toMatchObject({ authMethod: 'sas' });

      await viaGateway.client.sendTelemetry('through the edge');
      expect(emulator.telemetry('edge-dev').map((m) => text(m.body))).toEqual(['through the edge']);

      await viaGateway.client.patchReported({ behind: 'edge' });
      expect(emulator.getTwin('edge-dev').reported).toMatchObject({ behind: 'edge' });
      await until(() => emulator.subscriptions('edge-dev').length === 4, 5000, 'subscriptions');
      emulator.patchDesired('edge-dev', { interval: 7 });
      await until(() => desired.some((p) => (p as { interval?: number }).interval === 7), 5000, 'the desired patch');

      expect(await emulator.invokeMethod('edge-dev', 'ping', { n: 2 }, { timeoutMs: 5000 })).toEqual({ status: 200, payload: { pong: { n: 2 } } });
    } finally {
      await viaGateway.client.close();
    }
  });

  it('a device that trusts only the hub CA refuses the gateway certificate', async () => {
    emulator.addDevice('edge-dev-2');
    const wrongTrust = clientFor(emulator, 'edge-dev-2', {
      credentials: { kind: 'connection-string', connectionString: `${emulator.connectionString('edge-dev-2')};GatewayHostName=localhost:${gateway.port}` },
      trustedCAs: [emulator.caDer],
      endpoint: undefined,
    });
    try {
      void wrongTrust.client.connect().catch(() => undefined);
      await until(() => wrongTrust.errors.length > 0, 5000, 'the TLS refusal');
      expect(wrongTrust.errors[0]!.message).toMatch(/certificate|trust|verif/i);
      expect(emulator.isConnected('edge-dev-2')).toBe(false);
    } finally {
      await wrongTrust.client.close();
    }
  });
});
