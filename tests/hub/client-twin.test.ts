import {
  acceptConnection,
  connectFully,
  publishHex,
  settle,
  setupHub,
  subackHex,
  subscribeHex,
  track,
  twinDoc,
} from './hub-fixture';
import type { HubFixture } from './hub-fixture';

function recordDesired(fx: HubFixture): string[] {
  const seen: string[] = [];
  fx.client.onDesired((patch, version, info) => {
    seen.push(`${info.full ? 'full' : 'patch'}@${version}:${JSON.stringify(patch)}`);
  });
  return seen;
}

const desiredPush = (version: number, patch: Record<string, unknown>): string =>
  publishHex(`$iothub/twin/PATCH/properties/desired/?$version=${version}`, JSON.stringify({ ...patch, $version: version }));

describe('twin requests wait for the SUBACK of the twin response filter', () => {
  it('writes getTwin() and patchReported() made between CONNACK and SUBACK only after the SUBACK, behind the catch-up GET', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    expect(await acceptConnection(fx)).toEqual([subscribeHex(1)]);
    const twin = track(fx.client.getTwin());
    const patched = track(fx.client.patchReported({ boot: 2 }));
    await settle();
    expect(fx.link.takeHex()).toEqual([]); // the hub has not acknowledged $iothub/twin/res/# yet
    fx.link.push(subackHex(1));
    await settle();
    expect(fx.link.takeHex()).toEqual([
      publishHex('$iothub/twin/GET/?$rid=3', ''),
      publishHex('$iothub/twin/GET/?$rid=1', ''),
      publishHex('$iothub/twin/PATCH/properties/reported/?$rid=2', '{"boot":2}'),
    ]);
    fx.link.push(publishHex('$iothub/twin/res/200/?$rid=3', twinDoc({}, 1)));
    fx.link.push(publishHex('$iothub/twin/res/200/?$rid=1', twinDoc({}, 1, { boot: 1 }, 4)));
    fx.link.push(publishHex('$iothub/twin/res/204/?$rid=2&$version=5', ''));
    await settle();
    expect(twin.value).toMatchObject({ reportedVersion: 4 });
    expect(patched.value).toBe(5);
    await fx.client.close();
  });

  it('after a drop before the SUBACK, writes nothing on the old connection and GETs on the next SUBACK', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    await acceptConnection(fx);
    const twin = track(fx.client.getTwin());
    fx.link.peerClose();
    await fx.clock.advanceSettled(1000);
    expect(fx.transport.connections[0]!.writtenHex().slice(1)).toEqual([subscribeHex(1)]);
    expect(await acceptConnection(fx)).toEqual([subscribeHex(2)]);
    fx.link.push(subackHex(2));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=2', ''), publishHex('$iothub/twin/GET/?$rid=1', '')]);
    expect(twin.status).toBe('pending');
    await fx.client.close();
  });
});

