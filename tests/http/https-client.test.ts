// The HTTP/1.1 range client (src/http/https-client.ts) byte for byte over a scripted transport: the request it
// writes, what it accepts as a range answer, and the typed error (with the failure-policy cause) for everything
// else. No network: the test plays the server.
import { describe, expect, test } from '@jest/globals';
import { ScriptedTransportFactory } from '../../hosts/virtual/scripted-transport';
import { VirtualClock } from '../../hosts/virtual/virtual-clock';
import { HttpsClient, type HttpError } from '../../src/http/https-client';
import type { Result } from '../../src/result';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function setup(options: { maxHeadBytes?: number } = {}) {
  const net = new ScriptedTransportFactory();
  const clock = new VirtualClock(0);
  const client = new HttpsClient({ transport: net, timers: clock, trustedCAs: [Uint8Array.of(0x30, 0)], idleTimeoutMs: 5000, ...options });
  const body: number[] = [];
  const results: Array<Result<number, HttpError>> = [];
  const get = (start: number, end: number, host = 'fw.example.com', port = 443) =>
    client.getRange({ host, port, path: '/fw/1.bin', start, end }, { body: (c) => void body.push(...c), done: (r) => void results.push(r) });
  return { net, clock, client, body, results, get };
}

const head = (lines: string[]): Uint8Array => text(`${lines.join('\r\n')}\r\n\r\n`);
const range206 = (start: number, end: number, total: number) =>
  head(['HTTP/1.1 206 Partial Content', `Content-Range: bytes ${start}-${end}/${total}`, `Content-Length: ${end - start + 1}`]);

describe('the request', () => {
  test('one GET with Range over TLS to the host, with the trust list; Host carries a port other than 443', () => {
    const { net, get } = setup();
    get(100, 200, 'fw.example.com', 8443);
    expect(net.last.options).toMatchObject({ host: 'fw.example.com', port: 8443, trustedCAs: [Uint8Array.of(0x30, 0)] });
    net.last.open();
    expect(new TextDecoder().decode(net.last.written[0])).toBe(
      'GET /fw/1.bin HTTP/1.1\r\nHost: fw.example.com:8443\r\nRange: bytes=100-199\r\nUser-Agent: azure-iot-xs\r\nConnection: keep-alive\r\n\r\n',
    );
  });
});

describe('a range answer', () => {
  test('head split anywhere, body streamed in order; the connection is kept for the next range', () => {
    const { net, get, body, results } = setup();
    get(0, 4);
    net.last.open();
    const all = new Uint8Array([...range206(0, 3, 10), 1, 2, 3, 4]);
    for (let i = 0; i < all.length; i += 7) net.last.push(all.subarray(i, i + 7));
    expect(body).toEqual([1, 2, 3, 4]);
    expect(results).toEqual([{ ok: true, value: 10 }]);
    get(4, 6);
    expect(net.connections).toHaveLength(1);
    expect(new TextDecoder().decode(net.last.written[1])).toContain('Range: bytes=4-5');
  });

  test('Connection: close ends the connection after the body; the next range opens a new one', () => {
    const { net, get, results } = setup();
    get(0, 2);
    net.last.open();
    net.last.push(new Uint8Array([...head(['HTTP/1.1 206 Partial Content', 'Content-Range: bytes 0-1/2', 'Content-Length: 2', 'Connection: close']), 9, 9]));
    expect(results).toEqual([{ ok: true, value: 2 }]);
    expect(net.last.closed).toBe(true);
    get(0, 2);
    expect(net.connections).toHaveLength(2);
  });
});

