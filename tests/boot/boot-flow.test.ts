// The boot flow's decisions, step by step: stored assignment or DPS, storing, re-provisioning after hub failures,
// reset, retries with backoff, final failures, and the plain-words log.
import { DpsError } from '../../src/dps/dps-errors';
import { ASSIGNMENT_KEY, AssignmentStore } from '../../src/storage/assignment-store';
import { encodeRecord, RecordKind } from '../../src/storage/record';
import { CONFIG, HUB_A, HUB_B, KEY, settle, setupBoot } from './boot-fixture';

const INPUTS = { globalEndpoint: 'dps.test:8884', idScope: '0ne00000001', registrationId: 'dev-1', attestation: 'symmetric-key' as const };

describe('first boot: provision, store, connect', () => {
  test('DPS is asked, the assignment stored, and only then the hub link opened', async () => {
    const fx = setupBoot();
    fx.boot.start();
    expect(fx.provisioner.calls).toHaveLength(1);
    expect(fx.provisioner.last.options).toBe(CONFIG.dps);
    expect(fx.hub.links).toHaveLength(0);
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    expect(new AssignmentStore(fx.store).load(INPUTS)).toEqual({
      status: 'assigned',
      assignment: { hubHost: 'hub-a.azure-devices.net', deviceId: 'dev-1', dps: INPUTS, assignedAt: 1_700_000_000_000, substatus: 'initialAssignment' },
    });
    expect(fx.hub.last.target).toEqual({ hubHost: 'hub-a.azure-devices.net', deviceId: 'dev-1', credential: { kind: 'sas', key: KEY } });
    fx.hub.last.connected();
    expect(fx.events).toEqual([
      'state:loading',
      'state:provisioning',
      'provisioned:hub-a.azure-devices.net:stored',
      'state:connecting',
      'state:connected',
      'connected:hub-a.azure-devices.net',
    ]);
    expect(fx.boot.client).toEqual({ name: 'fake hub client' });
  });

  test('every step is logged in plain words', async () => {
    const fx = setupBoot();
    fx.boot.start();
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    fx.hub.last.connected();
    expect(fx.logs.filter((l) => !l.startsWith('debug'))).toEqual([
      'info boot: no stored assignment; provisioning through DPS',
      'info boot: registering with DPS at dps.test:8884 (id scope 0ne00000001, registration dev-1)',
      'info boot: DPS assigned hub hub-a.azure-devices.net, device dev-1; assignment stored for the next boots',
      'info boot: connecting to hub hub-a.azure-devices.net as device dev-1',
      'info boot: connected to hub hub-a.azure-devices.net as device dev-1',
    ]);
  });

  test('the group-key device signs in at the hub with its derived key', async () => {
    const groupKey = '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==';
    const registrationId = 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6';
    const fx = setupBoot({ config: { dps: { ...CONFIG.dps, identity: { kind: 'dps', idScope: '0ne00000001', registrationId, credential: { kind: 'sas', key: groupKey }, enrollmentGroup: true } } } });
    fx.boot.start();
    fx.provisioner.last.resolve({ ...HUB_A, deviceId: registrationId, registrationId });
    await settle();
    expect(fx.hub.last.target.credential).toEqual({ kind: 'sas', key: 'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=' });
  });

  test('a store that cannot write still connects, and says the next boot provisions again', async () => {
    const fx = setupBoot();
    fx.store.set = () => {
      throw new Error('flash full');
    };
    fx.boot.start();
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    expect(fx.events).toContain('provisioned:hub-a.azure-devices.net:not stored');
    expect(fx.hub.links).toHaveLength(1);
    expect(fx.logs.some((l) => l.startsWith('warn boot:') && l.includes('storing it failed') && l.includes('flash full'))).toBe(true);
  });
});

