// The WebSocket transport over a scripted TLS transport: the opening handshake of RFC 6455 section 4 (with the
// section 1.3 key/accept example and SHA-1's FIPS vectors behind it), then frames both ways, ping/pong, closes
// from either side, and failures, byte for byte.
import { createHash } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { fromHex, toHex } from '../../hosts/virtual/hex';
import { ScriptedTransportFactory } from '../../hosts/virtual/scripted-transport';
import { sha1 } from '../../src/crypto/sha1';
import { acceptFor, checkUpgradeAnswer } from '../../src/ws/ws-handshake';
import { webSocketTransport } from '../../src/ws/ws-transport';
import { recordTransport } from '../helpers/transport-recorder';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const ascii = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('SHA-1 (FIPS 180-4 vectors; only used for Sec-WebSocket-Accept)', () => {
  test.each([
    ['', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '84983e441c3bd26ebaae4aa1f95129e5e54670f1'],
  ])('sha1(%j)', (input, digest) => {
    expect(toHex(sha1(text(input)))).toBe(digest);
  });

  test('agrees with node:crypto at every length around the block edges', () => {
    for (let n = 0; n < 200; n++) {
      const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(toHex(sha1(data))).toBe(createHash('sha1').update(data).digest('hex'));
    }
  });
});

