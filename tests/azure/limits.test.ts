import {
  checkApplicationProperties,
  checkApplicationPropertyName,
  checkMethodPayloadSize,
  checkTelemetrySize,
  checkTwinKey,
  checkTwinPatch,
  MAX_TELEMETRY_BYTES,
} from '../../src/azure/limits';
import { errorOf, unwrap } from './support';

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { property: 'value' };
  for (let i = levels; i >= 1; i--) value = { [`l${i}`]: value };
  return value;
}

describe('application property names', () => {
  test('letters, digits and the documented punctuation', () => {
    expect(unwrap(checkApplicationPropertyName("a-Z_0.9!#$%&'*+^`|~"))).toBe("a-Z_0.9!#$%&'*+^`|~");
  });

  test('empty, reserved prefixes and other characters are refused', () => {
    expect(errorOf(checkApplicationPropertyName('')).message).toBe('property name: must not be empty');
    expect(errorOf(checkApplicationPropertyName('$.mid')).code).toBe('invalid-name');
    expect(errorOf(checkApplicationPropertyName('IoTHub-x')).message).toBe("IoTHub-x: names starting with 'iothub-' are reserved");
    expect(errorOf(checkApplicationPropertyName('a b')).message).toBe(
      "property name: character at offset 1 is not allowed (letters, digits and !#$%&'*+-.^_`|~)",
    );
    expect(errorOf(checkApplicationPropertyName('caf\u00e9')).code).toBe('invalid-name');
  });

  test('values may be any well-formed text', () => {
    expect(unwrap(checkApplicationProperties([{ name: 'a', value: 'caf\u00e9 / & = \u{1F600}' }, { name: 'b', value: null }]))).toHaveLength(2);
    expect(errorOf(checkApplicationProperties([{ name: 'a', value: 'x\ud800' }]))).toEqual({
      code: 'invalid-value',
      field: 'a',
      message: 'a: is not well-formed Unicode',
    });
  });
});

describe('telemetry size', () => {
  const topic = 'devices/d1/messages/events/';
  test('payload plus topic up to 256 KB', () => {
    expect(unwrap(checkTelemetrySize(MAX_TELEMETRY_BYTES - topic.length, topic))).toBe(MAX_TELEMETRY_BYTES);
    expect(errorOf(checkTelemetrySize(MAX_TELEMETRY_BYTES - topic.length + 1, topic))).toEqual({
      code: 'too-large',
      field: 'telemetry',
      message: 'telemetry: payload and properties are 262145 bytes; the hub allows 262144',
    });
  });

  test('the topic itself fits MQTT (65,535 UTF-8 bytes)', () => {
    expect(unwrap(checkTelemetrySize(0, 'x'.repeat(65535)))).toBe(65535);
    expect(errorOf(checkTelemetrySize(0, '\u00e9'.repeat(32768))).message).toBe(
      'topic: is 65536 bytes with its properties; MQTT allows 65535',
    );
  });
});

describe('method payload size', () => {
  test('128 KB', () => {
    expect(unwrap(checkMethodPayloadSize(131072))).toBe(131072);
    expect(errorOf(checkMethodPayloadSize(131073)).code).toBe('too-large');
  });
});

describe('twin keys', () => {
  test('no . $ space or control characters, up to 1 KB', () => {
    expect(unwrap(checkTwinKey('fw_Version-2'))).toBe('fw_Version-2');
    expect(unwrap(checkTwinKey('k'.repeat(1024)))).toHaveLength(1024);
    expect(errorOf(checkTwinKey('k'.repeat(1025))).message).toBe('twin key: is longer than 1024 bytes');
    expect(errorOf(checkTwinKey('\u00e9'.repeat(513))).code).toBe('invalid-name');
    expect(errorOf(checkTwinKey('a.b')).message).toBe("a.b: twin keys may not contain '.' (offset 1)");
    expect(errorOf(checkTwinKey('$version')).message).toBe("$version: twin keys may not contain '$' (offset 0)");
    expect(errorOf(checkTwinKey('a b')).code).toBe('invalid-name');
    expect(errorOf(checkTwinKey('a\u0007')).message).toBe('a\u0007: twin keys may not contain control characters (offset 1)');
    expect(errorOf(checkTwinKey('a\u0085')).code).toBe('invalid-name');
    expect(errorOf(checkTwinKey('')).code).toBe('invalid-name');
  });
});

describe('twin patches', () => {
  test('returns the JSON text to publish', () => {
    expect(unwrap(checkTwinPatch({ firmware: { fwVersion: '1.2.0', pending: null, sizes: [1, 2] }, ok: true }))).toBe(
      '{"firmware":{"fwVersion":"1.2.0","pending":null,"sizes":[1,2]},"ok":true}',
    );
  });

  test('depth: ten levels of objects below the patch are fine, eleven are not', () => {
    expect(checkTwinPatch(nested(10)).ok).toBe(true);
    expect(errorOf(checkTwinPatch(nested(11)))).toEqual({
      code: 'too-deep',
      field: 'l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11',
      message: 'l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11: nests deeper than 10 levels',
    });
  });

  test('arrays count as levels', () => {
    let array: unknown = [1];
    for (let i = 1; i < 10; i++) array = [array];
    expect(checkTwinPatch({ a: array }).ok).toBe(true);
    expect(errorOf(checkTwinPatch({ a: [array] })).field).toBe('a[0][0][0][0][0][0][0][0][0][0]');
  });

  test('strings up to 4 KB of UTF-8', () => {
    expect(checkTwinPatch({ s: 'x'.repeat(4096) }).ok).toBe(true);
    expect(errorOf(checkTwinPatch({ s: '\u00e9'.repeat(2049) })).message).toBe('s: string is 4098 bytes; twins allow 4096');
  });

  test('the whole patch up to 32 KB', () => {
    const patch: Record<string, string> = {};
    for (let i = 0; i < 9; i++) patch[`k${i}`] = 'x'.repeat(4000);
    expect(errorOf(checkTwinPatch(patch)).message).toMatch(/^patch: is 360\d\d bytes; the hub allows 32768$/);
  });

  test('keys anywhere in the tree are checked, with their path', () => {
    expect(errorOf(checkTwinPatch({ a: { 'b.c': 1 } })).field).toBe('a.b.c');
    expect(errorOf(checkTwinPatch({ a: [{ $x: 1 }] })).field).toBe('a[0].$x');
  });

  test('values JSON cannot hold are refused, not silently dropped', () => {
    expect(errorOf(checkTwinPatch({ a: undefined })).message).toBe('a: a undefined cannot be stored in a twin');
    expect(errorOf(checkTwinPatch({ a: () => 1 })).code).toBe('invalid-value');
    expect(errorOf(checkTwinPatch({ a: Number.NaN })).message).toBe('a: numbers must be finite');
    expect(errorOf(checkTwinPatch({ a: BigInt(1) })).code).toBe('invalid-value');
    expect(errorOf(checkTwinPatch({ a: new Date(0) })).message).toBe('a: only plain objects and arrays can be stored in a twin');
    expect(errorOf(checkTwinPatch({ a: 'x\udc00' })).code).toBe('invalid-value');
  });

  test('the patch must be a plain object; cycles end as too-deep', () => {
    expect(errorOf(checkTwinPatch([1])).field).toBe('patch');
    expect(errorOf(checkTwinPatch(null)).field).toBe('patch');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(errorOf(checkTwinPatch(cyclic)).code).toBe('too-deep');
  });
});
