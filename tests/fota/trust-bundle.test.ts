// Signed root-certificate updates (src/fota/trust-bundle.ts): the bundle a manifest carries, what the signature
// covers, each refusal typed and naming the entry, the switch after one good connection, the fallback after a
// certificate error, and a power cut at every write step leaving one complete bundle in force.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createMemoryStore, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node';
import { DEFAULT_CERTS_DIR } from '../../hosts/node/default-roots';
import { MemorySlot } from '../../hosts/virtual/memory-slot';
import { FotaAgent } from '../../src/fota/fota-agent';
import { parseManifest, signedManifestText } from '../../src/fota/manifest';
import { verifyManifest } from '../../src/fota/signature';
import { parseTrustBundle, TrustBundles } from '../../src/fota/trust-bundle';
import type { KeyValueStore } from '../../src/ports';
import type { JsonObject } from '../../src/azure/json';
import { bundleSha256Hex, image, ReportedTwin, signedFirmware, VENDOR_A, VENDOR_B } from './fota-fixture';

const DIGICERT = new Uint8Array(readFileSync(`${DEFAULT_CERTS_DIR}digicert-global-root-g2.der`));
const MICROSOFT = new Uint8Array(readFileSync(`${DEFAULT_CERTS_DIR}microsoft-rsa-root-ca-2017.der`));
const B64 = (der: Uint8Array): string => Buffer.from(der).toString('base64');
const IMAGE = image(1000, 9);
const wanted = (firmware: Record<string, unknown>): JsonObject => ({ firmware }) as JsonObject;

describe('the signed text: a fifth field, trustSha256, only when a bundle rides along', () => {
  test('without a bundle the text is the four fields, unchanged', () => {
    expect(signedManifestText({ fwVersion: '1.2.0', fwSize: 10, sha256: 'ab'.repeat(32), allowDowngrade: false })).toBe(
      `{"fwVersion":"1.2.0","fwSize":10,"sha256":"${'ab'.repeat(32)}","allowDowngrade":false}`,
    );
  });

  test('with a bundle its SHA-256 comes last', () => {
    expect(signedManifestText({ fwVersion: '1.2.0', fwSize: 10, sha256: 'ab'.repeat(32), allowDowngrade: true, trustSha256: 'cd'.repeat(32) })).toBe(
      `{"fwVersion":"1.2.0","fwSize":10,"sha256":"${'ab'.repeat(32)}","allowDowngrade":true,"trustSha256":"${'cd'.repeat(32)}"}`,
    );
  });

  test('a signed manifest with a bundle verifies; another trustSha256 under the same signature does not', () => {
    const desired = signedFirmware(IMAGE, { version: '1.0.0', trustBundle: [DIGICERT] });
    const m = parseManifest(desired);
    expect(m.ok && m.value.trustSha256).toBe(bundleSha256Hex([DIGICERT]));
    expect(m.ok && verifyManifest(m.value, [VENDOR_A.publicKey, undefined])).toEqual({ ok: true, value: 0 });
    const swapped = parseManifest({ ...desired, trustSha256: bundleSha256Hex([MICROSOFT]), trustBundle: [B64(MICROSOFT)] });
    expect(swapped.ok && verifyManifest(swapped.value, [VENDOR_A.publicKey, undefined])).toMatchObject({ ok: false, error: { code: 'bad-signature' } });
  });

  test('a bundle without its trustSha256 (or the other way round) is a bad field', () => {
    const desired = signedFirmware(IMAGE, { version: '1.0.0', trustBundle: [DIGICERT] });
    const { trustSha256: _sha, ...noSha } = desired;
    expect(parseManifest(noSha)).toMatchObject({ ok: false, error: { code: 'bad-field', field: 'trustSha256' } });
    const { trustBundle: _bundle, ...noBundle } = desired;
    expect(parseManifest(noBundle)).toMatchObject({ ok: false, error: { code: 'bad-field', field: 'trustBundle' } });
    expect(parseManifest({ ...desired, trustSha256: 'XYZ' })).toMatchObject({ ok: false, error: { code: 'bad-field', field: 'trustSha256' } });
  });
});

