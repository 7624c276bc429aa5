// The DPS client on the virtual host: exact bytes of CONNECT, SUBSCRIBE, register and poll, retry-after handling,
// and the promise settling only after the DPS connection is closed.
import { DpsError } from '../../src/dps/dps-errors';
import {
  DISCONNECT_HEX,
  KEY,
  assignedBody,
  assigningBody,
  connectHex,
  expectedSas,
  pollHex,
  registerHex,
  setupDps,
  subscribeHex,
} from './dps-fixture';

describe('register then poll until assigned', () => {
  test('CONNECT, SUBSCRIBE, register and poll are byte-exact; the result comes from the final answer', async () => {
    const fx = setupDps();
    const result = fx.register();
    await Promise.resolve();
    expect(fx.transport.connections).toHaveLength(1);
    expect(fx.link.options).toMatchObject({ host: 'global.azure-devices-provisioning.net', port: 8883 });
    const written = await fx.acceptAndSubscribe();
    expect(written).toEqual([connectHex('dev-1', expectedSas('dev-1', KEY)), subscribeHex(1), registerHex(1, 2)]);

    fx.puback(2);
    await fx.answer('$dps/registrations/res/202/?$rid=1&retry-after=2', assigningBody('op-1'));
    await fx.advance(1999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.advance(1);
    expect(fx.link.takeHex()).toEqual([pollHex(2, 'op-1', 3)]);

    fx.puback(3);
    await fx.answer('$dps/registrations/res/200/?$rid=2', assignedBody('op-1', { deviceId: 'boiler-7', payload: { site: 'B' } }));
    expect(fx.link.takeHex()).toEqual([DISCONNECT_HEX]);
    expect(result).toEqual({
      status: 'resolved',
      value: { assignedHub: 'hub-1.azure-devices.net', deviceId: 'boiler-7', registrationId: 'dev-1', substatus: 'initialAssignment', payload: { site: 'B' } },
    });
    expect(fx.order).toEqual(['transport #0 closed by local', 'settled']);
    expect(fx.client.state).toBe('done');
    expect(fx.clock.pendingCount).toBe(0);
  });

  test('an answer to the register request itself can be final', async () => {
    const fx = setupDps();
    const result = fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/200/?$rid=1', assignedBody(), 1, 7);
    // The QoS 1 answer is acknowledged before DISCONNECT.
    expect(fx.link.takeHex()).toEqual(['40020007', DISCONNECT_HEX]);
    expect(result.status).toBe('resolved');
  });

  test('a custom payload travels in the register body', async () => {
    const fx = setupDps();
    fx.register({ payload: { modelId: 'dtmi:com:example:Thermostat;1', n: 1 } });
    const written = await fx.acceptAndSubscribe();
    expect(written[2]).toBe(registerHex(1, 2, '{"registrationId":"dev-1","payload":{"modelId":"dtmi:com:example:Thermostat;1","n":1}}'));
  });

  test('a model id travels as payload.modelId (what IoT Central assigns the device template by)', async () => {
    const fx = setupDps();
    fx.register({ modelId: 'dtmi:com:example:Thermostat;1' });
    const written = await fx.acceptAndSubscribe();
    expect(written[2]).toBe(registerHex(1, 2, '{"registrationId":"dev-1","payload":{"modelId":"dtmi:com:example:Thermostat;1"}}'));
  });

  test('host:port endpoint, ClientVersion and limits reach the transport and CONNECT', async () => {
    const fx = setupDps();
    fx.register({ endpoint: '127.0.0.1:18884', clientVersion: 'xs/0.1', serverName: 'localhost', limits: { keepAliveSeconds: 30 } });
    await Promise.resolve();
    expect(fx.link.options).toMatchObject({ host: '127.0.0.1', port: 18884, serverName: 'localhost' });
    const [connect] = await fx.acceptAndSubscribe();
    expect(connect).toBe(connectHex('dev-1', expectedSas('dev-1', KEY), 30, '&ClientVersion=xs%2F0.1'));
  });

  test('the state moves connecting -> subscribing -> registering -> waiting -> polling -> closing -> done', async () => {
    const fx = setupDps();
    const states: string[] = [];
    fx.client.on('state', ({ state }) => states.push(state));
    fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/202/?$rid=1&retry-after=1', assigningBody());
    await fx.advance(1000);
    await fx.answer('$dps/registrations/res/200/?$rid=2', assignedBody());
    expect(states).toEqual(['connecting', 'subscribing', 'registering', 'waiting', 'polling', 'closing', 'done']);
  });
});

describe('retry-after', () => {
  test.each([
    ['after $rid', '$dps/registrations/res/202/?$rid=1&retry-after=5'],
    ['before $rid', '$dps/registrations/res/202/?retry-after=5&$rid=1'],
  ])('is honoured in seconds when it comes %s', async (_where, topic) => {
    const fx = setupDps();
    fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer(topic, assigningBody('op-9'));
    await fx.advance(4999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.advance(1);
    expect(fx.link.takeHex()).toEqual([pollHex(2, 'op-9', 3)]);
  });

  test('without retry-after the poll waits the 3 s fallback', async () => {
    const fx = setupDps();
    fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/202/?$rid=1', assigningBody());
    await fx.advance(2999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.advance(1);
    expect(fx.link.takeHex()).toEqual([pollHex(2, 'op-1', 3)]);
  });

  test('the fallback is configurable, and retry-after=0 polls at once', async () => {
    const fx = setupDps();
    fx.register({ limits: { pollFallbackMs: 500 } });
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/202/?$rid=1', assigningBody());
    await fx.advance(500);
    expect(fx.link.takeHex()).toEqual([pollHex(2, 'op-1', 3)]);
    await fx.answer('$dps/registrations/res/202/?$rid=2&retry-after=0', assigningBody());
    await fx.advance(0);
    expect(fx.link.takeHex()).toEqual([pollHex(3, 'op-1', 4)]);
  });
});

describe('throttling and server errors are retried', () => {
  test('429 on register with retry-after, then success: a second register with a new $rid', async () => {
    const fx = setupDps();
    const result = fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/429/?$rid=1&retry-after=2', '{"errorCode":429001,"trackingId":"t-1","message":"throttled"}');
    await fx.advance(1999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.advance(1);
    expect(fx.link.takeHex()).toEqual([registerHex(2, 3)]);
    await fx.answer('$dps/registrations/res/200/?$rid=2', assignedBody());
    expect(result.status).toBe('resolved');
    expect(fx.logs).toContain('info dps: DPS answered 429; next register in 2 s');
  });

  test('503 on a poll re-polls the same operation; without retry-after after the 10 s retry fallback', async () => {
    const fx = setupDps();
    fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/202/?$rid=1&retry-after=1', assigningBody('op-5'));
    await fx.advance(1000);
    expect(fx.link.takeHex()).toEqual([pollHex(2, 'op-5', 3)]);
    await fx.answer('$dps/registrations/res/503/?$rid=2', '');
    await fx.advance(9999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.advance(1);
    expect(fx.link.takeHex()).toEqual([pollHex(3, 'op-5', 4)]);
  });
});

describe('answers that are not for the request waiting', () => {
  test('an answer with another $rid is ignored; a message on a foreign topic is logged and ignored', async () => {
    const fx = setupDps();
    const result = fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/200/?$rid=99', assignedBody());
    await fx.answer('$dps/registrations/other', '{}');
    expect(result.status).toBe('pending');
    expect(fx.link.takeHex()).toEqual([]);
    expect(fx.logs).toContain('debug dps: ignoring an answer for $rid=99, which is not the request waiting');
    await fx.answer('$dps/registrations/res/200/?$rid=1', assignedBody());
    expect(result.status).toBe('resolved');
  });
});

describe('the DPS connection is closed before the promise settles', () => {
  test('resolution waits for the transport to report closed, however long that takes', async () => {
    const fx = setupDps();
    // Hold the transport's close until the test releases it, as a TLS socket flushing close_notify would.
    const held: Array<() => void> = [];
    const connect = fx.transport.connect.bind(fx.transport);
    fx.transport.connect = (opts, events) => {
      const inner = connect(opts, events);
      return { write: (b) => inner.write(b), close: () => void held.push(() => inner.close()) };
    };
    const result = fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/200/?$rid=1', assignedBody());
    expect(fx.link.takeHex()).toEqual([DISCONNECT_HEX]);
    expect(held).toHaveLength(1);
    await fx.advance(1000);
    expect(result.status).toBe('pending');
    expect(fx.client.state).toBe('closing');
    held[0]!();
    await fx.advance(0);
    expect(result.status).toBe('resolved');
    expect(fx.order).toEqual(['transport #0 closed by local', 'settled']);
  });

  test('a transport that never reports closing delays the outcome by closeTimeoutMs only', async () => {
    const fx = setupDps();
    const connect = fx.transport.connect.bind(fx.transport);
    fx.transport.connect = (opts, events) => {
      const inner = connect(opts, events);
      return { write: (b) => inner.write(b), close: () => {} };
    };
    const result = fx.register({ limits: { closeTimeoutMs: 2000 } });
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/200/?$rid=1', assignedBody());
    await fx.advance(1999);
    expect(result.status).toBe('pending');
    await fx.advance(1);
    expect(result.status).toBe('resolved');
    expect(fx.logs).toContain('warn dps: the transport did not report closing within 2000 ms; going on');
  });

  test('a failure is also reported only after the close', async () => {
    const fx = setupDps();
    const result = fx.register();
    await fx.acceptAndSubscribe();
    await fx.answer('$dps/registrations/res/401/?$rid=1', '{"errorCode":401002,"message":"not authorized"}');
    expect(fx.link.takeHex()).toEqual([DISCONNECT_HEX]);
    expect(fx.order).toEqual(['transport #0 closed by local', 'settled']);
    expect(result.error).toBeInstanceOf(DpsError);
  });
});
