import { DesiredReconciler } from '../../src/hub/desired-reconciler';

const versions = (step: { apply: { version: number; full: boolean }[] }): string[] =>
  step.apply.map((a) => `${a.full ? 'full' : 'patch'}@${a.version}`);

describe('desired reconciliation on the first connection', () => {
  it('holds patches until the GET answers, then applies the GET and newer patches once, in order', () => {
    const r = new DesiredReconciler();
    r.onConnected();
    expect(versions(r.onPatch({ a: 1 }, 5))).toEqual([]);
    expect(versions(r.onPatch({ a: 3 }, 7))).toEqual([]);
    expect(versions(r.onPatch({ a: 2 }, 6))).toEqual([]);
    const step = r.onTwin({ a: 1, $version: 5 }, 5);
    expect(versions(step)).toEqual(['full@5', 'patch@6', 'patch@7']);
    expect(step.apply[1]!.patch).toEqual({ a: 2 });
    expect(r.lastApplied).toBe(7);
    expect(r.waitingForTwin).toBe(false);
  });

  it('applies patches as they come once the GET is in', () => {
    const r = new DesiredReconciler();
    r.onTwin({ $version: 1 }, 1);
    expect(versions(r.onPatch({ x: 1 }, 2))).toEqual(['patch@2']);
    expect(versions(r.onPatch({ x: 2 }, 3))).toEqual(['patch@3']);
  });
});

describe('stale desired patches', () => {
  it('ignores a patch whose version is not newer than the last applied', () => {
    const r = new DesiredReconciler();
    r.onTwin({ $version: 4 }, 4);
    expect(versions(r.onPatch({ old: true }, 4))).toEqual([]);
    expect(versions(r.onPatch({ older: true }, 2))).toEqual([]);
    expect(r.lastApplied).toBe(4);
  });

  it('does not re-apply a GET that is not newer', () => {
    const r = new DesiredReconciler();
    r.onTwin({ $version: 3 }, 3);
    r.onPatch({ y: 1 }, 4);
    r.onConnected();
    expect(versions(r.onTwin({ y: 1, $version: 4 }, 4))).toEqual([]);
  });
});

describe('a patch made while disconnected', () => {
  it('is applied exactly once, from the GET after the reconnect', () => {
    const r = new DesiredReconciler();
    r.onConnected();
    r.onTwin({ $version: 1 }, 1);
    // offline: the hub does not push v2 to us; on reconnect the GET holds it
    r.onConnected();
    expect(versions(r.onTwin({ mode: 'eco', $version: 2 }, 2))).toEqual(['full@2']);
    // a late duplicate push of v2 (or any replay) is ignored
    expect(versions(r.onPatch({ mode: 'eco' }, 2))).toEqual([]);
  });

  it('drops patches held from before the reconnect', () => {
    const r = new DesiredReconciler();
    r.onConnected();
    r.onPatch({ a: 1 }, 9);
    r.onConnected(); // the connection dropped before its GET answered
    expect(versions(r.onTwin({ a: 1, $version: 9 }, 9))).toEqual(['full@9']);
  });
});

describe('missed patches', () => {
  it('asks for a resync when a version is skipped while connected', () => {
    const r = new DesiredReconciler();
    r.onTwin({ $version: 1 }, 1);
    expect(r.onPatch({ a: 1 }, 2).resync).toBe(false);
    const step = r.onPatch({ a: 3 }, 4);
    expect(versions(step)).toEqual(['patch@4']);
    expect(step.resync).toBe(true);
  });

  it('asks for a resync when held patches leave a gap after the GET', () => {
    const r = new DesiredReconciler();
    r.onConnected();
    r.onPatch({ a: 1 }, 7);
    expect(r.onTwin({ $version: 5 }, 5).resync).toBe(true);
  });

  it('keeps at most maxHeld patches while waiting, oldest dropped', () => {
    const r = new DesiredReconciler(2);
    r.onConnected();
    r.onPatch({}, 2);
    r.onPatch({}, 3);
    r.onPatch({}, 4);
    expect(versions(r.onTwin({ $version: 2 }, 2))).toEqual(['full@2', 'patch@3', 'patch@4']);
    const r2 = new DesiredReconciler(2);
    r2.onConnected();
    r2.onPatch({}, 2);
    r2.onPatch({}, 3);
    r2.onPatch({}, 4);
    expect(versions(r2.onTwin({ $version: 1 }, 1))).toEqual(['full@1', 'patch@3', 'patch@4']);
  });
});
