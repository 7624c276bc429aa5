import { MqttSession } from '../../src/mqtt/session';
import { MqttConnectError, MqttSessionError } from '../../src/mqtt/session-errors';
import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import { CONNACK_OK, CONNACK_SESSION_PRESENT, CONNECT_DEFAULT, DEFAULT_CONNECT, ascii, errorCode, received, settle, setup, track } from './session-fixture';

describe('CONNECT bytes', () => {
  it('sends CONNECT only once the transport is open, with the default options', async () => {
    const fx = setup();
    const done = track(fx.session.connect(DEFAULT_CONNECT));
    expect(fx.session.state).toBe('connecting');
    expect(fx.transport.connections).toHaveLength(1);
    expect(fx.link.options).toBe(DEFAULT_CONNECT.tls);
    expect(fx.link.writtenHex()).toEqual([]);
    fx.link.open();
    expect(fx.session.state).toBe('awaiting-connack');
    expect(fx.link.writtenHex()).toEqual([CONNECT_DEFAULT]);
    fx.link.push(CONNACK_OK);
    await settle();
    expect(done).toEqual({ status: 'resolved', value: { sessionPresent: false } });
    expect(fx.events).toEqual(['state:connecting', 'state:awaiting-connack', 'state:connected', 'connected:false']);
  });

  it('encodes username, password, will, keepAlive and clean session', () => {
    const fx = setup();
    void fx.session.connect({
      ...DEFAULT_CONNECT,
      cleanSession: true,
      keepAlive: 30,
      username: 'hub/dev1',
      password: ascii('sas'),
      will: { topic: 'w', payload: ascii('x'), qos: 1, retain: false },
    });
    fx.link.open();
    expect(fx.link.writtenHex()).toEqual([
      '102500044d51545404ce001e00046465763100017700017800086875622f646576310003736173',
    ]);
  });

  it('reports session present from the CONNACK', async () => {
    const fx = setup();
    const done = fx.session.connect(DEFAULT_CONNECT);
    fx.link.open();
    fx.link.push(CONNACK_SESSION_PRESENT);
    await expect(done).resolves.toEqual({ sessionPresent: true });
    expect(fx.events).toContain('connected:true');
  });

  it('rejects CONNECT options the codec refuses without opening a transport', async () => {
    const fx = setup();
    await expect(fx.session.connect({ ...DEFAULT_CONNECT, keepAlive: 70000 })).rejects.toBeInstanceOf(MqttProtocolError);
    expect(fx.transport.connections).toHaveLength(0);
    expect(fx.session.state).toBe('idle');
  });

  it('refuses connect() while a connection is under way', async () => {
    const fx = setup();
    void fx.session.connect(DEFAULT_CONNECT);
    const second = track(fx.session.connect(DEFAULT_CONNECT));
    await settle();
    expect(second.status).toBe('rejected');
    expect(second.error).toBeInstanceOf(MqttSessionError);
    expect(errorCode(second)).toBe('invalid-state');
    expect(fx.transport.connections).toHaveLength(1);
  });
});

describe('CONNACK timeout', () => {
  it('closes with connack-timeout exactly connectTimeoutMs after connect()', async () => {
    const fx = setup();
    const done = track(fx.session.connect({ ...DEFAULT_CONNECT, connectTimeoutMs: 5000 }));
    fx.link.open();
    fx.clock.advance(4999);
    await settle();
    expect(done.status).toBe('pending');
    fx.clock.advance(1);
    await settle();
    expect(done.status).toBe('rejected');
    expect(done.error).toBeInstanceOf(MqttConnectError);
    expect((done.error as MqttConnectError).reason.code).toBe('connack-timeout');
    expect((done.error as MqttConnectError).returnCode).toBeUndefined();
    expect(fx.link.closeReason?.by).toBe('local');
    expect(fx.session.state).toBe('closed');
    expect(fx.events.slice(-2)).toEqual(['state:closed', 'close:connack-timeout']);
  });

  it('closes with connect-timeout when the transport never opens', async () => {
    const fx = setup();
    const done = track(fx.session.connect(DEFAULT_CONNECT));
    fx.clock.advance(30000);
    await settle();
    expect((done.error as MqttConnectError).reason.code).toBe('connect-timeout');
    expect(fx.link.closed).toBe(true);
    expect(fx.link.writtenHex()).toEqual([]);
  });
});

describe('CONNACK refused', () => {
  it.each([
    [1, 'unacceptable protocol version'],
    [2, 'identifier rejected'],
    [3, 'server unavailable'],
    [4, 'bad user name or password'],
    [5, 'not authorized'],
  ])('return code %i rejects with MqttConnectError and closes the transport', async (code, meaning) => {
    const fx = setup();
    const done = track(fx.session.connect(DEFAULT_CONNECT));
    fx.link.open();
    fx.link.push(`2002000${code}`);
    await settle();
    expect(done.error).toBeInstanceOf(MqttConnectError);
    const error = done.error as MqttConnectError;
    expect(error.returnCode).toBe(code);
    expect(error.reason.code).toBe('connack-refused');
    expect(error.message).toContain(meaning);
    expect(fx.link.closed).toBe(true);
    expect(fx.session.state).toBe('closed');
    expect(fx.closes).toEqual([expect.objectContaining({ code: 'connack-refused', returnCode: code })]);
  });
});

describe('connect failures before CONNACK', () => {
  it('a transport error rejects connect() with the transport error attached', async () => {
    const fx = setup();
    const done = track(fx.session.connect(DEFAULT_CONNECT));
    fx.link.fail({ code: 'tls-verify', message: 'certificate not trusted' });
    await settle();
    const error = done.error as MqttConnectError;
    expect(error.reason).toEqual({
      code: 'transport-error',
      message: 'transport failed (tls-verify): certificate not trusted',
      transportError: { code: 'tls-verify', message: 'certificate not trusted' },
    });
    expect(fx.clock.pendingCount).toBe(0);
  });

  it('a packet other than CONNACK first is a protocol error', async () => {
    const fx = setup();
    const done = track(fx.session.connect(DEFAULT_CONNECT));
    fx.link.open();
    fx.link.push('d000');
    await settle();
    expect((done.error as MqttConnectError).reason.code).toBe('protocol-error');
  });

  it('a factory that throws rejects connect() instead of throwing', async () => {
    const fx = setup();
    const session = new MqttSession({
      transport: {
        connect() {
          throw new Error('no sockets left');
        },
      },
      timers: fx.clock,
    });
    await expect(session.connect(DEFAULT_CONNECT)).rejects.toMatchObject({ reason: { code: 'transport-error' } });
    expect(session.state).toBe('closed');
  });
});

describe('connecting again with the same session', () => {
  it('opens a fresh transport after a close and ignores the old one', async () => {
    const fx = setup();
    void fx.session.connect(DEFAULT_CONNECT).catch(() => {});
    fx.link.open();
    fx.link.push(CONNACK_OK);
    await received();
    const first = fx.link;
    first.peerClose();
    expect(fx.session.state).toBe('closed');
    const again = track(fx.session.connect(DEFAULT_CONNECT));
    expect(fx.transport.connections).toHaveLength(2);
    first.push(CONNACK_OK); // late bytes on the dead link change nothing
    fx.link.open();
    fx.link.push(CONNACK_SESSION_PRESENT);
    await settle();
    expect(again).toEqual({ status: 'resolved', value: { sessionPresent: true } });
    expect(fx.closes.map((r) => r.code)).toEqual(['peer-closed']);
  });
});
