import { c2dSubscribeFilter, parseC2dTopic } from '../../src/azure/c2d-topic';
import { errorOf, unwrap } from './support';

describe('C2D subscription', () => {
  test('filter for the device', () => {
    expect(unwrap(c2dSubscribeFilter('d1'))).toBe('devices/d1/messages/devicebound/#');
    expect(errorOf(c2dSubscribeFilter('d#')).field).toBe('deviceId');
  });
});

describe('parseC2dTopic', () => {
  test('the reference example, with system properties by name', () => {
    const topic =
      'devices/d1/messages/devicebound/%24.mid=6c2f&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound&%24.ct=text%2Fplain&%24.ce=utf-8&iothub-ack=full&color=red&nothing';
    expect(unwrap(parseC2dTopic(topic, 'd1'))).toEqual({
      deviceId: 'd1',
      properties: [
        { name: '$.mid', value: '6c2f' },
        { name: '$.to', value: '/devices/d1/messages/deviceBound' },
        { name: '$.ct', value: 'text/plain' },
        { name: '$.ce', value: 'utf-8' },
        { name: 'iothub-ack', value: 'full' },
        { name: 'color', value: 'red' },
        { name: 'nothing', value: null },
      ],
      applicationProperties: [
        { name: 'color', value: 'red' },
        { name: 'nothing', value: null },
      ],
      messageId: '6c2f',
      to: '/devices/d1/messages/deviceBound',
      contentType: 'text/plain',
      contentEncoding: 'utf-8',
    });
  });

  test('raw / inside values is tolerated', () => {
    expect(unwrap(parseC2dTopic('devices/d1/messages/devicebound/$.to=/devices/d1/messages/deviceBound&k=')).to).toBe(
      '/devices/d1/messages/deviceBound',
    );
  });

  test('an empty bag, with or without the trailing slash', () => {
    expect(unwrap(parseC2dTopic('devices/d1/messages/devicebound/')).properties).toEqual([]);
    expect(unwrap(parseC2dTopic('devices/d1/messages/devicebound')).properties).toEqual([]);
  });

  test('other topics and other devices are a mismatch', () => {
    expect(errorOf(parseC2dTopic('$iothub/twin/res/200/?$rid=1')).code).toBe('topic-mismatch');
    expect(errorOf(parseC2dTopic('devices/d1/messages/events/')).code).toBe('topic-mismatch');
    expect(errorOf(parseC2dTopic('devices/d1/messages/deviceboundX')).code).toBe('topic-mismatch');
    expect(errorOf(parseC2dTopic('devices/d2/messages/devicebound/', 'd1'))).toEqual({
      code: 'topic-mismatch',
      field: 'c2d topic',
      message: 'c2d topic: is for another device',
    });
  });

  test('malformed bags are invalid, never thrown', () => {
    expect(errorOf(parseC2dTopic('devices/d1/messages/devicebound/a=%G1')).code).toBe('invalid-topic');
    expect(errorOf(parseC2dTopic('devices//messages/devicebound/')).code).toBe('invalid-topic');
  });
});
