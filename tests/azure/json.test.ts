import { isJsonObject, parseJson, parseJsonObject } from '../../src/azure/json';
import { errorOf, unwrap } from './support';

describe('parseJson', () => {
  test('bytes and text', () => {
    expect(unwrap(parseJson(new TextEncoder().encode('{"a":[1,"\u00e9",null]}')))).toEqual({ a: [1, '\u00e9', null] });
    expect(unwrap(parseJson('42'))).toBe(42);
  });

  test('a leading byte-order mark is skipped', () => {
    expect(unwrap(parseJson(Uint8Array.from([0xef, 0xbb, 0xbf, 0x31])))).toBe(1);
  });

  test('empty payloads: an error, or null when allowed', () => {
    expect(errorOf(parseJson(new Uint8Array(0), 'method payload'))).toEqual({
      code: 'invalid-json',
      field: 'method payload',
      message: 'method payload: is empty',
    });
    expect(unwrap(parseJson(' ', 'p', { allowEmpty: true }))).toBeNull();
  });

  test('not UTF-8, not JSON', () => {
    expect(errorOf(parseJson(Uint8Array.from([0x7b, 0xc3])))).toEqual({ code: 'invalid-utf8', field: 'payload', message: 'payload: is not valid UTF-8' });
    expect(errorOf(parseJson('{"secret":"hunter2"'))).toEqual({ code: 'invalid-json', field: 'payload', message: 'payload: is not valid JSON' });
  });

  test('hostile nesting is an error, not a crash', () => {
    const deep = '['.repeat(200000) + ']'.repeat(200000);
    const r = parseJson(deep);
    expect(r.ok === true || r.error.code === 'invalid-json').toBe(true);
  });

  test('__proto__ keys stay plain data', () => {
    const v = unwrap(parseJson('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(v)).toEqual(['__proto__']);
  });
});

describe('parseJsonObject', () => {
  test('objects only', () => {
    expect(unwrap(parseJsonObject('{"a":1}'))).toEqual({ a: 1 });
    expect(errorOf(parseJsonObject('[1]', 'twin'))).toEqual({ code: 'invalid-payload', field: 'twin', message: 'twin: is not a JSON object' });
    expect(isJsonObject(null)).toBe(false);
    expect(isJsonObject([])).toBe(false);
  });
});
