import { createNodeHost, createNodeClock, createNodeCrypto, createNodeLogger, createMemoryStore, createNodeTimers } from '../../hosts/node/index';
import { mapNodeTransportError } from '../../hosts/node/tls-error-map';

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const ascii = (text: string): Uint8Array => new Uint8Array(Array.from(text, (c) => c.charCodeAt(0)));

describe('node crypto', () => {
  const crypto = createNodeCrypto();
  test('HMAC-SHA256 matches RFC 4231 test case 2', () => {
    const mac = crypto.hmacSha256(ascii('Jefe'), ascii('what do ya want for nothing?'));
    expect(hex(mac)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(Object.getPrototypeOf(mac)).toBe(Uint8Array.prototype);
  });
  test('randomBytes gives plain Uint8Arrays of the asked length and refuses bad lengths', () => {
    expect(crypto.randomBytes(0)).toEqual(new Uint8Array(0));
    const a = crypto.randomBytes(32);
    expect(a).toHaveLength(32);
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype);
    expect(hex(a)).not.toBe(hex(crypto.randomBytes(32)));
    expect(() => crypto.randomBytes(-1)).toThrow('randomBytes length must be a non-negative integer, got -1');
  });
});

describe('node wall clock', () => {
  test('can start unset, be set with an offset, and be unset again', () => {
    const clock = createNodeClock({ notSet: true });
    expect(clock.unixMs()).toBeUndefined();
    clock.markSet(-60_000);
    const now = Date.now();
    expect(Math.abs((clock.unixMs() ?? 0) - (now - 60_000))).toBeLessThan(1000);
    clock.markNotSet();
    expect(clock.unixMs()).toBeUndefined();
    expect(Math.abs((createNodeClock().unixMs() ?? 0) - Date.now())).toBeLessThan(1000);
  });
});

describe('node timers', () => {
  test('fire after the delay, can be cancelled, and now() is monotonic milliseconds', async () => {
    const timers = createNodeTimers();
    const start = timers.now();
    const fired: string[] = [];
    const cancelled = timers.setTimeout(() => fired.push('cancelled'), 5);
    timers.clearTimeout(cancelled);
    await new Promise<void>((resolve) => timers.setTimeout(() => (fired.push('kept'), resolve()), 20));
    expect(fired).toEqual(['kept']);
    expect(timers.now() - start).toBeGreaterThanOrEqual(15);
  });
});

describe('node logger', () => {
  test('drops messages below the minimum level and formats the rest on one line', () => {
    const lines: string[] = [];
    const logger = createNodeLogger({ minLevel: 'warn', prefix: 'dev-1', write: (line) => lines.push(line) });
    logger.log('debug', 'a');
    logger.log('info', 'b');
    logger.log('warn', 'c');
    logger.log('error', 'd');
    expect(lines).toEqual(['dev-1 [warn] c', 'dev-1 [error] d']);
  });
  test('defaults to info', () => {
    const lines: string[] = [];
    const logger = createNodeLogger({ write: (line) => lines.push(line) });
    logger.log('debug', 'x');
    logger.log('info', 'y');
    expect(lines).toEqual(['[info] y']);
  });
});

describe('memory store', () => {
  test('keeps copies, so callers cannot change stored values behind its back', () => {
    const store = createMemoryStore({ seeded: new Uint8Array([9]) });
    const value = new Uint8Array([1, 2, 3]);
    store.set('k', value);
    value[0] = 99;
    expect(store.get('k')).toEqual(new Uint8Array([1, 2, 3]));
    store.get('k')![1] = 42;
    expect(store.get('k')).toEqual(new Uint8Array([1, 2, 3]));
    expect(store.keys().sort()).toEqual(['k', 'seeded']);
    store.delete('k');
    store.delete('missing');
    expect(store.get('k')).toBeUndefined();
    expect(store.keys()).toEqual(['seeded']);
  });
});

describe('createNodeHost', () => {
  test('gives every port', () => {
    const host = createNodeHost({ clockNotSet: true, logLevel: 'error', logger: { write: () => {} } });
    expect(Object.keys(host).sort()).toEqual(['clock', 'crypto', 'logger', 'store', 'timers', 'transport']);
    expect(host.clock.unixMs()).toBeUndefined();
    expect(typeof host.transport.connect).toBe('function');
  });
});

describe('node transport errors map to port codes', () => {
  const context = { target: 'hub.example:8883', serverName: 'hub.example', secured: false };
  const map = (code: string, message = 'x', secured = false) =>
    mapNodeTransportError(Object.assign(new Error(message), { code }), { ...context, secured });
  test.each([
    ['ENOTFOUND', 'dns', 'cannot resolve hub.example:8883: name not found'],
    ['EAI_AGAIN', 'dns', 'cannot resolve hub.example:8883: DNS lookup timed out'],
    ['ECONNREFUSED', 'refused', 'connection refused by hub.example:8883'],
    ['ETIMEDOUT', 'timeout', 'connecting to hub.example:8883 timed out'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'tls-verify', 'server certificate not trusted: x'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls-verify', 'server certificate not trusted: x'],
    ['CERT_NOT_YET_VALID', 'tls-verify', 'server certificate not trusted: x'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls-hostname', 'server certificate does not match "hub.example": x'],
    ['ECONNRESET', 'tls-handshake', 'server closed the connection during the TLS handshake: x'],
    ['EWHATEVER', 'other', 'transport failed: x'],
  ])('%s before the handshake -> %s', (code, expected, message) => {
    expect(map(code)).toEqual({ code: expected, message });
  });
  test('ECONNRESET and EPIPE after the handshake -> reset', () => {
    expect(map('ECONNRESET', 'read ECONNRESET', true)).toEqual({ code: 'reset', message: 'connection to hub.example:8883 lost: read ECONNRESET' });
    expect(map('EPIPE', 'write EPIPE', true).code).toBe('reset');
  });
  test('something that is not an Error still gives a message', () => {
    expect(mapNodeTransportError('weird', context)).toEqual({ code: 'other', message: 'transport failed: weird' });
  });
});