describe('the opening handshake (RFC 6455 section 4)', () => {
  test("RFC 6455 section 1.3: key dGhlIHNhbXBsZSBub25jZQ== is answered by s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", () => {
    expect(acceptFor('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
  const good = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n';
  test('a correct 101 answer passes; header names and the Upgrade value in any case', () => {
    expect(checkUpgradeAnswer(text(good), KEY, 'mqtt').ok).toBe(true);
    expect(checkUpgradeAnswer(text(good.replace('Upgrade: websocket', 'UPGRADE: WebSocket')), KEY, 'mqtt').ok).toBe(true);
  });
  test.each([
    ['HTTP/1.1 401 Unauthorized\r\n\r\n', 'upgrade refused: HTTP 401'],
    ['SSH-2.0\r\n\r\n', 'upgrade answer is not HTTP/1.1'],
    [good.replace('Upgrade: websocket', 'Upgrade: h2c'), 'upgrade answer: Upgrade is not websocket'],
    [good.replace('Connection: Upgrade', 'Connection: close'), 'upgrade answer: Connection lacks upgrade'],
    [good.replace('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 's3pPLMBiTxaQ9kYGzzhZRbK+xOA='), 'upgrade answer: Sec-WebSocket-Accept does not match the key'],
    [good.replace('Sec-WebSocket-Protocol: mqtt\r\n', ''), 'upgrade answer: Sec-WebSocket-Protocol is not mqtt'],
    [good.replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n'), 'upgrade answer: Sec-WebSocket-Extensions that were not offered'],
  ])('refused: %j', (answer, message) => {
    expect(checkUpgradeAnswer(text(answer), KEY, 'mqtt')).toEqual({ ok: false, error: message });
  });
});

/** Random bytes from a counter: the key is 000102..0f, every mask 37fa213d (the RFC's). */
function fixedRandom(): (n: number) => Uint8Array {
  let calls = 0;
  return (n) => (calls++ === 0 ? new Uint8Array(n).map((_, i) => i) : fromHex('37fa213d').subarray(0, n));
}
const KEY_0F = 'AAECAwQFBgcICQoLDA0ODw==';

function setup(options: { port?: number; maxFrameBytes?: number } = {}) {
  const tls = new ScriptedTransportFactory();
  const ws = webSocketTransport(tls, fixedRandom(), options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes });
  const rec = recordTransport();
  const transport = ws.connect({ host: '127.0.0.1', port: options.port ?? 443, serverName: 'hub.azure-devices.net', trustedCAs: [] }, rec.events);
  const conn = tls.last;
  const answer = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(KEY_0F)}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`;
  const open = (): void => {
    conn.open();
    conn.takeHex();
    conn.push(text(answer));
  };
  return { tls, conn, rec, transport, open, answer };
}

describe('the WebSocket transport over TLS', () => {
  test('TLS up: the GET asks for /$iothub/websocket, subprotocol mqtt, with a fresh key; Host is the server name', () => {
    const { conn, rec } = setup();
    expect(conn.options.port).toBe(443);
    conn.open();
    expect(ascii(conn.written[0]!)).toBe(
      'GET /$iothub/websocket HTTP/1.1\r\nHost: hub.azure-devices.net\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY_0F}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`,
    );
    // The MQTT session hears nothing until the server agreed to the upgrade.
    expect(rec.kinds()).toEqual([]);
  });

  test('a port other than 443 goes in the Host header', () => {
    const { conn } = setup({ port: 8443 });
    conn.open();
    expect(ascii(conn.written[0]!)).toContain('Host: hub.azure-devices.net:8443\r\n');
  });

  test('the 101 answer in pieces, with the first frame in the same chunk: connect, then the frame bytes', () => {
    const { conn, rec, answer } = setup();
    conn.open();
    const bytes = new Uint8Array([...text(answer), ...fromHex('820420020000')]);
    conn.push(bytes.subarray(0, 10));
    conn.push(bytes.subarray(10, 60));
    expect(rec.kinds()).toEqual([]);
    conn.push(bytes.subarray(60));
    expect(rec.kinds()).toEqual(['connect', 'data']);
    expect(rec.log[1]).toEqual({ kind: 'data', bytes: fromHex('20020000') });
  });

  test('each write is one masked binary frame (the MQTT bytes XOR the mask)', () => {
    const { conn, transport, open } = setup();
    open();
    expect(transport.write(fromHex('c000'))).toBe(true);
    expect(conn.takeHex()).toEqual(['828237fa213df7fa']);
  });

  test('a Ping is answered with a Pong carrying the same bytes; the session hears nothing', () => {
    const { conn, rec, open } = setup();
    open();
    conn.push('890548656c6c6f');
    expect(conn.takeHex()).toEqual(['8a8537fa213d7f9f4d5158']);
    expect(rec.kinds()).toEqual(['connect']);
  });

  test('close(): a Close 1000 frame, then the TLS connection ends; onClose is local', () => {
    const { conn, rec, transport, open } = setup();
    open();
    transport.close();
    transport.close();
    expect(conn.takeHex()).toEqual(['888237fa213d3412']);
    expect(conn.closed).toBe(true);
    expect(rec.log.at(-1)).toEqual({ kind: 'close', reason: { by: 'local', message: 'closed by the client' } });
  });

  test('a Close from the server is answered with its code and reported as the peer closing', () => {
    const { conn, rec, open } = setup();
    open();
    conn.push('880203e9');
    expect(conn.takeHex()).toEqual(['888237fa213d3413']);
    expect(rec.log.at(-1)).toEqual({ kind: 'close', reason: { by: 'peer', message: 'websocket closed by the server (code 1001)' } });
  });

  test('a frame over the limit: Close 1009, an error naming the size, and not one payload byte passed on', () => {
    const { conn, rec, open } = setup({ maxFrameBytes: 1024 });
    open();
    conn.push('827e0401');
    // Close 1009 (03f1) masked with 37fa: 34 0b.
    expect(conn.takeHex()).toEqual(['888237fa213d340b']);
    expect(rec.log.slice(1)).toEqual([
      { kind: 'error', error: { code: 'other', message: 'websocket: frame of 1025 bytes is over the 1024-byte limit' } },
      { kind: 'close', reason: { by: 'error', code: 'other', message: 'websocket: frame of 1025 bytes is over the 1024-byte limit' } },
    ]);
  });

  test('a refused upgrade is an error naming the HTTP status; no Close frame (there is no WebSocket yet)', () => {
    const { conn, rec } = setup();
    conn.open();
    conn.takeHex();
    conn.push(text('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    expect(conn.takeHex()).toEqual([]);
    expect(rec.log).toEqual([
      { kind: 'error', error: { code: 'other', message: 'websocket: upgrade refused: HTTP 404' } },
      { kind: 'close', reason: { by: 'error', code: 'other', message: 'websocket: upgrade refused: HTTP 404' } },
    ]);
  });

  test('an upgrade answer that never ends is refused at 2048 bytes, not buffered further', () => {
    const { conn, rec } = setup();
    conn.open();
    conn.push(new Uint8Array(3000).fill(0x41));
    expect(rec.log[0]).toEqual({ kind: 'error', error: { code: 'other', message: 'websocket: upgrade answer over 2048 bytes' } });
  });

  test('TLS failures pass through unchanged; writes before the upgrade are refused', () => {
    const { conn, rec, transport } = setup();
    expect(transport.write(fromHex('00'))).toBe(false);
    conn.fail({ code: 'refused', message: 'connection refused' });
    expect(rec.log).toEqual([
      { kind: 'error', error: { code: 'refused', message: 'connection refused' } },
      { kind: 'close', reason: { by: 'error', code: 'refused', message: 'connection refused' } },
    ]);
  });

  test('onWritable passes through once open', () => {
    const { conn, rec, open } = setup();
    open();
    conn.drain();
    expect(rec.kinds()).toEqual(['connect', 'writable']);
  });
});

describe('a TLS transport that reports itself up inside connect()', () => {
  test('the upgrade request still goes out, once', () => {
    const written: string[] = [];
    const eager = {
      connect: (_options: unknown, events: { onConnect(): void }) => {
        events.onConnect();
        return { write: (bytes: Uint8Array) => void written.push(ascii(bytes).split('\r\n')[0]!) !== undefined, close: () => {} };
      },
    };
    webSocketTransport(eager as never, fixedRandom()).connect({ host: 'h', port: 443, trustedCAs: [] }, recordTransport().events);
    expect(written).toEqual(['GET /$iothub/websocket HTTP/1.1']);
  });
});
