import {
  CONNACK_OK,
  DEVICE,
  DISCONNECT,
  HOST,
  KEY,
  WALL_START_MS,
  acceptConnection,
  connackRefused,
  connectFully,
  connectHex,
  publishHex,
  sasToken,
  settle,
  setupHub,
  subackHex,
  subscribeHex,
  track,
  twinDoc,
} from './hub-fixture';

describe('backoff schedule on repeated failures', () => {
  it('waits 1, 2, 4, 8 s between refused connections and resets after a success', async () => {
    const fx = setupHub();
    const connected = track(fx.client.connect());
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      times.push(fx.clock.now());
      fx.link.fail({ code: 'refused', message: 'connection refused' });
      await settle();
      await fx.clock.advanceSettled(fx.clock.nextDueIn() ?? 0);
    }
    expect(times).toEqual([0, 1000, 3000, 7000]);
    expect(fx.events.filter((e) => e.startsWith('reconnecting'))).toEqual([
      'reconnecting:1:1000',
      'reconnecting:2:2000',
      'reconnecting:3:4000',
      'reconnecting:4:8000',
    ]);
    expect(fx.errors.every((e) => e.code === 'connect-failed' && e.retryable)).toBe(true);
    expect(connected.status).toBe('pending');
    await acceptConnection(fx);
    expect(connected.status).toBe('resolved');
    fx.link.peerClose();
    await settle();
    expect(fx.events.at(-1)).toBe('reconnecting:1:1000');
    await fx.client.close();
  });

  it('subtracts the time a failed attempt took', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    await fx.clock.advanceSettled(600);
    fx.link.fail({ code: 'timeout', message: 'handshake took too long' });
    await settle();
    expect(fx.events.at(-1)).toBe('reconnecting:1:400');
    await fx.client.close();
  });

  it('retries CONNACK 3 (server unavailable)', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    await acceptConnection(fx, connackRefused(3));
    expect(fx.client.state).toBe('waiting');
    await fx.clock.advanceSettled(1000);
    expect(fx.transport.connections).toHaveLength(2);
    await fx.client.close();
  });

  it('uses the jitter source', async () => {
    const fx = setupHub({ random: () => 0.5 });
    track(fx.client.connect());
    fx.link.fail({ code: 'reset', message: 'reset' });
    await settle();
    expect(fx.events.at(-1)).toBe('reconnecting:1:3500');
    await fx.client.close();
  });
});