describe('later boots', () => {
  test('a stored assignment goes straight to the hub without DPS', async () => {
    const first = setupBoot();
    first.boot.start();
    first.provisioner.last.resolve(HUB_A);
    await settle();
    const reboot = setupBoot({ store: first.store });
    reboot.boot.start();
    expect(reboot.provisioner.calls).toHaveLength(0);
    expect(reboot.hub.last.target.hubHost).toBe('hub-a.azure-devices.net');
    reboot.hub.last.connected();
    expect(reboot.events).toEqual(['state:loading', 'state:connecting', 'state:connected', 'connected:hub-a.azure-devices.net:from-store']);
    expect(reboot.logs).toContain('info boot: found a stored assignment: hub hub-a.azure-devices.net, device dev-1; skipping DPS');
  });

  test('a stored assignment for other DPS inputs is not used', async () => {
    const fx = setupBoot();
    new AssignmentStore(fx.store).save({ hubHost: 'old-hub', deviceId: 'dev-1', dps: { ...INPUTS, idScope: '0ne99999999' } });
    fx.boot.start();
    expect(fx.provisioner.calls).toHaveLength(1);
    expect(fx.logs).toContain('info boot: stored assignment not used (DPS idScope changed since the device was assigned); provisioning through DPS');
  });

  test('a stored assignment with a valid checksum but a malformed hub host is discarded with a warning and re-provisioned', async () => {
    const fx = setupBoot();
    const body = new TextEncoder().encode(JSON.stringify({ hubHost: 'hub-a.azure-devices.net/#', deviceId: 'dev-1', dps: INPUTS }));
    fx.store.set(ASSIGNMENT_KEY, encodeRecord(RecordKind.assignment, 1, body));
    fx.boot.start();
    expect(fx.hub.links).toHaveLength(0);
    expect(fx.provisioner.calls).toHaveLength(1);
    expect(fx.logs).toContainEqual(expect.stringMatching(/^warn boot: stored assignment discarded \(dps\.assignment holds a malformed assignment: hubHost: character at offset 23 is not allowed .*\); provisioning through DPS$/));
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    expect(fx.hub.last.target).toMatchObject({ hubHost: 'hub-a.azure-devices.net', deviceId: 'dev-1' });
    // The good assignment replaced the malformed one: the next boot skips DPS.
    const reboot = setupBoot({ store: fx.store });
    reboot.boot.start();
    expect(reboot.provisioner.calls).toHaveLength(0);
  });
});