describe('parsing a bundle: every root must read as a DER certificate', () => {
  const two = [DIGICERT, MICROSOFT];

  test('two roots, in order', () => {
    const parsed = parseTrustBundle(two.map(B64), bundleSha256Hex(two), 8192);
    expect(parsed.ok && parsed.value.map((der) => der.length)).toEqual([DIGICERT.length, MICROSOFT.length]);
  });

  test.each([
    ['not a list', 'x', 'bad-field', 'trustBundle'],
    ['empty', [], 'bad-field', 'trustBundle'],
    ['more than 16 roots', new Array(17).fill(B64(DIGICERT)), 'bad-field', 'trustBundle'],
    ['an entry that is not text', [B64(DIGICERT), 7], 'bad-field', 'trustBundle[1]'],
    ['an entry that is not base64', [B64(DIGICERT), '***'], 'bad-field', 'trustBundle[1]'],
    ['an entry that is not DER', [B64(DIGICERT), B64(image(300, 2))], 'bad-root', 'trustBundle[1]'],
    ['DER that is no certificate', [B64(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]))], 'bad-root', 'trustBundle[0]'],
    ['a certificate with bytes after it', [B64(new Uint8Array([...DIGICERT, 0]))], 'bad-root', 'trustBundle[0]'],
  ])('%s is refused, naming the entry', (_what, value, code, field) => {
    expect(parseTrustBundle(value, bundleSha256Hex(two), 8192)).toMatchObject({ ok: false, error: { code, field } });
  });

  test('over the byte budget: oversize, refused before the entry past it is decoded', () => {
    expect(parseTrustBundle(two.map(B64), bundleSha256Hex(two), DIGICERT.length + 100)).toEqual({
      ok: false,
      error: { code: 'oversize', field: 'trustBundle', message: `firmware.trustBundle is over ${DIGICERT.length + 100} bytes at trustBundle[1]` },
    });
  });

  test('roots that are not the signed trustSha256: hash-mismatch', () => {
    expect(parseTrustBundle([B64(MICROSOFT)], bundleSha256Hex([DIGICERT]), 8192)).toMatchObject({ ok: false, error: { code: 'hash-mismatch', field: 'trustBundle' } });
  });
});

function ders(roots: { der: Uint8Array }[] | undefined): number[] | undefined {
  return roots?.map((root) => root.der.length);
}

describe('the switch: pending, on trial for one boot, active after one good connection', () => {
  test('stored as pending; the next boot uses it; connected makes it active; later boots keep it', () => {
    const store = createMemoryStore();
    const trust = new TrustBundles({ store, maxBytes: 8192 });
    expect(trust.roots()).toBeUndefined();
    expect(trust.report()).toBeUndefined();
    expect(trust.offer([B64(DIGICERT)], bundleSha256Hex([DIGICERT]))).toEqual({ ok: true, value: true });
    expect(trust.report()).toEqual({ status: 'pending', sha256: bundleSha256Hex([DIGICERT]), roots: 1, rejectedSha256: null, error: null });
    expect(ders(trust.roots())).toEqual([DIGICERT.length]);
    trust.connected();
    expect(trust.report()).toEqual({ status: 'active', sha256: bundleSha256Hex([DIGICERT]), roots: 1, rejectedSha256: null, error: null });
    const later = new TrustBundles({ store, maxBytes: 8192 });
    expect(ders(later.roots())).toEqual([DIGICERT.length]);
    expect(later.verifyFailed()).toBe(false); // an active bundle is not on trial
    expect(later.offer([B64(DIGICERT)], bundleSha256Hex([DIGICERT]))).toEqual({ ok: true, value: false });
  });

  test('a certificate error on the trial boot puts the old roots back and reports rolled-back; the same bundle is not tried again', () => {
    const store = createMemoryStore();
    const trust = new TrustBundles({ store, maxBytes: 8192 });
    trust.offer([B64(DIGICERT)], bundleSha256Hex([DIGICERT]));
    trust.roots();
    trust.connected();
    expect(trust.offer([B64(MICROSOFT)], bundleSha256Hex([MICROSOFT]))).toEqual({ ok: true, value: true });
    expect(ders(trust.roots())).toEqual([MICROSOFT.length]);
    expect(trust.verifyFailed()).toBe(true);
    expect(ders(trust.roots())).toEqual([DIGICERT.length]);
    expect(trust.verifyFailed()).toBe(false);
    expect(trust.report()).toEqual({
      status: 'rolled-back',
      sha256: bundleSha256Hex([DIGICERT]),
      roots: 1,
      rejectedSha256: bundleSha256Hex([MICROSOFT]),
      error: { code: 'rolled-back', message: `the hub's certificate did not verify with bundle ${bundleSha256Hex([MICROSOFT]).slice(0, 8)}; old roots kept` },
    });
    expect(trust.offer([B64(MICROSOFT)], bundleSha256Hex([MICROSOFT]))).toEqual({ ok: true, value: false });
  });

  test('a damaged pending record counts as a failed trial: the roots in force stay', () => {
    const store = createMemoryStore();
    const trust = new TrustBundles({ store, maxBytes: 8192 });
    trust.offer([B64(DIGICERT)], bundleSha256Hex([DIGICERT]));
    const stored = store.get('roots.1')!;
    stored[stored.length - 1]! ^= 1;
    store.set('roots.1', stored);
    expect(trust.roots()).toBeUndefined();
    expect(trust.report()).toMatchObject({ status: 'rolled-back', sha256: null, error: { code: 'storage' } });
  });
});

