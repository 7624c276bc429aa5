import { createMemoryStore } from '../../hosts/node/memory-store';
import { ASSIGNMENT_KEY, AssignmentStore, type Assignment, type DpsInputs } from '../../src/storage/assignment-store';
import { encodeRecord, RecordKind } from '../../src/storage/record';
import type { KeyValueStore } from '../../src/ports';

const DPS: DpsInputs = {
  globalEndpoint: 'global.azure-devices-provisioning.net',
  idScope: '0ne00000001',
  registrationId: 'sn-007',
  attestation: 'symmetric-key',
};
const ASSIGNED: Assignment = { hubHost: 'hub1.azure-devices.net', deviceId: 'sn-007', dps: DPS, assignedAt: 1_700_000_000_000, substatus: 'initialAssignment' };

function countingStore() {
  const inner = createMemoryStore();
  const calls: string[] = [];
  const store: KeyValueStore = {
    get: (k) => inner.get(k),
    set: (k, v) => (calls.push(`set ${k}`), inner.set(k, v)),
    delete: (k) => (calls.push(`delete ${k}`), inner.delete(k)),
    keys: () => inner.keys(),
  };
  return { store, calls };
}

describe('assignment round trip', () => {
  test('save writes one record under one key in one set; load returns it', () => {
    const { store, calls } = countingStore();
    const assignments = new AssignmentStore(store);
    expect(assignments.save(ASSIGNED)).toEqual({ ok: true });
    expect(calls).toEqual([`set ${ASSIGNMENT_KEY}`]);
    expect(store.keys()).toEqual(['dps.assignment']);
    expect(assignments.load(DPS)).toEqual({ status: 'assigned', assignment: ASSIGNED });
  });

  test('optional fields may be left out', () => {
    const assignments = new AssignmentStore(createMemoryStore());
    const minimal = { hubHost: 'h.azure-devices.net', deviceId: 'd', dps: DPS };
    assignments.save(minimal);
    expect(assignments.load(DPS)).toEqual({ status: 'assigned', assignment: minimal });
  });

  test('reset deletes it', () => {
    const { store, calls } = countingStore();
    const assignments = new AssignmentStore(store);
    assignments.save(ASSIGNED);
    expect(assignments.reset()).toEqual({ ok: true });
    expect(calls.at(-1)).toBe(`delete ${ASSIGNMENT_KEY}`);
    expect(assignments.load(DPS)).toEqual({ status: 'absent', code: 'missing', message: 'no record stored' });
  });
});

describe('changed DPS inputs make the assignment absent, so the device provisions again', () => {
  const assignments = new AssignmentStore(createMemoryStore());
  assignments.save(ASSIGNED);

  test.each([
    ['idScope', { ...DPS, idScope: '0ne00000002' }],
    ['registrationId', { ...DPS, registrationId: 'sn-008' }],
    ['attestation', { ...DPS, attestation: 'x509' as const }],
    ['globalEndpoint', { ...DPS, globalEndpoint: 'other.azure-devices-provisioning.net' }],
  ])('%s', (field, current) => {
    expect(assignments.load(current)).toEqual({ status: 'absent', code: 'inputs-changed', message: `DPS ${field} changed since the device was assigned` });
  });

  test('the endpoint host name compares without case', () => {
    expect(assignments.load({ ...DPS, globalEndpoint: 'Global.Azure-Devices-Provisioning.net' }).status).toBe('assigned');
  });

  test('several changes are all named', () => {
    const load = assignments.load({ ...DPS, idScope: 'x', registrationId: 'y' });
    expect(load).toMatchObject({ code: 'inputs-changed', message: 'DPS idScope, registrationId changed since the device was assigned' });
  });
});

