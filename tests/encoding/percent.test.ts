import common from 'azure-iot-common';
import { percentDecode, percentEncode, percentEncodeBytes } from '../../src/encoding/percent';

function decoded(text: string): string {
  const r = percentDecode(text);
  if (!r.ok) throw new Error(`unexpected failure: ${r.error.message}`);
  return r.value;
}

function decodeErrorCode(text: string): string {
  const r = percentDecode(text);
  if (r.ok) throw new Error('expected a failure');
  return r.error.code;
}

describe('percent encode', () => {
  test('leaves exactly A-Z a-z 0-9 - _ . ~ alone', () => {
    const plain = 'ABCXYZabcxyz0189-_.~';
    expect(percentEncode(plain)).toBe(plain);
  });

  test('escapes every other ASCII byte with upper-case hex', () => {
    expect(percentEncode('/+= ')).toBe('%2F%2B%3D%20');
    expect(percentEncode("!'()*")).toBe('%21%27%28%29%2A');
    expect(percentEncode('$.ct=application/json')).toBe('%24.ct%3Dapplication%2Fjson');
    expect(percentEncode('\u0000\u001f\u007f')).toBe('%00%1F%7F');
  });

  test('encodes non-ASCII text as UTF-8 bytes', () => {
    expect(percentEncode('\u00e9')).toBe('%C3%A9');
    expect(percentEncode('\u20ac')).toBe('%E2%82%AC');
    expect(percentEncode('\u{1F600}')).toBe('%F0%9F%98%80');
  });

  test('the reference model id example', () => {
    expect(percentEncode('dtmi:com:example:Thermostat;1')).toBe('dtmi%3Acom%3Aexample%3AThermostat%3B1');
  });

  test('a lone surrogate becomes U+FFFD rather than throwing', () => {
    expect(percentEncode('a\ud800b')).toBe('a%EF%BF%BDb');
  });

  test('matches the Node SDK encodeUriComponentStrict', () => {
    const samples = [
      'contoso.azure-devices.net/devices/device-1',
      'a+b=c&d;e,f:g@h$i#j?k[l]m{n}o|p^q`r"s<t>u\\v%w',
      'caf\u00e9 \u{1F600}',
    ];
    for (const s of samples) expect(percentEncode(s)).toBe(common.encodeUriComponentStrict(s));
  });

  test("differs from the Node SDK only in the hex case of !'()*, which it writes in lower case", () => {
    const s = "it's (very) *strict*!";
    expect(common.encodeUriComponentStrict(s)).toBe('it%27s%20%28very%29%20%2astrict%2a%21');
    expect(percentEncode(s)).toBe('it%27s%20%28very%29%20%2Astrict%2A%21');
  });

  test('percentEncodeBytes escapes raw bytes', () => {
    expect(percentEncodeBytes(Uint8Array.from([0x41, 0x2f, 0xff, 0x00]))).toBe('A%2F%FF%00');
  });
});

describe('percent decode', () => {
  test('accepts either hex case', () => {
    expect(decoded('%2F%2f%C3%A9%c3%a9')).toBe('//\u00e9\u00e9');
  });

  test('tolerates raw characters, including / and non-ASCII', () => {
    expect(decoded('/devices/d1/messages/deviceBound')).toBe('/devices/d1/messages/deviceBound');
    expect(decoded('%2Fdevices/d1%2Fmessages')).toBe('/devices/d1/messages');
    expect(decoded('\u00e9%C3%A9\u{1F600}')).toBe('\u00e9\u00e9\u{1F600}');
  });

  test('keeps + as + (not form encoding)', () => {
    expect(decoded('a+b%2Bc')).toBe('a+b+c');
  });

  test('escapes may spell a multi-byte character', () => {
    expect(decoded('%F0%9F%98%80')).toBe('\u{1F600}');
  });

  test('round-trips what percentEncode writes', () => {
    for (const s of ['', 'plain', 'a b/c?d=e&f', '\u00e9\u20ac\u{1F600}', "!'()*~"]) {
      expect(decoded(percentEncode(s))).toBe(s);
    }
  });

  test('a % without two hex digits is an error', () => {
    expect(decodeErrorCode('%')).toBe('invalid-percent-encoding');
    expect(decodeErrorCode('%2')).toBe('invalid-percent-encoding');
    expect(decodeErrorCode('100%')).toBe('invalid-percent-encoding');
    expect(decodeErrorCode('%G0')).toBe('invalid-percent-encoding');
    const r = percentDecode('ab%zz');
    expect(r).toEqual({ ok: false, error: { code: 'invalid-percent-encoding', message: "'%' at offset 2 is not followed by two hex digits" } });
  });

  test('escaped bytes that are not UTF-8 are an error', () => {
    expect(decodeErrorCode('%C3')).toBe('invalid-utf8');
    expect(decodeErrorCode('%FF')).toBe('invalid-utf8');
    expect(decodeErrorCode('%ED%A0%80')).toBe('invalid-utf8'); // an encoded surrogate
    expect(decodeErrorCode('%C0%AF')).toBe('invalid-utf8'); // overlong '/'
  });
});
