// One router for every incoming topic: the azure parsers chained by their `topic-mismatch` answer, so a topic is
// a feature's (well formed or not) or no feature's at all.
import { describe, expect, test } from '@jest/globals';
import { hubSubscriptions, incomingKind, routeTopic } from '../../src/hub/topic-router';

describe('routing an incoming topic', () => {
  test('twin answers, desired patches, method requests and C2D reach their feature with the parsed topic', () => {
    expect(routeTopic('$iothub/twin/res/204/?$rid=7&$version=3', 'd1')).toEqual({ to: 'twin-response', topic: { status: 204, rid: '7', version: 3 } });
    expect(routeTopic('$iothub/twin/PATCH/properties/desired/?$version=12', 'd1')).toEqual({ to: 'twin-desired', topic: { version: 12 } });
    expect(routeTopic('$iothub/methods/POST/reboot/?$rid=a1', 'd1')).toEqual({ to: 'method', topic: { methodName: 'reboot', rid: 'a1' } });
    const c2d = routeTopic('devices/d1/messages/devicebound/%24.mid=m1&color=red', 'd1');
    expect(c2d.to).toBe('c2d');
    expect(c2d.to === 'c2d' && c2d.topic.messageId).toBe('m1');
  });

  test("a malformed topic of a feature is that feature's, named for the report", () => {
    const twin = routeTopic('$iothub/twin/res/20x/?$rid=7', 'd1');
    expect(twin).toMatchObject({ to: 'malformed', kind: 'twin', what: 'twin response' });
    expect(routeTopic('$iothub/twin/PATCH/properties/desired/?$version=x', 'd1')).toMatchObject({ to: 'malformed', kind: 'twin', what: 'desired patch' });
    expect(routeTopic('$iothub/methods/POST/reboot', 'd1')).toMatchObject({ to: 'malformed', kind: 'method', what: 'method request' });
  });

  test("another device's C2D, a malformed devicebound topic and anything else are no feature's", () => {
    expect(routeTopic('devices/d2/messages/devicebound/', 'd1')).toEqual({ to: 'none' });
    expect(routeTopic('devices//messages/devicebound/', 'd1')).toEqual({ to: 'none' });
    expect(routeTopic('$iothub/other', 'd1')).toEqual({ to: 'none' });
    expect(routeTopic('', 'd1')).toEqual({ to: 'none' });
  });

  test('the kind of a message skipped for its size, and the rid a 413 goes to', () => {
    expect(incomingKind(undefined, 'd1')).toEqual({ kind: 'unknown' });
    expect(incomingKind('$iothub/twin/res/200/?$rid=1', 'd1')).toEqual({ kind: 'twin' });
    expect(incomingKind('$iothub/methods/POST/m/?$rid=9', 'd1')).toEqual({ kind: 'method', methodRid: '9' });
    expect(incomingKind('$iothub/methods/POST/m', 'd1')).toEqual({ kind: 'method' });
    expect(incomingKind('devices/d1/messages/devicebound/', 'd1')).toEqual({ kind: 'c2d' });
    expect(incomingKind('devices/d2/messages/devicebound/', 'd1')).toEqual({ kind: 'unknown' });
  });
});

describe('the one SUBSCRIBE', () => {
  test('a device listens to its C2D, methods and the twin; a module gets no C2D', () => {
    expect(hubSubscriptions('d1', undefined)).toEqual([
      { topic: 'devices/d1/messages/devicebound/#', qos: 1 },
      { topic: '$iothub/methods/POST/#', qos: 0 },
      { topic: '$iothub/twin/res/#', qos: 0 },
      { topic: '$iothub/twin/PATCH/properties/desired/#', qos: 0 },
    ]);
    expect(hubSubscriptions('d1', 'm1').map((s) => s.topic)).toEqual(['$iothub/methods/POST/#', '$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#']);
  });
});
