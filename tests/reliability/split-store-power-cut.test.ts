// The device's records (DPS assignment, security tags) through the Moddable-style split store (Preference
// entries of at most 63 or 1984 bytes, chunked, index written last), with random contents and a power cut at
// EVERY Preference write of every operation. After each cut the device "reboots" (a new store over what the
// flash holds): each record reads as exactly the old or exactly the new content, never damaged, never a mix.
// The run continues from a randomly chosen cut state, so later writes start over stale chunks.
// (tests/storage covers the Node file store's cut points; tests/moddable the chunked store with fixed values.)

import { issueDeviceCertificate } from '../../emulator/src/pki';
import { createChunkedStore, type PreferenceBackend, type PreferenceValue } from '../../hosts/moddable/chunked-store';
import { AssignmentStore, type Assignment } from '../../src/storage/assignment-store';
import type { SecurityTagContent } from '../../src/storage/security-tags';
import { SecurityTagStore } from '../../src/storage/security-tag-store';
import { Rng } from '../../soak/lib/rng';
import { report, seedFromEnv } from './report';

class PowerCut extends Error {}

/** Flash as Preference sees it: each set/delete is atomic; after `cutAfter` of them the power goes. */
class Flash implements PreferenceBackend {
  readonly data = new Map<string, PreferenceValue>();
  mutations = 0;
  cutAfter = Number.POSITIVE_INFINITY;

  get(_domain: string, key: string): PreferenceValue | undefined {
    const value = this.data.get(key);
    return value instanceof ArrayBuffer ? value.slice(0) : value;
  }
  set(_domain: string, key: string, value: PreferenceValue): void {
    this.mutate();
    if (key.length > 15) throw new Error('NVS keys are at most 15 characters');
    this.data.set(key, value instanceof ArrayBuffer ? value.slice(0) : value);
  }
  delete(_domain: string, key: string): void {
    this.mutate();
    this.data.delete(key);
  }
  keys(): string[] {
    return [...this.data.keys()];
  }
  clone(): Flash {
    const copy = new Flash();
    for (const [k, v] of this.data) copy.data.set(k, v instanceof ArrayBuffer ? v.slice(0) : v);
    return copy;
  }
  private mutate(): void {
    if (this.mutations >= this.cutAfter) throw new PowerCut('power cut');
    this.mutations++;
  }
}

const DPS = { globalEndpoint: 'global.azure-devices-provisioning.net', idScope: '0ne00ABCDEF', registrationId: 'reg-1', attestation: 'symmetric-key' as const };
const TAGS = [10, 11];

interface DeviceState {
  assignment: Assignment | undefined;
  tags: Map<number, SecurityTagContent>;
}

type Op = { kind: 'save-assignment'; assignment: Assignment } | { kind: 'reset-assignment' } | { kind: 'write-tag'; tag: number; content: SecurityTagContent } | { kind: 'delete-tag'; tag: number };

function randomBytes(rng: Rng, max: number): Uint8Array {
  return rng.bytes(rng.int(1, max));
}