describe('re-provisioning when the hub keeps refusing', () => {
  async function connectedFixture() {
    const fx = setupBoot();
    fx.boot.start();
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    fx.hub.last.connected();
    return fx;
  }

  test('an authentication failure closes the link, asks DPS again at once and stores the new hub', async () => {
    const fx = await connectedFixture();
    const first = fx.hub.last;
    first.fail('auth', 'CONNACK 5 not authorized', true);
    await settle();
    expect(first.closed).toBe(true);
    expect(fx.provisioner.calls).toHaveLength(2);
    fx.provisioner.last.resolve(HUB_B);
    await settle();
    expect(fx.hub.last.target.hubHost).toBe('hub-b.azure-devices.net');
    expect(new AssignmentStore(fx.store).load(INPUTS)).toMatchObject({ assignment: { hubHost: 'hub-b.azure-devices.net', substatus: 'reprovisionedToInitialAssignment' } });
    expect(fx.logs).toContain('info boot: provisioning again: the hub refused the credentials; the device may have moved');
  });

  test('ten failures that are not network outages re-provision; nine do not; network outages never count', async () => {
    const fx = await connectedFixture();
    const link = fx.hub.last;
    for (let i = 0; i < 9; i++) link.fail('other', 'CONNACK 3 server unavailable');
    for (let i = 0; i < 20; i++) link.fail('network', 'connection refused');
    await settle();
    expect(fx.provisioner.calls).toHaveLength(1);
    expect(fx.logs).toContain('warn boot: hub connection failed (CONNACK 3 server unavailable); failure 9 of 10 before asking DPS again');
    link.fail('other', 'CONNACK 3 server unavailable');
    await settle();
    expect(link.closed).toBe(true);
    expect(fx.provisioner.calls).toHaveLength(2);
    expect(fx.logs).toContain('info boot: provisioning again: 10 hub connection failures in a row; the assignment may have moved');
  });

  test('a successful connection resets the count', async () => {
    const fx = await connectedFixture();
    const link = fx.hub.last;
    for (let i = 0; i < 9; i++) link.fail('other');
    link.connected();
    for (let i = 0; i < 9; i++) link.fail('other');
    await settle();
    expect(fx.provisioner.calls).toHaveLength(1);
    expect(fx.boot.state).toBe('connecting');
  });

  test('maxHubFailures is configurable', async () => {
    const fx = setupBoot({ config: { maxHubFailures: 2 } });
    fx.boot.start();
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    fx.hub.last.fail('other');
    fx.hub.last.fail('other');
    await settle();
    // This assignment never reached the hub, so DPS is asked again after the first backoff step.
    expect(fx.boot.state).toBe('provision-wait');
    await fx.advance(1000);
    expect(fx.provisioner.calls).toHaveLength(2);
  });

  test('when the new assignment is refused too, DPS is asked again only after a backoff', async () => {
    const fx = await connectedFixture();
    fx.hub.last.fail('auth', 'refused', true);
    await settle();
    fx.provisioner.last.resolve(HUB_B);
    await settle();
    fx.hub.last.fail('auth', 'refused again', true);
    await settle();
    expect(fx.provisioner.calls).toHaveLength(2);
    expect(fx.boot.state).toBe('provision-wait');
    await fx.advance(999);
    expect(fx.provisioner.calls).toHaveLength(2);
    await fx.advance(1);
    expect(fx.provisioner.calls).toHaveLength(3);
  });

  test('a failure from an abandoned link is ignored', async () => {
    const fx = await connectedFixture();
    const old = fx.hub.last;
    old.fail('auth', 'refused', true);
    await settle();
    old.fail('auth', 'late', true);
    old.connected();
    await settle();
    expect(fx.provisioner.calls).toHaveLength(2);
    expect(fx.boot.state).toBe('provisioning');
  });
});

describe('reset', () => {
  test('deletes the stored assignment and provisions again', async () => {
    const fx = setupBoot();
    fx.boot.start();
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    fx.hub.last.connected();
    await fx.boot.reset();
    expect(fx.store.get('dps.assignment')).toBeUndefined();
    expect(fx.hub.links[0]!.closed).toBe(true);
    expect(fx.provisioner.calls).toHaveLength(2);
    expect(fx.logs).toContain('info boot: reset: the stored assignment is deleted');
  });

  test('when not running it only deletes; the next start provisions', async () => {
    const first = setupBoot();
    first.boot.start();
    first.provisioner.last.resolve(HUB_A);
    await settle();
    await first.boot.stop();
    await first.boot.reset();
    expect(first.provisioner.calls).toHaveLength(1);
    const reboot = setupBoot({ store: first.store });
    reboot.boot.start();
    expect(reboot.provisioner.calls).toHaveLength(1);
  });

  test('during a registration it abandons it and starts a new one', async () => {
    const fx = setupBoot();
    fx.boot.start();
    const first = fx.provisioner.last;
    await fx.boot.reset();
    expect(fx.provisioner.cancels).toBe(1);
    expect(fx.provisioner.calls).toHaveLength(2);
    first.resolve(HUB_B);
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    expect(fx.hub.links.map((l) => l.target.hubHost)).toEqual(['hub-a.azure-devices.net']);
  });
});

