// The peer check on the emulator's side: the official Azure IoT Node SDK's MQTT over WebSockets transport
// (azure-iot-device-mqtt's MqttWs, over mqtt.js and the `ws` package) connects to the emulator's WebSocket
// endpoint and runs telemetry, the twin (get, reported patch, desired patch) and a direct method. MqttWs always
// dials `wss://{host}:443/$iothub/websocket`; the only change made to it here is that port, since the emulator's
// endpoint is on an ephemeral port of 127.0.0.1 (binding 443 would need privileges and collide between runs).
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { Emulator } from '../../emulator/src/emulator';
import { testTls } from '../emulator/hub-fixture';

const { Client, Message } = deviceSdk;
type SdkClient = InstanceType<typeof Client>;
const DEVICE_ID = 'sdk-ws-dev';

let emulator: Emulator;
let client: SdkClient;

/** The SDK's MqttWs with the hard-coded :443 replaced by the emulator's WebSocket port. */
function mqttWsOnPort(port: number): typeof mqttTransport.MqttWs {
  class MqttWsOnPort extends mqttTransport.MqttWs {
    override _getBaseTransportConfig(credentials: Parameters<InstanceType<typeof mqttTransport.MqttWs>['_getBaseTransportConfig']>[0]) {
      const config = super._getBaseTransportConfig(credentials);
      expect(config.uri).toBe(`wss://${credentials.host}:443/$iothub/websocket`);
      config.uri = `wss://localhost:${port}/$iothub/websocket`;
      return config;
    }
  }
  return MqttWsOnPort;
}

async function subscribed(filter: string): Promise<void> {
  for (let i = 0; i < 100 && !emulator.subscriptions(DEVICE_ID).includes(filter); i++) await new Promise((r) => setTimeout(r, 20));
  expect(emulator.subscriptions(DEVICE_ID)).toContain(filter);
}

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls: testTls(), dps: false, hubWsPort: 0 });
  emulator.addDevice(DEVICE_ID);
  client = Client.fromConnectionString(emulator.connectionString(DEVICE_ID), mqttWsOnPort(emulator.hubWsPort!));
  await client.setOptions({ ca: emulator.caPem });
  await client.open();
});

afterAll(async () => {
  await client?.close();
  await emulator?.stop();
});

describe('Azure IoT Node SDK over MQTT over WebSockets (MqttWs)', () => {
  it('connected through the WebSocket endpoint, not the MQTT port', () => {
    expect(emulator.wsUpgrades.hub).toBe(1);
    expect(emulator.isConnected(DEVICE_ID)).toBe(true);
  });

  it('sends telemetry the emulator records exactly', async () => {
    const message = new Message(JSON.stringify({ temperature: 22.5 }));
    message.messageId = 'ws-msg-1';
    message.properties.add('transport', 'mqtt-ws');
    const received = emulator.waitFor('telemetry');
    await client.sendEvent(message);
    const telemetry = await received;
    expect(Buffer.from(telemetry.body).toString()).toBe('{"temperature":22.5}');
    expect(telemetry.properties).toEqual({ transport: 'mqtt-ws' });
    expect(telemetry.systemProperties).toEqual({ '$.mid': 'ws-msg-1' });
  });

  it('gets the twin, patches reported properties and hears a desired patch', async () => {
    emulator.patchDesired(DEVICE_ID, { interval: 10 });
    const twin = await client.getTwin();
    expect(twin.properties.desired).toEqual(expect.objectContaining({ interval: 10, $version: 2 }));
    await new Promise<void>((resolve, reject) => twin.properties.reported.update({ over: 'websockets' }, (err?: Error) => (err ? reject(err) : resolve())));
    expect(emulator.getTwin(DEVICE_ID).reported).toEqual({ over: 'websockets', $version: 2 });
    const delta = new Promise<Record<string, unknown>>((resolve) => {
      twin.on('properties.desired', (patch: Record<string, unknown>) => {
        if ((patch as { $version?: number }).$version === 3) resolve(patch);
      });
    });
    await subscribed('$iothub/twin/PATCH/properties/desired/#');
    emulator.patchDesired(DEVICE_ID, { interval: 30 });
    expect(await delta).toEqual(expect.objectContaining({ interval: 30, $version: 3 }));
  });

  it('answers a direct method', async () => {
    client.onDeviceMethod('ping', (request, response) => {
      response.send(200, { pong: request.payload }, () => {});
    });
    await subscribed('$iothub/methods/POST/#');
    expect(await emulator.invokeMethod(DEVICE_ID, 'ping', { n: 1 }, { timeoutMs: 3000 })).toEqual({ status: 200, payload: { pong: { n: 1 } } });
  });
});
