import { telemetryTopic, telemetryTopicPrefix } from '../../src/azure/telemetry-topic';
import { errorOf, unwrap } from './support';

describe('telemetry topic without properties', () => {
  test('device and module', () => {
    expect(unwrap(telemetryTopic({ deviceId: 'd1' }))).toBe('devices/d1/messages/events/');
    expect(unwrap(telemetryTopic({ deviceId: 'd1', moduleId: 'm1' }))).toBe('devices/d1/modules/m1/messages/events/');
    expect(unwrap(telemetryTopicPrefix('d1', 'm1'))).toBe('devices/d1/modules/m1/messages/events/');
  });
});

describe('telemetry topic with system properties', () => {
  test('all of them, in a fixed order, URL-encoded', () => {
    expect(
      unwrap(
        telemetryTopic({
          deviceId: 'd1',
          component: 'thermostat1',
          creationTime: '2024-01-02T03:04:05.000Z',
          contentEncoding: 'utf-8',
          contentType: 'application/json',
          correlationId: 'c 1',
          messageId: 'm-1',
        }),
      ),
    ).toBe(
      'devices/d1/messages/events/%24.mid=m-1&%24.cid=c%201&%24.ct=application%2Fjson&%24.ce=utf-8&%24.ctime=2024-01-02T03%3A04%3A05.000Z&%24.sub=thermostat1',
    );
  });

  test('creationTime as Unix ms becomes ISO 8601 UTC', () => {
    expect(unwrap(telemetryTopic({ deviceId: 'd1', creationTime: 1700000000123 }))).toBe(
      'devices/d1/messages/events/%24.ctime=2023-11-14T22%3A13%3A20.123Z',
    );
  });
});

describe('telemetry topic with application properties', () => {
  test('after the system ones, in the caller order, null without =', () => {
    expect(
      unwrap(
        telemetryTopic({
          deviceId: 'd1',
          contentType: 'application/json',
          properties: [
            { name: 'alert', value: 'high temp' },
            { name: 'flag', value: null },
            { name: 'AzIoTHub_FaultOperationType', value: 'KillTcp' },
          ],
        }),
      ),
    ).toBe('devices/d1/messages/events/%24.ct=application%2Fjson&alert=high%20temp&flag&AzIoTHub_FaultOperationType=KillTcp');
  });

  test('a record works too', () => {
    expect(unwrap(telemetryTopic({ deviceId: 'd1', properties: { a: '1', b: '' } }))).toBe('devices/d1/messages/events/a=1&b=');
  });
});

describe('telemetry topic refuses bad input with a reason', () => {
  test('ids', () => {
    expect(errorOf(telemetryTopic({ deviceId: 'd/1' })).field).toBe('deviceId');
    expect(errorOf(telemetryTopic({ deviceId: 'd1', moduleId: 'm+' })).field).toBe('moduleId');
  });

  test('property names', () => {
    expect(errorOf(telemetryTopic({ deviceId: 'd1', properties: { '$.mid': 'x' } })).message).toBe(
      "$.mid: names starting with '$.' are reserved for system properties",
    );
    expect(errorOf(telemetryTopic({ deviceId: 'd1', properties: { 'a b': 'x' } })).code).toBe('invalid-name');
    expect(errorOf(telemetryTopic({ deviceId: 'd1', properties: { 'iothub-ack': 'x' } })).code).toBe('invalid-name');
  });

  test('empty system values and bad times', () => {
    expect(errorOf(telemetryTopic({ deviceId: 'd1', messageId: '' })).field).toBe('messageId');
    expect(errorOf(telemetryTopic({ deviceId: 'd1', component: '' })).field).toBe('component');
    expect(errorOf(telemetryTopic({ deviceId: 'd1', creationTime: Number.NaN })).field).toBe('creationTime');
    expect(errorOf(telemetryTopic({ deviceId: 'd1', creationTime: 1e17 })).field).toBe('creationTime');
  });
});
