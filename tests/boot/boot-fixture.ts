// The boot flow on the virtual clock with a scripted provisioner and a fake hub connector, so each decision
// (skip DPS, store, re-provision, back off) can be driven step by step.
import { VirtualClock, settle } from '../../hosts/virtual';
import { createMemoryStore } from '../../hosts/node/memory-store';
import { createNodeCrypto } from '../../hosts/node/node-crypto';
import { BootFlow, type BootConfig, type Provisioner } from '../../src/boot/boot';
import type { HubFailure } from '../../src/failure/assigned-hub';
import type { HubConnector, HubLinkEvents, HubTarget } from '../../src/boot/hub-connector';
import type { DpsRegisterOptions, DpsRegistrationResult } from '../../src/dps/dps-options';
import type { KeyValueStore } from '../../src/ports';

export { settle };

export const KEY = Buffer.alloc(32, 1).toString('base64');

export const CONFIG: BootConfig = {
  dps: {
    identity: { kind: 'dps', idScope: '0ne00000001', registrationId: 'dev-1', credential: { kind: 'sas', key: KEY } },
    endpoint: 'dps.test:8884',
    trustedCAs: [new Uint8Array([0x30, 0])],
  },
};

export const HUB_A: DpsRegistrationResult = { assignedHub: 'hub-a.azure-devices.net', deviceId: 'dev-1', registrationId: 'dev-1', substatus: 'initialAssignment' };
export const HUB_B: DpsRegistrationResult = { assignedHub: 'hub-b.azure-devices.net', deviceId: 'dev-1', registrationId: 'dev-1', substatus: 'reprovisionedToInitialAssignment' };

interface Call {
  options: DpsRegisterOptions;
  resolve(result: DpsRegistrationResult): void;
  reject(error: Error): void;
}

export class FakeProvisioner implements Provisioner {
  readonly calls: Call[] = [];
  cancels = 0;

  register(options: DpsRegisterOptions): Promise<DpsRegistrationResult> {
    return new Promise((resolve, reject) => this.calls.push({ options, resolve, reject }));
  }

  cancel(): void {
    this.cancels++;
  }

  get last(): Call {
    const call = this.calls[this.calls.length - 1];
    if (call === undefined) throw new Error('no registration was started');
    return call;
  }
}

export class FakeLink {
  closed = false;
  readonly client = { name: 'fake hub client' };
  constructor(
    readonly target: HubTarget,
    private readonly events: HubLinkEvents,
  ) {}

  connected(): void {
    this.events.onConnected();
  }

  fail(kind: HubFailure['kind'], message = `${kind} failure`, final = false): void {
    this.events.onFailure({ kind, message, final });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

export class FakeConnector implements HubConnector<{ name: string }> {
  readonly links: FakeLink[] = [];
  throwOnOpen: Error | undefined;

  open(target: HubTarget, events: HubLinkEvents): FakeLink {
    if (this.throwOnOpen) throw this.throwOnOpen;
    const link = new FakeLink(target, events);
    this.links.push(link);
    return link;
  }

  get last(): FakeLink {
    const link = this.links[this.links.length - 1];
    if (link === undefined) throw new Error('no hub link was opened');
    return link;
  }
}

export interface BootFixture {
  clock: VirtualClock;
  store: KeyValueStore;
  provisioner: FakeProvisioner;
  hub: FakeConnector;
  boot: BootFlow<{ name: string }>;
  logs: string[];
  /** 'state:connecting', 'provisioned:hub-a...', 'connected:...', 'failed:...' in order. */
  events: string[];
  advance(ms: number): Promise<void>;
}

export function setupBoot(options: { store?: KeyValueStore; config?: Partial<BootConfig> } = {}): BootFixture {
  const clock = new VirtualClock();
  const store = options.store ?? createMemoryStore();
  const provisioner = new FakeProvisioner();
  const hub = new FakeConnector();
  const logs: string[] = [];
  const events: string[] = [];
  const boot = new BootFlow(
    {
      transport: { connect: () => { throw new Error('the boot tests never open a transport'); } },
      timers: clock,
      clock: { unixMs: () => 1_700_000_000_000 },
      crypto: createNodeCrypto(),
      logger: { log: (level, message) => logs.push(`${level} ${message}`) },
      store,
      hub,
      provisioner,
      random: () => 0,
    },
    { ...CONFIG, ...options.config },
  );
  boot.on('state', ({ state }) => events.push(`state:${state}`));
  boot.on('provisioned', ({ assignment, stored }) => events.push(`provisioned:${assignment.hubHost}:${stored ? 'stored' : 'not stored'}`));
  boot.on('connected', ({ hubHost, fromStore }) => events.push(`connected:${hubHost}${fromStore ? ':from-store' : ''}`));
  boot.on('failed', ({ error }) => events.push(`failed:${error.message}`));
  return {
    clock,
    store,
    provisioner,
    hub,
    boot,
    logs,
    events,
    async advance(ms) {
      await clock.advanceSettled(ms);
      await settle();
    },
  };
}