describe('DPS failures', () => {
  test('retryable errors are retried with growing backoff; retry-after is a floor', async () => {
    const fx = setupBoot();
    fx.boot.start();
    fx.provisioner.last.reject(new DpsError('connect-failed', 'could not connect to DPS: refused', { retryable: true }));
    await settle();
    expect(fx.boot.state).toBe('provision-wait');
    expect(fx.logs).toContain('warn boot: provisioning failed (could not connect to DPS: refused); trying again in 1 s');
    await fx.advance(1000);
    expect(fx.provisioner.calls).toHaveLength(2);
    fx.provisioner.last.reject(new DpsError('service-error', 'busy', { retryable: true, status: 503, retryAfterSeconds: 30 }));
    await settle();
    await fx.advance(29_999);
    expect(fx.provisioner.calls).toHaveLength(2);
    await fx.advance(1);
    expect(fx.provisioner.calls).toHaveLength(3);
    fx.provisioner.last.reject(new DpsError('too-many-requests', 'throttled', { retryable: true, status: 429 }));
    await settle();
    // Throttling waits at least the 10 s floor (jitter source 0 here).
    await fx.advance(9_999);
    expect(fx.provisioner.calls).toHaveLength(3);
    await fx.advance(1);
    expect(fx.provisioner.calls).toHaveLength(4);
  });

  test('a final error ends the flow in failed with the error', async () => {
    const fx = setupBoot();
    fx.boot.start();
    const error = new DpsError('enrollment-disabled', 'the enrollment for this device is disabled in DPS (status disabled)', { retryable: false });
    fx.provisioner.last.reject(error);
    await settle();
    expect(fx.boot.state).toBe('failed');
    expect(fx.events[fx.events.length - 1]).toBe('failed:the enrollment for this device is disabled in DPS (status disabled)');
    expect(fx.logs).toContain('error boot: provisioning stopped until the enrollment or credentials change: the enrollment for this device is disabled in DPS (status disabled)');
    await fx.advance(600_000);
    expect(fx.provisioner.calls).toHaveLength(1);
  });

  test('bad attestation fails before anything is asked', () => {
    const fx = setupBoot({ config: { dps: { ...CONFIG.dps, identity: { kind: 'dps', idScope: '0ne00000001', credential: { kind: 'x509', chain: [], privateKey: new Uint8Array(1) } } } } });
    fx.boot.start();
    expect(fx.boot.state).toBe('failed');
    expect(fx.provisioner.calls).toHaveLength(0);
  });
});

describe('hub link problems that end the flow', () => {
  test('a link that gives up for a reason other than auth ends in failed', async () => {
    const fx = setupBoot();
    fx.boot.start();
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    fx.hub.last.fail('other', 'hostName: invalid', true);
    await settle();
    expect(fx.boot.state).toBe('failed');
    expect(fx.hub.last.closed).toBe(true);
  });

  test('a connector that throws ends in failed naming the problem', async () => {
    const fx = setupBoot();
    fx.hub.throwOnOpen = new Error('credentials: hostName is invalid');
    fx.boot.start();
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    expect(fx.boot.state).toBe('failed');
    expect(fx.logs).toContain('error boot: the hub connection could not be set up: credentials: hostName is invalid');
  });
});

describe('stop', () => {
  test('stops the registration, the wait or the link, and nothing happens afterwards', async () => {
    const fx = setupBoot();
    fx.boot.start();
    fx.provisioner.last.reject(new DpsError('timeout', 'slow', { retryable: true }));
    await settle();
    await fx.boot.stop();
    expect(fx.boot.state).toBe('stopped');
    await fx.advance(600_000);
    expect(fx.provisioner.calls).toHaveLength(1);
    expect(fx.clock.pendingCount).toBe(0);
  });

  test('a stopped flow starts again from the store', async () => {
    const fx = setupBoot();
    fx.boot.start();
    fx.provisioner.last.resolve(HUB_A);
    await settle();
    await fx.boot.stop();
    expect(fx.hub.last.closed).toBe(true);
    fx.boot.start();
    expect(fx.provisioner.calls).toHaveLength(1);
    expect(fx.hub.links).toHaveLength(2);
  });
});
