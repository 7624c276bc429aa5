import { METHODS_FILTER, methodResponseTopic, parseMethodRequestTopic, splitCommandName } from '../../src/azure/method-topics';
import { errorOf, unwrap } from './support';

describe('direct method requests', () => {
  test('filter', () => {
    expect(METHODS_FILTER).toBe('$iothub/methods/POST/#');
  });

  test('method name and rid', () => {
    expect(unwrap(parseMethodRequestTopic('$iothub/methods/POST/reboot/?$rid=1'))).toEqual({ methodName: 'reboot', rid: '1' });
  });

  test('component commands, raw or escaped *', () => {
    expect(unwrap(parseMethodRequestTopic('$iothub/methods/POST/thermostat1*getMaxMinReport/?$rid=a1')).methodName).toBe(
      'thermostat1*getMaxMinReport',
    );
    expect(unwrap(parseMethodRequestTopic('$iothub/methods/POST/thermostat1%2AgetMaxMinReport/?$rid=a1')).methodName).toBe(
      'thermostat1*getMaxMinReport',
    );
  });

  test('other topics are a mismatch; malformed ones are invalid', () => {
    expect(errorOf(parseMethodRequestTopic('$iothub/twin/res/200/?$rid=1')).code).toBe('topic-mismatch');
    expect(errorOf(parseMethodRequestTopic('$iothub/methods/POST//?$rid=1')).message).toBe('method topic: has an empty method name');
    expect(errorOf(parseMethodRequestTopic('$iothub/methods/POST/a/b/?$rid=1')).message).toBe("method topic: method name contains '/'");
    expect(errorOf(parseMethodRequestTopic('$iothub/methods/POST/reboot/?x=1')).message).toBe("method topic: has no '$rid'");
    expect(errorOf(parseMethodRequestTopic('$iothub/methods/POST/reboot')).code).toBe('invalid-topic');
    expect(errorOf(parseMethodRequestTopic('$iothub/methods/POST/%C3/?$rid=1')).code).toBe('invalid-topic');
  });
});

describe('splitCommandName', () => {
  test('component and command', () => {
    expect(splitCommandName('thermostat1*getMaxMinReport')).toEqual({ component: 'thermostat1', command: 'getMaxMinReport' });
    expect(splitCommandName('a*b*c')).toEqual({ component: 'a', command: 'b*c' });
  });

  test('plain names, and a * with nothing on one side, are plain commands', () => {
    expect(splitCommandName('reboot')).toEqual({ command: 'reboot' });
    expect(splitCommandName('*reboot')).toEqual({ command: '*reboot' });
    expect(splitCommandName('reboot*')).toEqual({ command: 'reboot*' });
  });
});

describe('direct method replies', () => {
  test('status and rid', () => {
    expect(unwrap(methodResponseTopic(200, '1'))).toBe('$iothub/methods/res/200/?$rid=1');
    expect(unwrap(methodResponseTopic(404, 'a1'))).toBe('$iothub/methods/res/404/?$rid=a1');
  });

  test('the rid round-trips from the request', () => {
    const req = unwrap(parseMethodRequestTopic('$iothub/methods/POST/m/?$rid=a%2Fb'));
    expect(unwrap(methodResponseTopic(200, req.rid))).toBe('$iothub/methods/res/200/?$rid=a%2Fb');
  });

  test('bad status or rid', () => {
    expect(errorOf(methodResponseTopic(2.5, '1')).field).toBe('status');
    expect(errorOf(methodResponseTopic(-1, '1')).field).toBe('status');
    expect(errorOf(methodResponseTopic(200, '')).field).toBe('rid');
  });
});