/** A DER SEQUENCE around random bytes: the shape the tag store checks a private key for. */
function randomDerSequence(rng: Rng, max: number): Uint8Array {
  const body = randomBytes(rng, max);
  const header = body.length < 0x80 ? [0x30, body.length] : [0x30, 0x82, body.length >> 8, body.length & 0xff];
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** Real certificates (the tag store parses them), a few made once: RSA key generation is the slow part. */
const CERTIFICATES = [issueDeviceCertificate('split-store-a'), issueDeviceCertificate('split-store-b'), issueDeviceCertificate('split-store-c')].map((c) => c.certDer);

function randomOp(rng: Rng): Op {
  const roll = rng.next();
  if (roll < 0.3) {
    const assignment: Assignment = { hubHost: `hub-${rng.int(0, 999)}.azure-devices.net`, deviceId: `dev-${rng.int(0, 99_999)}`, dps: DPS };
    if (rng.chance(0.5)) assignment.assignedAt = 1_700_000_000_000 + rng.int(0, 1e9);
    if (rng.chance(0.5)) assignment.substatus = rng.pick(['initialAssignment', 'deviceDataMigrated', 'reprovisionedToInitialAssignment']);
    return { kind: 'save-assignment', assignment };
  }
  if (roll < 0.4) return { kind: 'reset-assignment' };
  const tag = rng.pick(TAGS);
  if (roll < 0.5) return { kind: 'delete-tag', tag };
  const content: SecurityTagContent = {
    caCertificates: Array.from({ length: rng.int(0, 3) }, () => rng.pick(CERTIFICATES)),
    clientCertificates: Array.from({ length: rng.int(0, 2) }, () => rng.pick(CERTIFICATES)),
  };
  if (rng.chance(0.5)) content.privateKey = randomDerSequence(rng, 1200);
  if (rng.chance(0.7)) content.symmetricKey = randomBytes(rng, 64);
  return { kind: 'write-tag', tag, content };
}

function apply(flash: Flash, chunkBytes: number, op: Op): void {
  const store = createChunkedStore(flash, { domain: 'iot', chunkBytes });
  const result = (() => {
    switch (op.kind) {
      case 'save-assignment':
        return new AssignmentStore(store).save(op.assignment);
      case 'reset-assignment':
        return new AssignmentStore(store).reset();
      case 'write-tag':
        return new SecurityTagStore(store).write(op.tag, op.content);
      case 'delete-tag':
        return new SecurityTagStore(store).delete(op.tag);
    }
  })();
  // The record layer reports a cut write as write-failed; rethrow so the caller sees where the power went.
  if (!result.ok && flash.mutations >= flash.cutAfter) throw new PowerCut(result.error.message);
  if (!result.ok) throw new Error(`${op.kind} failed without a power cut: ${result.error.message}`);
}

function stateAfter(state: DeviceState, op: Op): DeviceState {
  const tags = new Map(state.tags);
  switch (op.kind) {
    case 'save-assignment':
      return { assignment: op.assignment, tags };
    case 'reset-assignment':
      return { assignment: undefined, tags };
    case 'write-tag': {
      const c = op.content;
      // The tag store deletes a tag written with no part at all.
      const empty = c.caCertificates.length === 0 && c.clientCertificates.length === 0 && c.privateKey === undefined && c.symmetricKey === undefined;
      if (empty) tags.delete(op.tag);
      else tags.set(op.tag, c);
      return { assignment: state.assignment, tags };
    }
    case 'delete-tag':
      tags.delete(op.tag);
      return { assignment: state.assignment, tags };
  }
}

/** What a rebooted device reads: every record, as plain data for comparison. */
function readBack(flash: Flash, chunkBytes: number): unknown {
  const store = createChunkedStore(flash, { domain: 'iot', chunkBytes });
  const loaded = new AssignmentStore(store).load(DPS);
  const tags = new SecurityTagStore(store);
  return {
    assignment: loaded.status === 'assigned' ? loaded.assignment : loaded.code,
    tags: TAGS.map((t) => {
      const read = tags.read(t);
      return read.ok ? read.value : read.error.code;
    }),
  };
}

function expected(state: DeviceState): unknown {
  return {
    assignment: state.assignment ?? 'missing',
    tags: TAGS.map((t) => {
      const content = state.tags.get(t);
      if (content === undefined) return 'missing';
      const copy: SecurityTagContent = { caCertificates: content.caCertificates, clientCertificates: content.clientCertificates };
      if (content.privateKey !== undefined) copy.privateKey = content.privateKey;
      if (content.symmetricKey !== undefined) copy.symmetricKey = content.symmetricKey;
      return copy;
    }),
  };
}

const SEED = seedFromEnv('STORE_SEED', 7919);

describe.each([
  ['nRF52-sized entries (63 bytes)', 63, 30],
  ['ESP32-sized entries (1984 bytes)', 1984, 120],
])('power cut at every write through the split store: %s', (_name, chunkBytes, operations) => {
  test(`${operations} random record operations, every cut point rebooted and read back (seed ${SEED}; STORE_SEED to replay)`, () => {
    const rng = new Rng(SEED + chunkBytes);
    let flash = new Flash();
    let state: DeviceState = { assignment: undefined, tags: new Map() };
    // The missing assignment reads as 'missing' (no record), which `expected` spells the same way.
    expect(readBack(flash, chunkBytes)).toEqual(expected(state));
    let cuts = 0;
    for (let i = 0; i < operations; i++) {
      const op = randomOp(rng);
      const next = stateAfter(state, op);
      const dry = flash.clone();
      apply(dry, chunkBytes, op);
      const writes = dry.mutations;
      const survivors: Array<{ flash: Flash; state: DeviceState }> = [{ flash: dry, state: next }];
      for (let k = 0; k < writes; k++) {
        const cut = flash.clone();
        cut.cutAfter = k;
        expect(() => apply(cut, chunkBytes, op)).toThrow(PowerCut);
        cuts++;
        const rebooted = cut.clone();
        const seen = readBack(rebooted, chunkBytes);
        const before = expected(state);
        const after = expected(next);
        const same = (a: unknown): boolean => JSON.stringify(a) === JSON.stringify(seen);
        if (!same(before) && !same(after)) {
          throw new Error(`seed ${SEED}, operation ${i} (${op.kind}), cut after write ${k} of ${writes}: read back neither the old nor the new records: ${JSON.stringify(seen).slice(0, 300)}`);
        }
        survivors.push({ flash: rebooted, state: same(after) ? next : state });
      }
      const chosen = rng.pick(survivors);
      flash = chosen.flash;
      state = chosen.state;
    }
    expect(readBack(flash, chunkBytes)).toEqual(expected(state));
    report(`split store (${chunkBytes}-byte entries): ${operations} operations, ${cuts} power cuts, each rebooted and read back (seed ${SEED})`);
  });
});