describe('damaged or foreign records read as absent with a reason', () => {
  test('every single-byte flip', () => {
    const store = createMemoryStore();
    const assignments = new AssignmentStore(store);
    assignments.save(ASSIGNED);
    const good = store.get(ASSIGNMENT_KEY)!;
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 0x20;
      store.set(ASSIGNMENT_KEY, bad);
      const load = assignments.load(DPS);
      expect([i, load.status]).toEqual([i, 'absent']);
    }
  });

  test('a sound frame with the wrong shape is bad-body', () => {
    const store = createMemoryStore();
    const body = new TextEncoder().encode(JSON.stringify({ hubHost: 'h', dps: DPS }));
    store.set(ASSIGNMENT_KEY, encodeRecord(RecordKind.assignment, 1, body));
    expect(new AssignmentStore(store).load(DPS)).toMatchObject({ status: 'absent', code: 'bad-body' });
    store.set(ASSIGNMENT_KEY, encodeRecord(RecordKind.assignment, 1, new TextEncoder().encode('{not json')));
    expect(new AssignmentStore(store).load(DPS)).toMatchObject({ status: 'absent', code: 'bad-body', message: 'dps.assignment is not JSON' });
  });

  test('a store that throws on read is absent, not a crash', () => {
    const store = { ...createMemoryStore(), get: () => { throw new Error('flash read error'); } };
    expect(new AssignmentStore(store).load(DPS)).toMatchObject({ status: 'absent', code: 'missing' });
  });
});

describe('a sound record whose hub host or device id is malformed reads as absent, so the device provisions again', () => {
  const storeWith = (fields: Record<string, unknown>) => {
    const store = createMemoryStore();
    const body = new TextEncoder().encode(JSON.stringify({ ...ASSIGNED, ...fields }));
    store.set(ASSIGNMENT_KEY, encodeRecord(RecordKind.assignment, 1, body)); // valid CRC: only the content is wrong
    return store;
  };

  test.each([
    ['a host with a path and a wildcard', { hubHost: 'hub1.azure-devices.net/#' }, /^dps\.assignment holds a malformed assignment: hubHost: character at offset 22 is not allowed/],
    ['a host with an empty label', { hubHost: 'hub1..azure-devices.net' }, /^dps\.assignment holds a malformed assignment: hubHost: has an empty label$/],
    ['a device id with a topic separator', { deviceId: 'sn-007/+' }, /^dps\.assignment holds a malformed assignment: deviceId: character at offset 6 is not allowed/],
    ['a device id of 129 characters', { deviceId: 'd'.repeat(129) }, /^dps\.assignment holds a malformed assignment: deviceId: is 129 characters long; the limit is 128$/],
  ])('%s', (_, fields, message) => {
    const assignments = new AssignmentStore(storeWith(fields));
    const load = assignments.load(DPS);
    expect(load).toMatchObject({ status: 'absent', code: 'bad-body' });
    expect(load.status === 'absent' && load.message).toMatch(message);
    expect(assignments.peek()).toMatchObject({ status: 'absent', code: 'bad-body' });
  });

  test('save refuses them too, naming the field', () => {
    const assignments = new AssignmentStore(createMemoryStore());
    expect(assignments.save({ ...ASSIGNED, hubHost: 'hub one' })).toMatchObject({ ok: false, error: { code: 'invalid-field', field: 'hubHost' } });
    expect(assignments.save({ ...ASSIGNED, deviceId: 'a#b' })).toMatchObject({ ok: false, error: { code: 'invalid-field', field: 'deviceId' } });
    expect(assignments.save({ ...ASSIGNED, hubHost: 'localhost:8883' })).toEqual({ ok: true }); // a local hub's port is allowed
  });
});

describe('save refuses incomplete assignments and reports failed writes', () => {
  const assignments = new AssignmentStore(createMemoryStore());

  test.each([
    ['hubHost', { ...ASSIGNED, hubHost: '' }],
    ['deviceId', { ...ASSIGNED, deviceId: '' }],
    ['dps.idScope', { ...ASSIGNED, dps: { ...DPS, idScope: '' } }],
    ['dps.attestation', { ...ASSIGNED, dps: { ...DPS, attestation: 'tpm' } }],
    ['assignedAt', { ...ASSIGNED, assignedAt: Number.NaN }],
  ])('%s', (field, bad) => {
    expect(assignments.save(bad as Assignment)).toMatchObject({ ok: false, error: { code: 'invalid-field', field } });
  });

  test('a store that throws on write gives write-failed', () => {
    const store = { ...createMemoryStore(), set: () => { throw new Error('ENOSPC'); } };
    expect(new AssignmentStore(store).save(ASSIGNED)).toEqual({
      ok: false,
      error: { code: 'write-failed', message: 'writing dps.assignment failed: ENOSPC' },
    });
  });
});
