// The official Azure IoT Node SDK through the whole emulator story, with nothing special for it in the emulator:
// the device is provisioned by the SDK's own DPS client (azure-iot-provisioning-device over MQTT) through a
// symmetric-key GROUP enrollment, then azure-iot-device + azure-iot-device-mqtt connect to the hub DPS assigned
// (HostName=localhost:{port}) with the key derived from the group key, and do telemetry, twin, methods and C2D.
import { createHmac } from 'node:crypto';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { ProvisioningDeviceClient, type RegistrationResult } from 'azure-iot-provisioning-device';
import { Mqtt as ProvisioningMqtt } from 'azure-iot-provisioning-device-mqtt';
import { SymmetricKeySecurityClient } from 'azure-iot-security-symmetric-key';
import { Emulator } from '../../emulator/src/emulator';
import { testTls } from './hub-fixture';

const { Client, Message } = deviceSdk;
type SdkClient = InstanceType<typeof Client>;
type SdkTwin = Awaited<ReturnType<SdkClient['getTwin']>>;

const GROUP_ID = 'sdk-hub-fleet';
const GROUP_PRIMARY = Buffer.alloc(64, 0x3c).toString('base64');
const GROUP_SECONDARY = Buffer.alloc(64, 0xc3).toString('base64');
const REGISTRATION_ID = 'hub-reg-1';
/** The group's device id template `sdk-{registrationId}` applied to REGISTRATION_ID. */
const DEVICE_ID = 'sdk-hub-reg-1';

/** The documented derivation, computed here rather than borrowed from the emulator so the two are checked against each other. */
function deriveKey(groupKey: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId, 'utf8').digest('base64');
}

let emulator: Emulator;
let client: SdkClient;

let registration: RegistrationResult;
let derivedKey: string;

/** The SDK subscribes lazily (on the first listener); wait until the hub holds the filter. */
async function subscribed(filter: string): Promise<void> {
  for (let i = 0; i < 100 && !emulator.subscriptions(DEVICE_ID).includes(filter); i++) await new Promise((r) => setTimeout(r, 20));
  expect(emulator.subscriptions(DEVICE_ID)).toContain(filter);
}

/** The SDK's DPS client trusting the emulator CA (its transport keeps the CA option on the MqttBase inside). */
function provisioningClient(dpsPort: number, idScope: string, registrationId: string, key: string) {
  const transport = new ProvisioningMqtt();
  (transport as unknown as { _mqttBase: { setOptions(options: { ca: string }): void } })._mqttBase.setOptions({ ca: emulator.caPem });
  // The SDK packages pin different azure-iot-common versions, so their class types differ nominally.
  const security = new SymmetricKeySecurityClient(registrationId, key) as unknown as Parameters<typeof ProvisioningDeviceClient.create>[3];
  return ProvisioningDeviceClient.create(`localhost:${dpsPort}`, idScope, transport, security);
}

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls: testTls() });
  const dps = emulator.dps;
  if (!dps) throw new Error('the emulator started without DPS');
  dps.enrollments.addGroup({
    enrollmentGroupId: GROUP_ID,
    attestation: { type: 'symmetricKey', primaryKey: GROUP_PRIMARY, secondaryKey: GROUP_SECONDARY },
    deviceId: 'sdk-{registrationId}',
    pollsBeforeAssigned: 1,
    retryAfterSeconds: 0,
  });
  derivedKey = deriveKey(GROUP_PRIMARY, REGISTRATION_ID);
  registration = (await provisioningClient(dps.port, dps.idScope, REGISTRATION_ID, derivedKey).register()) as RegistrationResult;
  client = Client.fromConnectionString(
    `HostName=${registration.assignedHub};DeviceId=${registration.deviceId};SharedAccessKey=${derivedKey}`,
    mqttTransport.Mqtt,
  );
  await client.setOptions({ ca: emulator.caPem });
  await client.open();
});

afterAll(async () => {
  await client.close();
  await emulator.stop();
});

describe('Azure IoT Node SDK over MQTT', () => {
  it('was provisioned by the SDK through the symmetric-key group, with the device id from the group template', () => {
    expect(registration).toMatchObject({
      registrationId: REGISTRATION_ID,
      assignedHub: emulator.hubHostName,
      deviceId: DEVICE_ID,
      status: 'assigned',
      substatus: 'initialAssignment',
    });
    expect(emulator.dps?.getRegistration(REGISTRATION_ID)).toMatchObject({
      enrollment: { kind: 'group', enrollmentGroupId: GROUP_ID },
      status: 'assigned',
      deviceId: DEVICE_ID,
      assignedHub: emulator.hubHostName,
    });
    // DPS created the hub identity holding the key derived from the group's primary key.
    expect(emulator.registry.getDevice(DEVICE_ID)?.auth).toMatchObject({ type: 'sas', primaryKey: derivedKey });
  });

  it('connects with HostName=localhost:{port} and the derived key (SAS signed for that host name)', () => {
    expect(emulator.hubHostName).toBe(`localhost:${emulator.hubPort}`);
    expect(emulator.isConnected(DEVICE_ID)).toBe(true);
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
      emulator.patchDesired(DEVICE_ID, { interval: 10 });
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
      expect(emulator.getTwin(DEVICE_ID).reported).toEqual({ firmware: { version: '1.2.3' }, $version: 2 });
    });

    it('receives a desired-properties patch', async () => {
      const received = new Promise<Record<string, unknown>>((resolve) => {
        twin.on('properties.desired', (delta: Record<string, unknown>) => {
          if ((delta as { $version?: number }).$version === 3) resolve(delta);
        });
      });
      await subscribed('$iothub/twin/PATCH/properties/desired/#');
      emulator.patchDesired(DEVICE_ID, { interval: 30 });
      expect(await received).toEqual(expect.objectContaining({ interval: 30, $version: 3 }));
    });
  });

  it('answers a direct method invoked through the service API', async () => {
    client.onDeviceMethod('setInterval', (request, response) => {
      response.send(200, { applied: request.payload }, () => {});
    });
    await subscribed('$iothub/methods/POST/#');
    const result = await emulator.invokeMethod(DEVICE_ID, 'setInterval', { seconds: 5 }, { timeoutMs: 3000 });
    expect(result).toEqual({ status: 200, payload: { applied: { seconds: 5 } } });
  });

  it('receives a cloud-to-device message with its properties and completes it', async () => {
    const received = new Promise<InstanceType<typeof Message>>((resolve) => client.on('message', resolve));
    const completed = emulator.waitFor('c2d', (e) => e.messageId === 'c2d-1');
    await subscribed(`devices/${DEVICE_ID}/messages/devicebound/#`);
    emulator.sendC2D(DEVICE_ID, 'reboot please', { command: 'reboot' }, { messageId: 'c2d-1', correlationId: 'c-9' });
    const message = await received;
    expect(message.getData().toString()).toBe('reboot please');
    expect(message.messageId).toBe('c2d-1');
    expect(message.correlationId).toBe('c-9');
    expect(message.properties.getValue('command')).toBe('reboot');
    await client.complete(message);
    expect(await completed).toEqual({ deviceId: DEVICE_ID, messageId: 'c2d-1', outcome: 'completed' });
  });
});