describe('reconciliation by version', () => {
  it('ignores a stale patch and applies newer ones once', async () => {
    const fx = setupHub();
    const seen = recordDesired(fx);
    await connectFully(fx, 3, { a: 1 });
    fx.link.push(desiredPush(3, { a: 1 }));
    fx.link.push(desiredPush(2, { a: 0 }));
    fx.link.push(desiredPush(4, { a: 2 }));
    await settle();
    expect(seen).toEqual(['full@3:{"a":1,"$version":3}', 'patch@4:{"a":2,"$version":4}']);
    await fx.client.close();
  });

  it('holds a patch that beats the GET answer and applies it after, in order', async () => {
    const fx = setupHub();
    const seen = recordDesired(fx);
    track(fx.client.connect());
    await acceptConnection(fx);
    fx.link.push(subackHex(1));
    fx.link.push(desiredPush(6, { b: 6 }));
    fx.link.push(desiredPush(5, { b: 5 }));
    await settle();
    expect(seen).toEqual([]);
    fx.link.push(publishHex('$iothub/twin/res/200/?$rid=1', twinDoc({ b: 5 }, 5)));
    await settle();
    expect(seen).toEqual(['full@5:{"b":5,"$version":5}', 'patch@6:{"b":6,"$version":6}']);
    await fx.client.close();
  });

  it('applies a patch made during a disconnect exactly once, from the GET after the reconnect', async () => {
    const fx = setupHub();
    const seen = recordDesired(fx);
    await connectFully(fx, 1, { mode: 'off' });
    fx.link.peerClose(); // offline; the service sets mode=eco (v2) meanwhile
    await fx.clock.advanceSettled(1000);
    await acceptConnection(fx);
    fx.link.push(subackHex(2));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=2', '')]);
    fx.link.push(publishHex('$iothub/twin/res/200/?$rid=2', twinDoc({ mode: 'eco' }, 2)));
    fx.link.push(desiredPush(2, { mode: 'eco' })); // a late duplicate changes nothing
    await settle();
    expect(seen).toEqual(['full@1:{"mode":"off","$version":1}', 'full@2:{"mode":"eco","$version":2}']);
    await fx.client.close();
  });

  it('reads the twin again when a desired version is skipped', async () => {
    const fx = setupHub();
    await connectFully(fx, 1);
    fx.link.push(desiredPush(3, { c: 3 }));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=2', '')]);
    await fx.client.close();
  });

  it('retries the catch-up GET with backoff after a 429, with the throttled floor', async () => {
    const fx = setupHub();
    const seen = recordDesired(fx);
    track(fx.client.connect());
    await acceptConnection(fx);
    fx.link.push(subackHex(1));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=1', '')]);
    fx.link.push(publishHex('$iothub/twin/res/429/?$rid=1', '{"message":"throttled"}'));
    await settle();
    await fx.clock.advanceSettled(9999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.clock.advanceSettled(1);
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=2', '')]);
    fx.link.push(publishHex('$iothub/twin/res/200/?$rid=2', twinDoc({ z: 1 }, 7)));
    await settle();
    expect(seen).toEqual(['full@7:{"z":1,"$version":7}']);
    await fx.client.close();
  });
});

describe('getTwin and patchReported', () => {
  it('resolves getTwin with the parsed document', async () => {
    const fx = setupHub();
    await connectFully(fx, 1);
    const twin = track(fx.client.getTwin());
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=2', '')]);
    fx.link.push(publishHex('$iothub/twin/res/200/?$rid=2', twinDoc({ a: 1 }, 2, { r: true }, 9)));
    await settle();
    expect(twin.status).toBe('resolved');
    expect(twin.value).toMatchObject({ desiredVersion: 2, reportedVersion: 9, reported: { r: true, $version: 9 } });
    await fx.client.close();
  });

  it('resolves patchReported with the new version on 204', async () => {
    const fx = setupHub();
    await connectFully(fx, 1);
    const patched = track(fx.client.patchReported({ temperature: 21.5, nested: { ok: null } }));
    await settle();
    expect(fx.link.takeHex()).toEqual([
      publishHex('$iothub/twin/PATCH/properties/reported/?$rid=2', '{"temperature":21.5,"nested":{"ok":null}}'),
    ]);
    fx.link.push(publishHex('$iothub/twin/res/204/?$rid=2&$version=12', ''));
    await settle();
    expect(patched).toMatchObject({ status: 'resolved', value: 12 });
    await fx.client.close();
  });

  it('rejects with a typed status error on 400, and times out without an answer', async () => {
    const fx = setupHub({ operationTimeoutMs: 5000 });
    await connectFully(fx, 1);
    const bad = track(fx.client.patchReported({ a: 1 }));
    const lost = track(fx.client.patchReported({ b: 1 }));
    await settle();
    fx.link.push(publishHex('$iothub/twin/res/400/?$rid=2', '{"message":"bad"}'));
    await settle();
    expect(bad.error).toMatchObject({ code: 'status', status: 400, retryable: false });
    await fx.clock.advanceSettled(5000);
    expect(lost.error).toMatchObject({ code: 'timeout' });
    await fx.client.close();
  });

  it('retries a 503 within the deadline', async () => {
    const fx = setupHub();
    await connectFully(fx, 1);
    const patched = track(fx.client.patchReported({ a: 1 }));
    await settle();
    fx.link.takeHex();
    fx.link.push(publishHex('$iothub/twin/res/503/?$rid=2', ''));
    await fx.clock.advanceSettled(1000);
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/PATCH/properties/reported/?$rid=2', '{"a":1}')]);
    fx.link.push(publishHex('$iothub/twin/res/204/?$rid=2&$version=3', ''));
    await settle();
    expect(patched).toMatchObject({ status: 'resolved', value: 3 });
    await fx.client.close();
  });

  it('queues calls made while offline and writes them after the SUBACK, behind the catch-up GET', async () => {
    const fx = setupHub();
    const early = track(fx.client.patchReported({ boot: 1 }));
    track(fx.client.connect());
    expect(await acceptConnection(fx)).toEqual([subscribeHex(1)]);
    fx.link.push(subackHex(1));
    await settle();
    expect(fx.link.takeHex()).toEqual([
      publishHex('$iothub/twin/GET/?$rid=2', ''),
      publishHex('$iothub/twin/PATCH/properties/reported/?$rid=1', '{"boot":1}'),
    ]);
    fx.link.push(publishHex('$iothub/twin/res/204/?$rid=1&$version=2', ''));
    await settle();
    expect(early.status).toBe('resolved');
    await fx.client.close();
  });

  it('writes a request again after the connection dropped before its answer', async () => {
    const fx = setupHub();
    await connectFully(fx, 1);
    const patched = track(fx.client.patchReported({ x: 1 }));
    await settle();
    fx.link.peerClose();
    await fx.clock.advanceSettled(1000);
    expect(await acceptConnection(fx)).toEqual([subscribeHex(2)]);
    fx.link.push(subackHex(2));
    await settle();
    expect(fx.link.takeHex()).toEqual([
      publishHex('$iothub/twin/GET/?$rid=3', ''),
      publishHex('$iothub/twin/PATCH/properties/reported/?$rid=2', '{"x":1}'),
    ]);
    fx.link.push(publishHex('$iothub/twin/res/204/?$rid=2&$version=5', ''));
    await settle();
    expect(patched.value).toBe(5);
    await fx.client.close();
  });
});

describe('twin limits checked before sending', () => {
  it('refuses bad keys, deep nesting and oversized patches without writing anything', async () => {
    const fx = setupHub();
    await connectFully(fx, 1);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 11; i++) deep = { n: deep };
    const results = [
      track(fx.client.patchReported({ 'a.b': 1 })),
      track(fx.client.patchReported({ $bad: 1 })),
      track(fx.client.patchReported(deep)),
      track(fx.client.patchReported({ s: 'x'.repeat(5000) })),
      track(fx.client.patchReported({ a: 'x'.repeat(4000), b: 'x'.repeat(4000), c: 'x'.repeat(4000), d: 'x'.repeat(4000), e: 'x'.repeat(4000), f: 'x'.repeat(4000), g: 'x'.repeat(4000), h: 'x'.repeat(4000), i: 'x'.repeat(4000) })),
    ];
    await settle();
    expect(results.map((r) => r.error?.code)).toEqual(['invalid-argument', 'invalid-argument', 'invalid-argument', 'too-large', 'too-large']);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.client.close();
  });

  it('refuses requests over the pending bound with queue-full', async () => {
    const fx = setupHub({ maxPendingTwinRequests: 2 });
    const calls = [track(fx.client.getTwin()), track(fx.client.getTwin()), track(fx.client.getTwin())];
    await settle();
    expect(calls.map((c) => c.status)).toEqual(['pending', 'pending', 'rejected']);
    expect(calls[2]!.error?.code).toBe('queue-full');
    await fx.client.close();
    expect(calls.map((c) => c.error?.code)).toEqual(['closed', 'closed', 'queue-full']);
  });
});