describe('authentication failures are not retried quickly', () => {
  for (const code of [2, 4, 5]) {
    it(`stops on CONNACK ${code} until the credentials change or the slow retry (stoppedRetryMs) comes`, async () => {
      const fx = setupHub();
      const connected = track(fx.client.connect());
      await acceptConnection(fx, connackRefused(code));
      expect(connected.error).toMatchObject({ code: 'auth-failed', returnCode: code });
      expect(fx.client.state).toBe('stopped');
      // Refusals can clear by themselves (a re-enabled device): one slow timer, 15 minutes by default.
      expect(fx.clock.pendingCount).toBe(1);
      await fx.clock.advanceSettled(899_999);
      expect(fx.transport.connections).toHaveLength(1);

      fx.client.updateCredentials({ kind: 'hub', hostName: HOST, deviceId: DEVICE, credential: { kind: 'sas', key: KEY } });
      expect(fx.transport.connections).toHaveLength(2);
      await acceptConnection(fx);
      expect(fx.client.state).toBe('connected');
      await fx.client.close();
    });
  }

  it('tries again after stoppedRetryMs, and stays connected once the refusal cleared', async () => {
    const fx = setupHub({ stoppedRetryMs: 60_000 });
    const connected = track(fx.client.connect());
    await acceptConnection(fx, connackRefused(5));
    expect(connected.error).toMatchObject({ code: 'auth-failed', returnCode: 5 });
    expect(fx.errors[0]?.message).toBe(
      'the hub refused the credentials: broker refused the connection: return code 5 (not authorized); trying again in 60 s, or at once on updateCredentials()',
    );
    expect(fx.events.at(-1)).toBe('reconnecting:1:60000');
    await fx.clock.advanceSettled(59_999);
    expect(fx.transport.connections).toHaveLength(1);
    await fx.clock.advanceSettled(1);
    expect(fx.transport.connections).toHaveLength(2);
    await acceptConnection(fx, connackRefused(5));
    expect(fx.client.state).toBe('stopped');
    await fx.clock.advanceSettled(60_000);
    expect(fx.transport.connections).toHaveLength(3);
    await acceptConnection(fx);
    expect(fx.client.state).toBe('connected');
    expect(fx.events.filter((e) => e.startsWith('error'))).toEqual(['error:auth-failed', 'error:auth-failed']);
    await fx.client.close();
    expect(fx.clock.pendingCount).toBe(0);
  });

  it('an error listener that closes the client on the refusal leaves no slow-retry timer behind', async () => {
    const fx = setupHub();
    const seen: string[] = [];
    fx.client.on('error', (error) => {
      seen.push(error.code);
      void fx.client.close();
    });
    const connected = track(fx.client.connect());
    await acceptConnection(fx, connackRefused(5));
    expect(seen).toEqual(['auth-failed']);
    expect(connected.error).toMatchObject({ code: 'closed' });
    expect(fx.client.state).toBe('closed');
    expect(fx.clock.pendingCount).toBe(0);
    await fx.clock.advanceSettled(3_600_000);
    expect(fx.transport.connections).toHaveLength(1);
  });

  it('refuses an unusable stoppedRetryMs at construction, naming it', () => {
    for (const stoppedRetryMs of [0, -5, 1.5]) {
      expect(() => setupHub({ stoppedRetryMs })).toThrow(expect.objectContaining({ code: 'invalid-config', field: 'stoppedRetryMs' }));
    }
  });

  it('spreads the slow retry by up to a quarter with the jitter source', async () => {
    const fx = setupHub({ stoppedRetryMs: 60_000, random: () => 0.5 });
    track(fx.client.connect());
    await acceptConnection(fx, connackRefused(4));
    expect(fx.events.at(-1)).toBe('reconnecting:1:67500');
    await fx.client.close();
  });

  it('keeps retrying nothing quickly after an auth error that follows a dropped connection', async () => {
    const fx = setupHub();
    await connectFully(fx);
    fx.link.fail({ code: 'reset', message: 'killed' });
    await fx.clock.advanceSettled(1000);
    await acceptConnection(fx, connackRefused(5));
    await fx.clock.advanceSettled(600_000);
    expect(fx.transport.connections).toHaveLength(2);
    expect(fx.events.filter((e) => e.startsWith('error'))).toEqual(['error:auth-failed']);
    expect(fx.events.filter((e) => e.startsWith('disconnected'))).toEqual(['disconnected:connection-lost']);
    await fx.client.close();
  });

  it('tries new credentials given while an attempt with the old ones was under way', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    fx.client.updateCredentials({ kind: 'hub', hostName: HOST, deviceId: DEVICE, credential: { kind: 'sas', key: KEY } });
    await acceptConnection(fx, connackRefused(4));
    expect(fx.client.state).toBe('waiting');
    await fx.clock.advanceSettled(1000);
    expect(fx.transport.connections).toHaveLength(2);
    await acceptConnection(fx);
    expect(fx.client.state).toBe('connected');
    await fx.client.close();
  });

  it('rejects unusable new credentials and keeps the old ones', async () => {
    const fx = setupHub();
    expect(() => fx.client.updateCredentials({ kind: 'hub', hostName: HOST, deviceId: DEVICE, credential: { kind: 'sas', key: 'not base64!' } })).toThrow(
      expect.objectContaining({ code: 'invalid-config' }),
    );
    await fx.client.close();
  });
});

describe('clock not set', () => {
  it('refuses to sign with a clear error and sends nothing, then connects once the clock is set', async () => {
    const fx = setupHub({}, { clockUnset: true });
    const connected = track(fx.client.connect());
    await settle();
    expect(connected.error).toMatchObject({ code: 'clock-not-set' });
    expect(connected.error?.message).toMatch(/clock is not set/);
    expect(fx.transport.connections).toHaveLength(0);
    await fx.clock.advanceSettled(20_000);
    expect(fx.transport.connections).toHaveLength(0);
    expect(fx.events.filter((e) => e.startsWith('error'))).toEqual(['error:clock-not-set']);
    await fx.clock.advanceSettled(100_000);
    // checked at least every 10 s, however long it has been
    expect(fx.events.filter((e) => e.startsWith('reconnecting')).slice(-3)).toEqual(['reconnecting:13:10000', 'reconnecting:14:10000', 'reconnecting:15:10000']);
    fx.wall.offsetMs = WALL_START_MS;
    await fx.clock.advanceSettled(fx.clock.nextDueIn() ?? 0);
    expect(fx.transport.connections).toHaveLength(1);
    await fx.client.close();
  });
});