describe('refused answers, each typed with its failure-policy cause', () => {
  const cases: Array<[string, Uint8Array, Partial<HttpError>]> = [
    ['404', head(['HTTP/1.1 404 Not Found', 'Content-Length: 0']), { code: 'status', cause: 'status-404', status: 404 }],
    ['503', head(['HTTP/1.1 503 Busy', 'Content-Length: 0']), { code: 'status', cause: 'status-5xx', status: 503 }],
    ['429', head(['HTTP/1.1 429 Slow Down', 'Content-Length: 0']), { code: 'status', cause: 'status-429', status: 429 }],
    ['a redirect (even to https)', head(['HTTP/1.1 302 Found', 'Location: http://evil.example/x']), { code: 'redirect', cause: 'http-redirect', status: 302 }],
    ['200: the server ignored Range', head(['HTTP/1.1 200 OK', 'Content-Length: 10']), { code: 'status', cause: 'http-bad-response', status: 200 }],
    ['416: the file ends before the range', head(['HTTP/1.1 416 Range Not Satisfiable', 'Content-Range: bytes */3']), { code: 'short-file', cause: 'http-short-file' }],
    ['a range that starts elsewhere', range206(1, 4, 10), { code: 'bad-response', cause: 'http-bad-response' }],
    ['a shorter range at the end of the file', range206(0, 2, 3), { code: 'short-file', cause: 'http-short-file' }],
    ['chunked transfer coding', head(['HTTP/1.1 206 Partial Content', 'Transfer-Encoding: chunked', 'Content-Range: bytes 0-3/10']), { code: 'bad-response', cause: 'http-bad-response' }],
    ['a Content-Length other than the range', head(['HTTP/1.1 206 Partial Content', 'Content-Range: bytes 0-3/10', 'Content-Length: 5']), { code: 'bad-response', cause: 'http-bad-response' }],
    ['no status line', text('SSH-2.0-OpenSSH\r\n\r\n'), { code: 'bad-response', cause: 'protocol' }],
  ];
  test.each(cases)('%s', (_name, answer, error) => {
    const { net, get, results, body } = setup();
    get(0, 4);
    net.last.open();
    net.last.push(answer);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, error });
    expect(body).toEqual([]);
    expect(net.last.closed).toBe(true);
  });

  test('a head over the budget is refused before more of it is kept', () => {
    const { net, get, results } = setup({ maxHeadBytes: 64 });
    get(0, 4);
    net.last.open();
    net.last.push(text(`HTTP/1.1 206 Partial Content\r\nX-Padding: ${'a'.repeat(100)}`));
    expect(results).toEqual([{ ok: false, error: { code: 'bad-response', cause: 'protocol', message: 'http: response head is over 64 bytes' } }]);
  });

  test('more body bytes than Content-Length', () => {
    const { net, get, results } = setup();
    get(0, 2);
    net.last.open();
    net.last.push(new Uint8Array([...range206(0, 1, 5), 1, 2, 3]));
    expect(results[0]).toMatchObject({ ok: false, error: { code: 'bad-response', message: 'http: more body bytes than Content-Length' } });
  });
});

describe('the connection failing', () => {
  test('closed inside the body: short-read, retried by the policy', () => {
    const { net, get, results, body } = setup();
    get(0, 4);
    net.last.open();
    net.last.push(new Uint8Array([...range206(0, 3, 4), 1, 2]));
    net.last.peerClose();
    expect(body).toEqual([1, 2]);
    expect(results).toEqual([{ ok: false, error: { code: 'short-read', cause: 'http-short-read', message: 'http: connection ended with 2 body bytes to come' } }]);
  });

  test('a certificate the trust list refuses: tls with the tls-verify cause', () => {
    const { net, get, results } = setup();
    get(0, 4);
    net.last.fail({ code: 'tls-verify', message: 'certificate not trusted' });
    expect(results[0]).toMatchObject({ ok: false, error: { code: 'tls', cause: 'tls-verify' } });
  });

  test('silence past the idle timeout drops the connection as a network failure', () => {
    const { net, get, results, clock } = setup();
    get(0, 4);
    net.last.open();
    clock.advance(5000);
    expect(results).toEqual([{ ok: false, error: { code: 'network', cause: 'network', message: 'http: no answer within the idle timeout' } }]);
    expect(net.last.closed).toBe(true);
  });
});
