// Acceptance: Azure's own Node SDK provisions against the emulated DPS, then talks to the emulated hub.
// The SDK's provisioning MQTT transport has no CA option of its own (setTransportOptions takes only
// pollingInterval); the MqttBase it keeps inside does: setOptions({ ca }) is how it trusts a private CA.
// `provisioningHost` may carry a port: the transport dials `mqtts://{provisioningHost}`.
import { ProvisioningDeviceClient, type RegistrationResult } from 'azure-iot-provisioning-device';
import { Mqtt as ProvisioningMqtt } from 'azure-iot-provisioning-device-mqtt';
import { SymmetricKeySecurityClient } from 'azure-iot-security-symmetric-key';
import { Client, Message } from 'azure-iot-device';
import { Mqtt as DeviceMqtt } from 'azure-iot-device-mqtt';
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import type { DpsServer } from '../../emulator/src/dps/dps-server';
import { deriveDeviceKey } from '../../emulator/src/dps/enrollment-store';
import { createCa, issueDeviceCertificate } from '../../emulator/src/pki';

const GROUP_PRIMARY = Buffer.alloc(64, 0x5a).toString('base64');
const GROUP_SECONDARY = Buffer.alloc(64, 0xa5).toString('base64');
const tls = createTlsMaterial();

let emulator: Emulator;
let dps: DpsServer;
beforeAll(async () => {
  // The whole emulator as the CLI starts it: hub and DPS sharing one registry and TLS identity.
  emulator = await Emulator.start({ persist: false, tls });
  if (!emulator.dps) throw new Error('the emulator started without DPS');
  dps = emulator.dps;
});
afterAll(async () => {
  await emulator.stop();
});

function provisioningClient(registrationId: string, key: string) {
  const transport = new ProvisioningMqtt();
  (transport as unknown as { _mqttBase: { setOptions(options: { ca: string }): void } })._mqttBase.setOptions({ ca: tls.ca.certPem });
  // The SDK packages pin different azure-iot-common versions, so their class types differ nominally.
  const security = new SymmetricKeySecurityClient(registrationId, key) as unknown as Parameters<typeof ProvisioningDeviceClient.create>[3];
  const client = ProvisioningDeviceClient.create(`localhost:${dps.port}`, dps.idScope, transport, security);
  return {
    setProvisioningPayload: (payload: object) => client.setProvisioningPayload(payload),
    register: () => client.register() as Promise<RegistrationResult>,
  };
}

describe('Azure Node SDK against the emulator', () => {
  test('provisions through a symmetric-key group with the derived key, then sends telemetry to the assigned hub', async () => {
    dps.enrollments.addGroup({
      enrollmentGroupId: 'sdk-fleet',
      attestation: { type: 'symmetricKey', primaryKey: GROUP_PRIMARY, secondaryKey: GROUP_SECONDARY },
      deviceId: 'sdk-{registrationId}',
      pollsBeforeAssigned: 2,
      retryAfterSeconds: 0,
      initialTwin: { desired: { telemetryInterval: 15 } },
    });
    const registrationId = 'sdk-reg-1';
    const deviceKey = deriveDeviceKey(GROUP_PRIMARY, registrationId);
    const polls: (number | string)[] = [];
    dps.on('request', (e) => polls.push(`${e.kind}:${e.status}`));

    const provisioning = provisioningClient(registrationId, deviceKey);
    provisioning.setProvisioningPayload({ firmware: '1.2.3' });
    const result = await provisioning.register();
    expect(result).toMatchObject({
      registrationId,
      assignedHub: emulator.hubHostName,
      deviceId: 'sdk-sdk-reg-1',
      status: 'assigned',
      substatus: 'initialAssignment',
      payload: { firmware: '1.2.3' },
    });
    expect(polls).toEqual(['register:202', 'poll:202', 'poll:200']);

    const device = Client.fromConnectionString(`HostName=${result.assignedHub};DeviceId=${result.deviceId};SharedAccessKey=${deviceKey}`, DeviceMqtt);
    await device.setOptions({ ca: tls.ca.certPem });
    try {
      await device.open();
      const twin = await device.getTwin();
      expect(twin.properties.desired).toEqual(expect.objectContaining({ telemetryInterval: 15 }));
      const arrived = emulator.waitFor('telemetry', (m) => m.deviceId === 'sdk-sdk-reg-1');
      const message = new Message(JSON.stringify({ temperature: 21.5 }));
      message.contentType = 'application/json';
      message.contentEncoding = 'utf-8';
      await device.sendEvent(message);
      const telemetry = await arrived;
      expect(Buffer.from(telemetry.body).toString('utf8')).toBe('{"temperature":21.5}');
      expect(telemetry.systemProperties['$.ct']).toBe('application/json');
    } finally {
      await device.close();
    }
  });

  test('a wrong derived key is refused and the SDK reports the failure', async () => {
    const provisioning = provisioningClient('sdk-reg-2', deriveDeviceKey(GROUP_SECONDARY, 'someone-else'));
    await expect(provisioning.register()).rejects.toThrow();
    expect(dps.getRegistration('sdk-reg-2')).toBeUndefined();
  });

  test('provisions an X.509 device of a CA group, which then connects to the hub with the same certificate', async () => {
    const fleetCa = createCa('SDK Fleet CA');
    const cert = issueDeviceCertificate('sdk-cam-1', fleetCa);
    dps.enrollments.addGroup({ enrollmentGroupId: 'sdk-cams', attestation: { type: 'x509-ca', caCertPem: fleetCa.certPem }, retryAfterSeconds: 0 });
    const transport = new ProvisioningMqtt();
    (transport as unknown as { _mqttBase: { setOptions(options: { ca: string }): void } })._mqttBase.setOptions({ ca: tls.ca.certPem });
    // The SDK recognises an X.509 security client by its getCertificate method; getRegistrationId is synchronous here.
    const security = {
      getCertificate: (done: (error: Error | null, certificate: { cert: string; key: string }) => void) => done(null, { cert: cert.certPem, key: cert.keyPem }),
      getRegistrationId: () => 'sdk-cam-1',
    } as unknown as Parameters<typeof ProvisioningDeviceClient.create>[3];
    const result = (await ProvisioningDeviceClient.create(`localhost:${dps.port}`, dps.idScope, transport, security).register()) as RegistrationResult;
    expect(result).toMatchObject({ deviceId: 'sdk-cam-1', assignedHub: emulator.hubHostName, status: 'assigned' });

    const device = Client.fromConnectionString(`HostName=${result.assignedHub};DeviceId=${result.deviceId};x509=true`, DeviceMqtt);
    await device.setOptions({ ca: tls.ca.certPem, cert: cert.certPem, key: cert.keyPem });
    try {
      await device.open();
      const arrived = emulator.waitFor('telemetry', (m) => m.deviceId === 'sdk-cam-1');
      await device.sendEvent(new Message('frame'));
      expect(Buffer.from((await arrived).body).toString('utf8')).toBe('frame');
    } finally {
      await device.close();
    }
  });
});