/** A store whose `set` number `cutAt` (1-based) never happens: the power went at that write. */
function cutStore(inner: KeyValueStore, cutAt: number): KeyValueStore & { writes: number } {
  const store = {
    writes: 0,
    get: (key: string) => inner.get(key),
    keys: () => inner.keys(),
    delete: (key: string) => inner.delete(key),
    set: (key: string, value: Uint8Array) => {
      store.writes++;
      if (store.writes === cutAt) throw new Error('power cut');
      if (store.writes > cutAt) throw new Error('powered off');
      inner.set(key, value);
    },
  };
  return store;
}

describe('a power cut at every write step of storing and switching a bundle leaves one complete bundle in force', () => {
  const OLD = [DIGICERT];
  const NEW = [MICROSOFT, DIGICERT];
  // The steps: roots.2 written, state pending, state active (switch) — or state rolled-back (fallback).
  for (const path of ['switch', 'fallback'] as const) {
    for (let cut = 1; cut <= 3; cut++) {
      test(`${path}: cut at write ${cut}`, () => {
        const flash = createMemoryStore();
        const before = new TrustBundles({ store: flash, maxBytes: 8192 });
        before.offer(OLD.map(B64), bundleSha256Hex(OLD));
        before.roots();
        before.connected();

        const store = cutStore(flash, cut);
        const device = new TrustBundles({ store, maxBytes: 8192 });
        try {
          device.offer(NEW.map(B64), bundleSha256Hex(NEW));
          device.roots();
          if (path === 'switch') device.connected();
          else device.verifyFailed();
        } catch {
          // the power went
        }
        expect(store.writes).toBeGreaterThanOrEqual(cut);

        // Power back: the roots in force are the old bundle or the new one, whole.
        const after = new TrustBundles({ store: flash, maxBytes: 8192 });
        const inForce = ders(after.roots());
        expect([ders(OLD.map((der) => ({ der }))), ders(NEW.map((der) => ({ der })))]).toContainEqual(inForce);
        // ...and the update completes: offered again (the desired twin arrives again), tried, connected.
        after.offer(NEW.map(B64), bundleSha256Hex(NEW));
        after.roots();
        after.connected();
        expect(ders(new TrustBundles({ store: flash, maxBytes: 8192 }).roots())).toEqual(NEW.map((der) => der.length));
      });
    }
  }
});

