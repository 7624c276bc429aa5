import { dpsMqttIdentity, hubMqttIdentity } from '../../src/azure/mqtt-identity';
import { errorOf, unwrap } from './support';

const HOST = 'contoso.azure-devices.net';

describe('hub MQTT identity', () => {
  test('device', () => {
    expect(unwrap(hubMqttIdentity({ hostName: HOST, deviceId: 'device-1' }))).toEqual({
      clientId: 'device-1',
      username: 'contoso.azure-devices.net/device-1/?api-version=2021-04-12',
    });
  });

  test('module', () => {
    expect(unwrap(hubMqttIdentity({ hostName: HOST, deviceId: 'd1', moduleId: 'm1' }))).toEqual({
      clientId: 'd1/m1',
      username: 'contoso.azure-devices.net/d1/m1/?api-version=2021-04-12',
    });
  });

  test('DeviceClientType and model-id are URL-encoded, in that order', () => {
    const id = unwrap(
      hubMqttIdentity({ hostName: HOST, deviceId: 'd1', userAgent: 'azure-iot-xs/0.1.0 (xs; esp32)', modelId: 'dtmi:com:example:Thermostat;1' }),
    );
    expect(id.username).toBe(
      'contoso.azure-devices.net/d1/?api-version=2021-04-12&DeviceClientType=azure-iot-xs%2F0.1.0%20%28xs%3B%20esp32%29&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1',
    );
  });

  test('bad inputs are named', () => {
    expect(errorOf(hubMqttIdentity({ hostName: HOST, deviceId: 'd#1' })).field).toBe('deviceId');
    expect(errorOf(hubMqttIdentity({ hostName: HOST, deviceId: 'd1', moduleId: '' })).field).toBe('moduleId');
    expect(errorOf(hubMqttIdentity({ hostName: 'a b', deviceId: 'd1' })).field).toBe('hostName');
    expect(errorOf(hubMqttIdentity({ hostName: HOST, deviceId: 'd1', modelId: '' }))).toEqual({
      code: 'empty-field',
      field: 'modelId',
      message: 'modelId: must not be empty when given',
    });
  });
});

describe('DPS MQTT identity', () => {
  test('registration, with no ? before api-version', () => {
    expect(unwrap(dpsMqttIdentity({ idScope: '0ne00000A0A', registrationId: 'reg-1' }))).toEqual({
      clientId: 'reg-1',
      username: '0ne00000A0A/registrations/reg-1/api-version=2019-03-31',
    });
  });

  test('ClientVersion is URL-encoded', () => {
    expect(unwrap(dpsMqttIdentity({ idScope: '0ne00000A0A', registrationId: 'reg-1', clientVersion: 'azure-iot-xs/0.1.0' })).username).toBe(
      '0ne00000A0A/registrations/reg-1/api-version=2019-03-31&ClientVersion=azure-iot-xs%2F0.1.0',
    );
  });

  test('bad inputs are named', () => {
    expect(errorOf(dpsMqttIdentity({ idScope: '', registrationId: 'r' })).field).toBe('idScope');
    expect(errorOf(dpsMqttIdentity({ idScope: 's', registrationId: 'r r' })).field).toBe('registrationId');
  });
});
