// The explorer's routes on the control server, without a browser: what goes out without the token (only the
// static page and script, with a strict content policy), and that the event stream and every action need it.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { request } from 'node:http';
import { TOKEN_HEADER } from '../../emulator/src/control/control-server';
import { startExplorerBed, type ExplorerBed } from './bed';

let bed: ExplorerBed;
let base: string;

beforeAll(async () => {
  bed = await startExplorerBed();
  base = `http://127.0.0.1:${bed.control.port}`;
  bed.emulator.addDevice('d1');
});

afterAll(async () => {
  await bed.stop();
});

/** Reads the first `bytes` of an answer, then lets it go (the event stream never ends by itself). */
function peek(path: string, headers: Record<string, string>, bytes = 1): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.length >= bytes) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
}

describe('the explorer page: served without the token, holding no state', () => {
  test('the URL carries the token in the fragment only, which browsers never send', () => {
    expect(bed.url).toBe(`${base}/explorer#token=${bed.control.token}`);
  });

  test('GET /explorer is the shell, with a content policy that allows only its own script and this server', async () => {
    const res = await fetch(`${base}/explorer`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).toContain('<script src="/explorer/app.js"></script>');
    expect(html).not.toContain(bed.control.token);
    expect(html).not.toContain('d1');
  });

  test('GET /explorer/app.js is the one bundled script (preact and uPlot inside, nothing fetched from elsewhere)', async () => {
    const res = await fetch(`${base}/explorer/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const script = await res.text();
    expect(script).toContain('.uplot');
    expect(script).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    expect(script).not.toContain(bed.control.token);
  });

  test('a control server started without the page answers 404 there', async () => {
    const { startControlServer } = await import('../../emulator/src/control/control-server');
    const plain = await startControlServer(bed.emulator);
    try {
      expect(plain.explorerUrl).toBeUndefined();
      const res = await fetch(`http://127.0.0.1:${plain.port}/explorer`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'this control server does not serve the explorer page' });
    } finally {
      await plain.close();
    }
  });
});

describe('the event stream and the actions need the control token', () => {
  test('GET /explorer/events without the token, or with a wrong one, is 401', async () => {
    const attempts: Array<Record<string, string>> = [{}, { [TOKEN_HEADER]: 'x'.repeat(48) }];
    for (const headers of attempts) {
      const res = await peek('/explorer/events', headers);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text)).toEqual({ error: 'missing or wrong control token' });
    }
  });

  test('the token in a query string or a cookie is not taken', async () => {
    const viaQuery = await peek(`/explorer/events?token=${bed.control.token}`, {});
    expect(viaQuery.status).toBe(401);
    const viaCookie = await peek('/explorer/events', { cookie: `token=${bed.control.token}; ${TOKEN_HEADER}=${bed.control.token}` });
    expect(viaCookie.status).toBe(401);
  });

  test('with the token: text/event-stream, and the first event is the snapshot (devices without keys)', async () => {
    const res = await peek('/explorer/events', { [TOKEN_HEADER]: bed.control.token }, 200);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.text.startsWith('event: snapshot\ndata: {')).toBe(true);
    expect(res.text).toContain('"deviceId":"d1","status":"enabled","authType":"sas","connected":false');
    const key = bed.emulator.registry.getDevice('d1')!.auth;
    expect(key.type).toBe('sas');
    if (key.type === 'sas') expect(res.text).not.toContain(key.primaryKey);
  });

  test('an action without the token is refused before it is looked at', async () => {
    const res = await fetch(`${base}/devices/d1/c2d`, { method: 'POST', body: JSON.stringify({ body: 'x' }) });
    expect(res.status).toBe(401);
    expect(bed.emulator.isConnected('d1')).toBe(false);
  });
});

describe('what the page sends is validated on the server, each error naming the field', () => {
  const call = async (method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${base}${path}`, { method, headers: { [TOKEN_HEADER]: bed.control.token }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };

  test.each([
    ['PATCH', '/devices/d1/twin', { desiredJson: '{"a":' }, 400, /^desired is not valid JSON: /],
    ['PATCH', '/devices/d1/twin', { desiredJson: '[1]' }, 400, /^desired must be a JSON object$/],
    ['PATCH', '/devices/nope/twin', { desiredJson: '{}' }, 404, /^device nope does not exist$/],
    ['POST', '/devices/d1/methods/getStatus', { payloadJson: '{x}' }, 400, /^payload is not valid JSON: /],
    ['POST', '/devices/d1/methods/getStatus', { timeoutMs: 0 }, 400, /^timeoutMs must be a whole number from 1 to 300000$/],
    ['POST', '/devices/d1/methods/', {}, 400, /^method name is required$/],
    ['POST', '/devices/d1/c2d', { body: 'x', propertiesJson: '{"$.mid":"1"}' }, 400, /^property \$\.mid: names starting with \$ or iothub- are the hub's own$/],
    ['POST', '/devices/d1/c2d', { body: 'x', options: { ttlMs: 1.5 } }, 400, /^ttlMs must be a whole number from 1 to 172800000$/],
    ['POST', '/devices/d1/c2d', { body: 'x', options: { priority: 1 } }, 400, /^unknown C2D option priority$/],
    ['POST', '/faults', { kind: 'withhold-pubacks', target: 'd1', count: -1 }, 400, /^count must be a whole number from 1 to 1000000$/],
    ['POST', '/faults', { kind: 'out-of-order', target: 'd1', hold: 'everything' }, 400, /^hold must be any or one of twin-response, desired-patch, method-request, c2d/],
    ['POST', '/faults', { kind: 'latency', target: 'd1', inboundMs: 'slow' }, 400, /^inboundMs must be a number$/],
    ['POST', '/faults', { kind: 'melt', target: 'd1' }, 400, /^unknown fault kind melt$/],
  ])('%s %s %j -> %i', async (method, path, body, status, message) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(status);
    expect((res.body as { error: string }).error).toMatch(message);
  });

  test('a method on an offline device answers 404 (404103), as the hub does', async () => {
    const res = await call('POST', '/devices/d1/methods/getStatus', { payloadJson: 'null', timeoutMs: 1000 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 404 });
  });
});