describe('SAS renewal at 80 % of the token life', () => {
  it('disconnects at 80 s for a 100 s token and reconnects at once with a fresh token', async () => {
    const fx = setupHub({ sasTtlSeconds: 100 });
    await connectFully(fx);
    await fx.clock.advanceSettled(79_999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.clock.advanceSettled(1);
    expect(fx.transport.connections[0]!.takeHex()).toEqual([DISCONNECT]);
    expect(fx.transport.connections).toHaveLength(2);
    expect(fx.events).toEqual(['connected', 'disconnected:renewal']);
    fx.link.open();
    await settle();
    const expiry = WALL_START_MS / 1000 + 80 + 100;
    expect(fx.link.takeHex()).toEqual([connectHex({ password: sasToken(`${HOST}/devices/${DEVICE}`, KEY, expiry) })]);
    fx.link.push(CONNACK_OK);
    await settle();
    expect(fx.link.takeHex()).toEqual([subscribeHex(2)]);
    fx.link.push(subackHex(2));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=2', '')]);
    expect(fx.events).toEqual(['connected', 'disconnected:renewal', 'connected']);
    await fx.client.close();
  });

  it('lets in-flight twin requests finish first and replays calls made during the drain', async () => {
    const fx = setupHub({ sasTtlSeconds: 100 });
    await connectFully(fx);
    await fx.clock.advanceSettled(79_000);
    const inFlight = track(fx.client.patchReported({ a: 1 }));
    await settle();
    fx.link.takeHex();
    await fx.clock.advanceSettled(1000);
    expect(fx.client.state).toBe('draining');
    expect(fx.link.takeHex()).toEqual([]); // no DISCONNECT while the patch is unanswered
    const during = track(fx.client.patchReported({ b: 2 }));
    const telemetry = track(fx.client.sendTelemetry('{"t":1}'));
    await settle();
    expect(fx.link.takeHex()).toEqual([]); // queued, not written on the old connection
    fx.link.push(publishHex('$iothub/twin/res/204/?$rid=2&$version=2', ''));
    await settle();
    expect(inFlight.value).toBe(2);
    expect(fx.transport.connections[0]!.takeHex()).toEqual([DISCONNECT]);
    const written = await acceptConnection(fx);
    expect(written).toEqual([subscribeHex(2), publishHex(`devices/${DEVICE}/messages/events/`, '{"t":1}', 1, 3)]);
    fx.link.push(subackHex(2));
    await settle();
    expect(fx.link.takeHex()).toEqual([
      publishHex('$iothub/twin/GET/?$rid=4', ''),
      publishHex('$iothub/twin/PATCH/properties/reported/?$rid=3', '{"b":2}'),
    ]);
    fx.link.push(publishHex('$iothub/twin/res/204/?$rid=3&$version=3', ''));
    fx.link.push('40020003');
    await settle();
    expect([during.status, telemetry.status]).toEqual(['resolved', 'resolved']);
    expect(fx.errors).toEqual([]);
    await fx.client.close();
  });

  it('gives up draining after renewalDrainTimeoutMs', async () => {
    const fx = setupHub({ sasTtlSeconds: 100, renewalDrainTimeoutMs: 2000, operationTimeoutMs: 120_000 });
    await connectFully(fx);
    track(fx.client.patchReported({ a: 1 }));
    await fx.clock.advanceSettled(80_000);
    fx.link.takeHex();
    await fx.clock.advanceSettled(1999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.clock.advanceSettled(1);
    expect(fx.transport.connections[0]!.takeHex()).toEqual([DISCONNECT]);
    await fx.client.close();
  });

  it('schedules no renewal for X.509', async () => {
    const fx = setupHub({
      credentials: { kind: 'hub', hostName: HOST, deviceId: DEVICE, credential: { kind: 'x509', chain: [new Uint8Array([1])], privateKey: new Uint8Array([2]) } },
      sasTtlSeconds: 100,
    });
    await connectFully(fx);
    await fx.clock.advanceSettled(200_000);
    expect(fx.transport.connections).toHaveLength(1);
    await fx.client.close();
  });
});

describe('close()', () => {
  it('rejects pending calls, disconnects and leaves no timers', async () => {
    const fx = setupHub({ sasTtlSeconds: 100 });
    await connectFully(fx);
    const t = track(fx.client.sendTelemetry('x'));
    const g = track(fx.client.getTwin());
    await settle();
    await fx.client.close();
    await settle();
    expect([t.error?.code, g.error?.code]).toEqual(['closed', 'closed']);
    expect(fx.link.closed).toBe(true);
    expect(fx.clock.pendingCount).toBe(0);
    expect(fx.events.at(-1)).toBe('disconnected:closed');
    expect(fx.client.state).toBe('closed');
    const after = track(fx.client.sendTelemetry('y'));
    await settle();
    expect(after.error?.code).toBe('closed');
  });

  it('stops a pending backoff', async () => {
    const fx = setupHub();
    const connected = track(fx.client.connect());
    fx.link.fail({ code: 'refused', message: 'refused' });
    await settle();
    await fx.client.close();
    await settle();
    expect(connected.error?.code).toBe('closed');
    expect(fx.clock.pendingCount).toBe(0);
    await fx.clock.advanceSettled(100_000);
    expect(fx.transport.connections).toHaveLength(1);
  });

  it('leaves no timers while a connection attempt is open', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    await fx.client.close();
    expect(fx.clock.pendingCount).toBe(0);
  });
});

describe('GET answer on a reconnect with session present', () => {
  it('treats a session-present CONNACK like any other', async () => {
    const fx = setupHub();
    await connectFully(fx);
    fx.link.peerClose();
    await fx.clock.advanceSettled(1000);
    const written = await acceptConnection(fx, '20020100');
    expect(written).toEqual([subscribeHex(2)]);
    fx.link.push(subackHex(2));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=2', '')]);
    fx.link.push(publishHex('$iothub/twin/res/200/?$rid=2', twinDoc({}, 1)));
    await settle();
    await fx.client.close();
  });
});
