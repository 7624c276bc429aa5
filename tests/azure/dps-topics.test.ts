import { DPS_RESPONSE_FILTER, dpsPollTopic, dpsRegisterTopic, parseDpsResponseTopic } from '../../src/azure/dps-topics';
import { errorOf, unwrap } from './support';

describe('DPS topics to publish and subscribe', () => {
  test('filter, register and poll', () => {
    expect(DPS_RESPONSE_FILTER).toBe('$dps/registrations/res/#');
    expect(dpsRegisterTopic('1')).toBe('$dps/registrations/PUT/iotdps-register/?$rid=1');
    expect(dpsPollTopic('2', '4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d')).toBe(
      '$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d',
    );
  });
});

describe('parseDpsResponseTopic', () => {
  test('retry-after in either order', () => {
    expect(unwrap(parseDpsResponseTopic('$dps/registrations/res/202/?$rid=1&retry-after=3'))).toEqual({
      status: 202,
      rid: '1',
      retryAfterSeconds: 3,
    });
    expect(unwrap(parseDpsResponseTopic('$dps/registrations/res/202/?retry-after=3&$rid=1'))).toEqual({
      status: 202,
      rid: '1',
      retryAfterSeconds: 3,
    });
  });

  test('without retry-after', () => {
    expect(unwrap(parseDpsResponseTopic('$dps/registrations/res/200/?$rid=5'))).toEqual({ status: 200, rid: '5' });
  });

  test('throttling carries retry-after', () => {
    expect(unwrap(parseDpsResponseTopic('$dps/registrations/res/429/?$rid=5&retry-after=60'))).toEqual({
      status: 429,
      rid: '5',
      retryAfterSeconds: 60,
    });
  });

  test('mismatch and malformed', () => {
    expect(errorOf(parseDpsResponseTopic('$iothub/twin/res/200/?$rid=1')).code).toBe('topic-mismatch');
    expect(errorOf(parseDpsResponseTopic('$dps/registrations/res/202/?$rid=1&retry-after=soon')).message).toBe(
      'dps response topic: retry-after is not a whole number of seconds',
    );
    expect(errorOf(parseDpsResponseTopic('$dps/registrations/res/202/?retry-after=3')).message).toBe("dps response topic: has no '$rid'");
    expect(errorOf(parseDpsResponseTopic('$dps/registrations/res/OK/?$rid=1')).code).toBe('invalid-topic');
  });
});
