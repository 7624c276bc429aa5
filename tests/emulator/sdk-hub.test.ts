// The official Azure IoT Node SDK (azure-iot-device + azure-iot-device-mqtt) against the emulator, with nothing
// special for it in the emulator: a connection string with HostName=localhost:{port} and the emulator CA.
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import type { Emulator } from '../../emulator/src/emulator';
import { addSasDevice, startTestEmulator } from './hub-fixture';

const { Client, Message } = deviceSdk;
type SdkClient = InstanceType<typeof Client>;
type SdkTwin = Awaited<ReturnType<SdkClient['getTwin']>>;

let emulator: Emulator;
let client: SdkClient;

/** The SDK subscribes lazily (on the first listener); wait until the hub holds the filter. */
async function subscribed(filter: string): Promise<void> {
  for (let i = 0; i < 100 && !emulator.subscriptions('sdk-device').includes(filter); i++) await new Promise((r) => setTimeout(r, 20));
  expect(emulator.subscriptions('sdk-device')).toContain(filter);
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  addSasDevice(emulator, 'sdk-device');
  client = Client.fromConnectionString(emulator.connectionString('sdk-device'), mqttTransport.Mqtt);
  await client.setOptions({ ca: emulator.caPem });
  await client.open();
});

afterAll(async () => {
  await client.close();
  await emulator.stop();
});

describe('Azure IoT Node SDK over MQTT', () => {
  it('connects with HostName=localhost:{port} (SAS signed for that host name)', () => {
    expect(emulator.hubHostName).toBe(`localhost:${emulator.hubPort}`);
    expect(emulator.isConnected('sdk-device')).toBe(true);
  });

  it('sends telemetry whose body and properties the emulator records exactly', async () => {
    const message = new Message(JSON.stringify({ temperature: 21.5 }));
    message.messageId = 'msg-1';
    message.correlationId = 'corr-1';
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('alert', 'high temp');
    message.properties.add('unit', '°C');
    const received = emulator.waitFor('telemetry');
    await client.sendEvent(message);
    const telemetry = await received;
    expect(Buffer.from(telemetry.body).toString()).toBe('{"temperature":21.5}');
    expect(telemetry.properties).toEqual({ alert: 'high temp', unit: '°C' });
    expect(telemetry.systemProperties).toEqual({ '$.mid': 'msg-1', '$.cid': 'corr-1', '$.ct': 'application/json', '$.ce': 'utf-8' });
    expect(telemetry.qos).toBe(1);
  });

  describe('twin', () => {
    let twin: SdkTwin;

    beforeAll(async () => {
      emulator.patchDesired('sdk-device', { interval: 10 });
      twin = await client.getTwin();
    });

    it('gets the twin with the desired properties and versions', () => {
      expect(twin.properties.desired).toEqual(expect.objectContaining({ interval: 10, $version: 2 }));
      expect(twin.properties.reported).toEqual(expect.objectContaining({ $version: 1 }));
    });

    it('patches reported properties', async () => {
      await new Promise<void>((resolve, reject) =>
        twin.properties.reported.update({ firmware: { version: '1.2.3' } }, (err?: Error) => (err ? reject(err) : resolve())),
      );
      expect(emulator.getTwin('sdk-device').reported).toEqual({ firmware: { version: '1.2.3' }, $version: 2 });
    });

    it('receives a desired-properties patch', async () => {
      const received = new Promise<Record<string, unknown>>((resolve) => {
        twin.on('properties.desired', (delta: Record<string, unknown>) => {
          if ((delta as { $version?: number }).$version === 3) resolve(delta);
        });
      });
      await subscribed('$iothub/twin/PATCH/properties/desired/#');
      emulator.patchDesired('sdk-device', { interval: 30 });
      expect(await received).toEqual(expect.objectContaining({ interval: 30, $version: 3 }));
    });
  });

  it('answers a direct method invoked through the service API', async () => {
    client.onDeviceMethod('setInterval', (request, response) => {
      response.send(200, { applied: request.payload }, () => {});
    });
    await subscribed('$iothub/methods/POST/#');
    const result = await emulator.invokeMethod('sdk-device', 'setInterval', { seconds: 5 }, { timeoutMs: 3000 });
    expect(result).toEqual({ status: 200, payload: { applied: { seconds: 5 } } });
  });

  it('receives a cloud-to-device message with its properties and completes it', async () => {
    const received = new Promise<InstanceType<typeof Message>>((resolve) => client.on('message', resolve));
    const completed = emulator.waitFor('c2d', (e) => e.messageId === 'c2d-1');
    await subscribed('devices/sdk-device/messages/devicebound/#');
    emulator.sendC2D('sdk-device', 'reboot please', { command: 'reboot' }, { messageId: 'c2d-1', correlationId: 'c-9' });
    const message = await received;
    expect(message.getData().toString()).toBe('reboot please');
    expect(message.messageId).toBe('c2d-1');
    expect(message.correlationId).toBe('c-9');
    expect(message.properties.getValue('command')).toBe('reboot');
    await client.complete(message);
    expect(await completed).toEqual({ deviceId: 'sdk-device', messageId: 'c2d-1', outcome: 'completed' });
  });
});