describe('the agent with a bundle in the manifest', () => {
  function agent(trust: TrustBundles | undefined, running = '1.0.0'): { agent: FotaAgent; twin: ReportedTwin; slot: MemorySlot; reboots: () => number } {
    const twin = new ReportedTwin();
    const slot = new MemorySlot(running, 64 * 1024);
    let reboots = 0;
    const fota = new FotaAgent({
      hub: twin,
      transport: createNodeTlsTransportFactory(),
      timers: createNodeTimers(),
      store: createMemoryStore(),
      slot,
      random: () => 0,
      trustedCAs: [],
      keys: [VENDOR_A.publicKey, VENDOR_B.publicKey],
      runningVersion: running,
      maxFragmentBytes: 4096,
      reboot: () => void reboots++,
      log: () => undefined,
      ...(trust === undefined ? {} : { trust }),
    });
    return { agent: fota, twin, slot, reboots: () => reboots };
  }

  test('a roots-only update (the running version): stored pending, reported under `trust`, then a reboot to try it', async () => {
    const trust = new TrustBundles({ store: createMemoryStore(), maxBytes: 8192 });
    const d = agent(trust);
    d.agent.onDesired(wanted(signedFirmware(IMAGE, { version: '1.0.0', trustBundle: [DIGICERT] })), 4);
    await d.agent.settled;
    await d.agent.settled;
    expect(d.twin.patches.filter((p) => 'trust' in p)).toEqual([{ trust: { status: 'pending', sha256: bundleSha256Hex([DIGICERT]), roots: 1, rejectedSha256: null, error: null } }]);
    expect(d.reboots()).toBe(1);
    // After the reboot with the bundle: connected, active, and the same desired twin just reports current.
    expect(ders(trust.roots())).toEqual([DIGICERT.length]);
    const after = agent(trust);
    after.agent.start();
    after.agent.onDesired(wanted(signedFirmware(IMAGE, { version: '1.0.0', trustBundle: [DIGICERT] })), 4);
    await after.agent.settled;
    expect(after.twin.patches[0]).toEqual({ trust: { status: 'active', sha256: bundleSha256Hex([DIGICERT]), roots: 1, rejectedSha256: null, error: null } });
    expect(after.twin.firmware).toMatchObject({ fwUpdateStatus: 'current', ac: 200 });
    expect(after.reboots()).toBe(0);
  });

  test('a new image with a bundle: the roots first (stored, reboot), the slot untouched until the boot after', async () => {
    const trust = new TrustBundles({ store: createMemoryStore(), maxBytes: 8192 });
    const d = agent(trust);
    d.agent.onDesired(wanted(signedFirmware(IMAGE, { version: '1.2.0', trustBundle: [DIGICERT] })), 9);
    d.agent.onDesired(wanted(signedFirmware(IMAGE, { version: '1.2.0', trustBundle: [DIGICERT] })), 10); // the twin again: nothing more
    await d.agent.settled;
    await d.agent.settled;
    expect(trust.report()).toMatchObject({ status: 'pending' });
    expect(d.reboots()).toBe(1);
    expect([d.agent.status, d.slot.writes]).toEqual(['idle', 0]);
  });

  test('a bundle with a root that is not DER: refused in firmware.error naming the entry, ack 400, nothing stored', async () => {
    const trust = new TrustBundles({ store: createMemoryStore(), maxBytes: 8192 });
    const d = agent(trust);
    const desired = signedFirmware(IMAGE, { version: '1.2.0', trustBundle: [DIGICERT, image(200, 3)] });
    d.agent.onDesired(wanted(desired), 5);
    await d.agent.settled;
    expect(d.twin.firmware).toMatchObject({ fwUpdateStatus: 'failed', ac: 400, error: { code: 'bad-root', field: 'trustBundle[1]' } });
    expect(trust.report()).toBeUndefined();
    expect(d.reboots()).toBe(0);
  });

  test('a bundle under a bad signature: bad-signature before the bundle is read', async () => {
    const trust = new TrustBundles({ store: createMemoryStore(), maxBytes: 8192 });
    const d = agent(trust);
    const desired = signedFirmware(IMAGE, { version: '1.2.0', trustBundle: [DIGICERT] });
    d.agent.onDesired(wanted({ ...desired, trustSha256: bundleSha256Hex([MICROSOFT]), trustBundle: [B64(MICROSOFT)] }), 6);
    await d.agent.settled;
    expect(d.twin.firmware).toMatchObject({ fwUpdateStatus: 'failed', ac: 400, error: { code: 'bad-signature' } });
    expect(trust.report()).toBeUndefined();
  });

  test('an oversize bundle: oversize in firmware.error', async () => {
    const trust = new TrustBundles({ store: createMemoryStore(), maxBytes: 500 });
    const d = agent(trust);
    d.agent.onDesired(wanted(signedFirmware(IMAGE, { version: '1.2.0', trustBundle: [DIGICERT] })), 7);
    await d.agent.settled;
    expect(d.twin.firmware).toMatchObject({ fwUpdateStatus: 'failed', ac: 400, error: { code: 'oversize', field: 'trustBundle' } });
  });

  test('a device built without the trust part refuses a manifest carrying a bundle', async () => {
    const d = agent(undefined);
    d.agent.onDesired(wanted(signedFirmware(IMAGE, { version: '1.2.0', trustBundle: [DIGICERT] })), 8);
    await d.agent.settled;
    expect(d.twin.firmware).toMatchObject({ fwUpdateStatus: 'failed', ac: 400, error: { code: 'bad-field', field: 'trustBundle', message: 'firmware.trustBundle is not taken by this device' } });
  });
});
