import { buildPropertyBag, findProperty, parsePropertyBag, toPropertyList } from '../../src/azure/property-bag';
import { errorOf, unwrap } from './support';

describe('buildPropertyBag', () => {
  test('null has no =, empty has a bare =', () => {
    expect(unwrap(buildPropertyBag([{ name: 'a', value: '1' }, { name: 'b', value: null }, { name: 'c', value: '' }]))).toBe('a=1&b&c=');
  });

  test('names and values are URL-encoded', () => {
    expect(unwrap(buildPropertyBag([{ name: '$.ct', value: 'application/json' }, { name: 'k y', value: 'a&b=c' }]))).toBe(
      '%24.ct=application%2Fjson&k%20y=a%26b%3Dc',
    );
  });

  test('an empty list is an empty bag', () => {
    expect(unwrap(buildPropertyBag([]))).toBe('');
  });

  test('refuses empty names and text with lone surrogates', () => {
    expect(errorOf(buildPropertyBag([{ name: 'a', value: '1' }, { name: '', value: '2' }]))).toEqual({
      code: 'invalid-name',
      field: 'property 2',
      message: 'property 2: has an empty name',
    });
    expect(errorOf(buildPropertyBag([{ name: 'a\ud800', value: '1' }])).code).toBe('invalid-name');
    expect(errorOf(buildPropertyBag([{ name: 'a', value: '\udc00' }])).code).toBe('invalid-value');
  });

  test('a record turns into a list in key order', () => {
    expect(toPropertyList({ x: '1', y: null })).toEqual([{ name: 'x', value: '1' }, { name: 'y', value: null }]);
  });
});

describe('parsePropertyBag', () => {
  test('null, empty and ordinary values', () => {
    expect(unwrap(parsePropertyBag('a=1&b&c='))).toEqual([
      { name: 'a', value: '1' },
      { name: 'b', value: null },
      { name: 'c', value: '' },
    ]);
  });

  test('decodes the reference C2D example', () => {
    expect(unwrap(parsePropertyBag('%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound'))).toEqual([
      { name: '$.to', value: '/devices/d1/messages/deviceBound' },
    ]);
  });

  test('tolerates raw / and = inside values, keeps order and repeats, skips empty segments', () => {
    expect(unwrap(parsePropertyBag('$.to=/devices/d1/messages/deviceBound&k=a=b&&k=2&'))).toEqual([
      { name: '$.to', value: '/devices/d1/messages/deviceBound' },
      { name: 'k', value: 'a=b' },
      { name: 'k', value: '2' },
    ]);
    expect(unwrap(parsePropertyBag(''))).toEqual([]);
  });

  test('round-trips buildPropertyBag', () => {
    const props = [
      { name: 'caf\u00e9', value: 'a/b?c=d&e' },
      { name: 'n', value: null },
      { name: 'e', value: '' },
    ];
    expect(unwrap(parsePropertyBag(unwrap(buildPropertyBag(props))))).toEqual(props);
  });

  test('bad escapes and empty names are errors, not exceptions', () => {
    expect(errorOf(parsePropertyBag('a=%zz'))).toEqual({
      code: 'invalid-percent-encoding',
      field: 'a',
      message: "a: value: '%' at offset 0 is not followed by two hex digits",
    });
    expect(errorOf(parsePropertyBag('%C3=1')).code).toBe('invalid-utf8');
    expect(errorOf(parsePropertyBag('x=1&=v')).message).toBe('property 2: has an empty name');
  });
});

describe('findProperty', () => {
  const bag = [
    { name: 'a', value: '1' },
    { name: 'b', value: null },
    { name: 'a', value: '2' },
  ];
  test('first value, null for a bare name, undefined when absent', () => {
    expect(findProperty(bag, 'a')).toBe('1');
    expect(findProperty(bag, 'b')).toBeNull();
    expect(findProperty(bag, 'c')).toBeUndefined();
  });
});
