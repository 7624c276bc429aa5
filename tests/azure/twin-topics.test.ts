import {
  parseTwinDesiredTopic,
  parseTwinResponseTopic,
  TWIN_DESIRED_FILTER,
  TWIN_RESPONSE_FILTER,
  twinGetTopic,
  twinPatchReportedTopic,
} from '../../src/azure/twin-topics';
import { errorOf, unwrap } from './support';

describe('twin topics to publish and subscribe', () => {
  test('filters', () => {
    expect(TWIN_RESPONSE_FILTER).toBe('$iothub/twin/res/#');
    expect(TWIN_DESIRED_FILTER).toBe('$iothub/twin/PATCH/properties/desired/#');
  });

  test('GET and PATCH reported', () => {
    expect(twinGetTopic('7')).toBe('$iothub/twin/GET/?$rid=7');
    expect(twinPatchReportedTopic('8')).toBe('$iothub/twin/PATCH/properties/reported/?$rid=8');
    expect(twinGetTopic('a b')).toBe('$iothub/twin/GET/?$rid=a%20b');
  });
});

describe('parseTwinResponseTopic', () => {
  test('status and rid', () => {
    expect(unwrap(parseTwinResponseTopic('$iothub/twin/res/200/?$rid=7'))).toEqual({ status: 200, rid: '7' });
  });

  test('version in either position', () => {
    expect(unwrap(parseTwinResponseTopic('$iothub/twin/res/204/?$rid=8&$version=12'))).toEqual({ status: 204, rid: '8', version: 12 });
    expect(unwrap(parseTwinResponseTopic('$iothub/twin/res/204/?$version=12&$rid=8'))).toEqual({ status: 204, rid: '8', version: 12 });
  });

  test('error statuses are parsed too', () => {
    expect(unwrap(parseTwinResponseTopic('$iothub/twin/res/429/?$rid=9'))).toEqual({ status: 429, rid: '9' });
  });

  test('other topics are a mismatch', () => {
    expect(errorOf(parseTwinResponseTopic('$iothub/methods/POST/x/?$rid=1')).code).toBe('topic-mismatch');
    expect(errorOf(parseTwinResponseTopic('$iothub/twin/PATCH/properties/desired/?$version=1')).code).toBe('topic-mismatch');
  });

  test('malformed responses are named', () => {
    expect(errorOf(parseTwinResponseTopic('$iothub/twin/res/200/?$version=1')).message).toBe("twin response topic: has no '$rid'");
    expect(errorOf(parseTwinResponseTopic('$iothub/twin/res/20x/?$rid=1')).message).toBe(
      'twin response topic: status is not a 3-digit HTTP status',
    );
    expect(errorOf(parseTwinResponseTopic('$iothub/twin/res/200')).message).toBe("twin response topic: has no '/?' before its parameters");
    expect(errorOf(parseTwinResponseTopic('$iothub/twin/res/200/?$rid=1&$version=x')).code).toBe('invalid-topic');
    expect(errorOf(parseTwinResponseTopic('$iothub/twin/res/200/?$rid=1&$rid=2')).message).toBe("twin response topic: repeats '$rid'");
    expect(errorOf(parseTwinResponseTopic('$iothub/twin/res/200/?$rid')).message).toBe("twin response topic: '$rid' has no value");
    expect(errorOf(parseTwinResponseTopic('$iothub/twin/res/200/?$rid=%')).code).toBe('invalid-topic');
  });
});

describe('parseTwinDesiredTopic', () => {
  test('version', () => {
    expect(unwrap(parseTwinDesiredTopic('$iothub/twin/PATCH/properties/desired/?$version=42'))).toEqual({ version: 42 });
  });

  test('missing or bad version, extra levels', () => {
    expect(errorOf(parseTwinDesiredTopic('$iothub/twin/PATCH/properties/desired/?')).message).toBe("twin desired topic: has no '$version'");
    expect(errorOf(parseTwinDesiredTopic('$iothub/twin/PATCH/properties/desired/?$version=-1')).code).toBe('invalid-topic');
    expect(errorOf(parseTwinDesiredTopic('$iothub/twin/PATCH/properties/desired/x/?$version=1')).code).toBe('invalid-topic');
    expect(errorOf(parseTwinDesiredTopic('$iothub/twin/res/200/?$rid=1')).code).toBe('topic-mismatch');
  });
});
