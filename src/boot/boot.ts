// The boot flow: from power-on to a hub connection.
// - A stored assignment that matches the DPS inputs goes straight to the hub (no DPS traffic on later boots).
// - Otherwise the device registers with DPS (retrying what time can cure, with backoff), stores the assignment,
//   and only then opens the hub link: the DPS client has closed its connection before it reports the result.
// - While connected, the hub link reconnects by itself. The flow asks DPS again when the hub refuses the
//   credentials, or after `maxHubFailures` failed attempts in a row that are not network outages: the device may
//   have been moved to another hub. The new assignment replaces the stored one.
// - reset() deletes the stored assignment (and provisions again if the flow is running).
// Every step is logged in plain words. Each phase carries an epoch: when the flow moves on (stop, reset,
// re-provisioning) callbacks from the abandoned registration, timer or link see a stale epoch and do nothing.

import { errorText } from '../errors';
import { Emitter } from '../events';
import { backoffDelay, DEFAULT_BACKOFF, randomFromCrypto, type BackoffPolicy, type RandomSource } from '../failure/backoff';
import type { KeyValueStore, LogLevel, TimerHandle } from '../ports';
import { AssignmentStore, type Assignment, type DpsInputs } from '../storage/assignment-store';
import { signingIdentity, type SigningIdentity } from '../dps/dps-attestation';
import { DpsClient, type DpsClientDeps } from '../dps/dps-client';
import { DEFAULT_DPS_HOST } from '../dps/dps-endpoint';
import { DpsError } from '../dps/dps-errors';
import { decideDpsFailure } from '../dps/dps-failure';
import { isRetry } from '../failure/failure-policy';
import type { DpsRegisterOptions, DpsRegistrationResult } from '../dps/dps-options';
import type { StateMachine } from '../state-machine';
import { bootMachine, isBootRunning, type BootState } from './boot-state';
import type { HubFailure } from '../failure/assigned-hub';
import { credentialKind } from '../identity';
import type { HubConnector, HubLink } from './hub-connector';

export const DEFAULT_MAX_HUB_FAILURES = 10;

/** What registers the device; DpsClient is one. */
export interface Provisioner {
  register(options: DpsRegisterOptions): Promise<DpsRegistrationResult>;
  cancel(): void;
}

export interface BootDeps<Client> extends DpsClientDeps {
  store: KeyValueStore;
  hub: HubConnector<Client>;
  /** Default: a DpsClient on the same ports. */
  provisioner?: Provisioner;
  /** Jitter source in [0, 1); default from the crypto port. */
  random?: RandomSource;
}

export interface BootConfig {
  dps: DpsRegisterOptions;
  /** Failed hub attempts in a row (network outages not counted) before DPS is asked again. Default 10. */
  maxHubFailures?: number;
  /** Delays between DPS registrations that failed in a way time can cure. */
  backoff?: Partial<BackoffPolicy>;
  /** Key under which the assignment is stored (default `dps.assignment`). */
  assignmentKey?: string;
}

export interface BootConnected<Client> {
  client: Client;
  hubHost: string;
  deviceId: string;
  /** True when the assignment came from storage (DPS skipped on this boot). */
  fromStore: boolean;
}

export interface BootEvents<Client> {
  state: { state: BootState; previous: BootState };
  provisioned: { assignment: Assignment; stored: boolean };
  connected: BootConnected<Client>;
  failed: { error: Error };
}

function inSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

export class BootFlow<Client> extends Emitter<BootEvents<Client>> {
  private readonly machine: StateMachine<BootState, BootState>;
  private epoch = 0;
  private readonly assignments: AssignmentStore;
  private readonly provisioner: Provisioner;
  private readonly random: RandomSource;
  private readonly backoff: BackoffPolicy;
  private readonly maxHubFailures: number;

  private signing: SigningIdentity | undefined;
  private inputs: DpsInputs | undefined;
  private assignment: Assignment | undefined;
  private link: HubLink<Client> | undefined;
  private timer: TimerHandle | undefined;
  /** DPS attempts that failed in a row: the backoff exponent. */
  private dpsFailures = 0;
  /** Registrations since the hub last accepted a connection: re-provisioning loops back off too. */
  private provisionsWithoutHub = 0;
  /** Failed hub attempts in a row that count towards re-provisioning. */
  private hubFailures = 0;

  constructor(
    private readonly deps: BootDeps<Client>,
    private readonly config: BootConfig,
  ) {
    super();
    this.machine = bootMachine((message) => this.log('error', message));
    this.assignments = new AssignmentStore(deps.store, config.assignmentKey);
    this.provisioner = deps.provisioner ?? new DpsClient(deps);
    this.random = deps.random ?? randomFromCrypto(deps.crypto);
    this.backoff = { ...DEFAULT_BACKOFF, ...config.backoff };
    const max = config.maxHubFailures ?? DEFAULT_MAX_HUB_FAILURES;
    this.maxHubFailures = Number.isSafeInteger(max) && max >= 1 ? max : DEFAULT_MAX_HUB_FAILURES;
  }

  get state(): BootState {
    return this.machine.state;
  }

  /** The assignment in use (stored or fresh), if any. */
  get currentAssignment(): Assignment | undefined {
    return this.assignment;
  }

  /** The hub link's client while a link is open. */
  get client(): Client | undefined {
    return this.link?.client;
  }

  protected override listenerFailed(error: unknown, event: string): void {
    this.log('warn', `a '${event}' listener threw: ${errorText(error)}`);
  }

  /** Runs the flow; progress and outcome come as events. Ignored while already running. */
  start(): void {
    if (isBootRunning(this.machine.state)) return;
    const epoch = this.nextEpoch();
    this.move('loading');
    this.dpsFailures = 0;
    this.provisionsWithoutHub = 0;
    const signing = signingIdentity(this.config.dps.identity, this.deps.crypto.hmacSha256);
    if (!signing.ok) {
      this.fail(signing.error);
      return;
    }
    this.signing = signing.value;
    this.inputs = {
      globalEndpoint: this.config.dps.endpoint ?? DEFAULT_DPS_HOST,
      idScope: signing.value.idScope,
      registrationId: signing.value.registrationId,
      attestation: credentialKind(signing.value.credential),
    };
    const load = this.assignments.load(this.inputs);
    if (load.status === 'assigned') {
      const { hubHost, deviceId } = load.assignment;
      this.log('info', `found a stored assignment: hub ${hubHost}, device ${deviceId}; skipping DPS`);
      this.connectHub(epoch, load.assignment, true);
      return;
    }
    if (load.code === 'missing') this.log('info', 'no stored assignment; provisioning through DPS');
    else if (load.code === 'inputs-changed') this.log('info', `stored assignment not used (${load.message}); provisioning through DPS`);
    // Damaged or malformed: never used (it would stop every boot), replaced by the next assignment DPS gives.
    else this.log('warn', `stored assignment discarded (${load.message}); provisioning through DPS`);
    this.provision(epoch);
  }

  /** Stops whatever runs (registration, wait, hub link); resolves once the hub link is closed. */
  async stop(): Promise<void> {
    if (this.machine.state === 'stopped') return;
    this.nextEpoch();
    this.log('info', 'stopping');
    this.move('stopped');
    await this.abandonWork();
  }

  /** Deletes the stored assignment; a running flow provisions again at once. */
  async reset(): Promise<void> {
    const deleted = this.assignments.reset();
    if (deleted.ok) this.log('info', 'reset: the stored assignment is deleted');
    else this.log('error', `reset: could not delete the stored assignment (${deleted.error.message})`);
    this.assignment = undefined;
    if (!isBootRunning(this.machine.state) || this.machine.state === 'loading') return;
    await this.reprovision('reset asked for', true);
  }

  // ---- DPS -------------------------------------------------------------------------------------------------------

  private provision(epoch: number): void {
    if (!this.move('provisioning')) return;
    const dps = this.config.dps;
    const inputs = this.inputs as DpsInputs;
    this.log('info', `registering with DPS at ${inputs.globalEndpoint} (id scope ${inputs.idScope}, registration ${inputs.registrationId})`);
    const startedAt = this.deps.timers.now();
    this.provisionsWithoutHub++;
    this.provisioner.register(dps).then(
      (result) => {
        if (epoch === this.epoch) this.onProvisioned(epoch, result);
      },
      (error: unknown) => {
        if (epoch === this.epoch) this.onProvisionFailed(epoch, error, this.deps.timers.now() - startedAt);
      },
    );
  }

  private onProvisioned(epoch: number, result: DpsRegistrationResult): void {
    this.dpsFailures = 0;
    const assignment: Assignment = { hubHost: result.assignedHub, deviceId: result.deviceId, dps: this.inputs as DpsInputs };
    const now = this.deps.clock.unixMs();
    if (now !== undefined) assignment.assignedAt = now;
    if (result.substatus !== undefined) assignment.substatus = result.substatus;
    const saved = this.assignments.save(assignment);
    if (saved.ok) {
      this.log('info', `DPS assigned hub ${result.assignedHub}, device ${result.deviceId}; assignment stored for the next boots`);
    } else {
      this.log('warn', `DPS assigned hub ${result.assignedHub}, device ${result.deviceId}, but storing it failed (${saved.error.message}); the next boot provisions again`);
    }
    this.emit('provisioned', { assignment, stored: saved.ok });
    if (epoch === this.epoch) this.connectHub(epoch, assignment, false);
  }

  private onProvisionFailed(epoch: number, error: unknown, spentMs: number): void {
    // The failure policy's `dps` path decides (src/failure/failure-policy.ts); a stop is left by the firmware's slow retry.
    const decision = error instanceof DpsError ? decideDpsFailure(error) : 'stop-until-new-credentials';
    if (!(error instanceof DpsError) || !isRetry(decision)) {
      this.fail(error, 'provisioning stopped until the enrollment or credentials change');
      return;
    }
    const delay = this.dpsDelay(spentMs, decision === 'retry-throttled', error.retryAfterSeconds);
    this.dpsFailures++;
    this.log('warn', `provisioning failed (${error.message}); trying again in ${inSeconds(delay)}`);
    this.waitThenProvision(epoch, delay);
  }

  private dpsDelay(spentMs: number, throttled: boolean, retryAfterSeconds?: number): number {
    const delay = backoffDelay({ attempt: this.dpsFailures, attemptDurationMs: spentMs, throttled, random: this.random() }, this.backoff);
    return Math.max(delay, (retryAfterSeconds ?? 0) * 1000);
  }

  private waitThenProvision(epoch: number, delayMs: number): void {
    if (!this.move('provision-wait')) return;
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      if (epoch === this.epoch) this.provision(epoch);
    }, delayMs);
  }

  // ---- The hub ---------------------------------------------------------------------------------------------------

  private connectHub(epoch: number, assignment: Assignment, fromStore: boolean): void {
    if (!this.move('connecting')) return;
    this.assignment = assignment;
    this.hubFailures = 0;
    const { hubHost, deviceId } = assignment;
    this.log('info', `connecting to hub ${hubHost} as device ${deviceId}`);
    let link: HubLink<Client>;
    try {
      link = this.deps.hub.open(
        { hubHost, deviceId, credential: (this.signing as SigningIdentity).credential },
        {
          onConnected: () => {
            if (epoch === this.epoch && this.link === link) this.onHubConnected(link, assignment, fromStore);
          },
          onFailure: (failure) => {
            if (epoch === this.epoch && this.link === link) this.onHubFailure(failure);
          },
        },
      );
    } catch (error) {
      this.fail(error, 'the hub connection could not be set up');
      return;
    }
    // The link may have reported synchronously from open(); only a link that is still current is kept.
    if (epoch === this.epoch && (this.machine.state === 'connecting' || this.machine.state === 'connected')) this.link = link;
    else void link.close();
  }

  private onHubConnected(link: HubLink<Client>, assignment: Assignment, fromStore: boolean): void {
    if (this.machine.state === 'connected') return;
    if (!this.move('connected')) return;
    this.hubFailures = 0;
    this.dpsFailures = 0;
    this.provisionsWithoutHub = 0;
    this.log('info', `connected to hub ${assignment.hubHost} as device ${assignment.deviceId}`);
    this.emit('connected', { client: link.client, hubHost: assignment.hubHost, deviceId: assignment.deviceId, fromStore });
  }

  private onHubFailure(failure: HubFailure): void {
    if (this.machine.state === 'connected') this.move('connecting');
    if (failure.kind === 'auth') {
      this.log('warn', `the hub refused the credentials (${failure.message})`);
      void this.reprovision('the hub refused the credentials; the device may have moved');
      return;
    }
    if (failure.final) {
      this.fail(new Error(failure.message), 'the hub connection gave up');
      return;
    }
    if (failure.kind === 'network') {
      this.log('info', `hub unreachable (${failure.message}); waiting for the network, not counted against the assignment`);
      return;
    }
    this.hubFailures++;
    this.log('warn', `hub connection failed (${failure.message}); failure ${this.hubFailures} of ${this.maxHubFailures} before asking DPS again`);
    if (this.hubFailures >= this.maxHubFailures) {
      void this.reprovision(`${this.hubFailures} hub connection failures in a row; the assignment may have moved`);
    }
  }

  /**
   * Closes the link (or stops the registration under way), then asks DPS again: at once when asked to (reset) or
   * when the hub accepted the previous assignment, after a backoff when that assignment never reached the hub.
   */
  private async reprovision(reason: string, immediate = false): Promise<void> {
    // A second request while the first is closing things down simply takes over from it.
    const again = this.machine.state === 'reprovisioning';
    if (!again && !this.machine.can('reprovisioning')) return;
    const epoch = this.nextEpoch();
    if (!again) this.move('reprovisioning');
    this.log('info', `provisioning again: ${reason}`);
    await this.abandonWork();
    if (epoch !== this.epoch) return;
    if (immediate) {
      this.provisionsWithoutHub = 0;
      this.dpsFailures = 0;
    } else if (this.provisionsWithoutHub > 0) {
      const delay = this.dpsDelay(0, false);
      this.dpsFailures++;
      this.log('info', `the last assignment never reached the hub; asking DPS again in ${inSeconds(delay)}`);
      this.waitThenProvision(epoch, delay);
      return;
    }
    this.provision(epoch);
  }

  // ---- Helpers ---------------------------------------------------------------------------------------------------

  /** Stops the registration, the timer and the hub link of the abandoned epoch. */
  private async abandonWork(): Promise<void> {
    this.provisioner.cancel();
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const link = this.link;
    this.link = undefined;
    if (link !== undefined) {
      try {
        await link.close();
      } catch (error) {
        this.log('warn', `closing the hub connection failed: ${errorText(error)}`);
      }
    }
  }

  /** Ends in 'failed'; whatever was thrown is reported as an Error. */
  private fail(thrown: unknown, context?: string): void {
    if (this.machine.state === 'failed' || this.machine.state === 'stopped') return;
    const error = thrown instanceof Error ? thrown : new Error(errorText(thrown));
    this.nextEpoch();
    this.log('error', `${context === undefined ? 'boot failed' : context}: ${error.message}`);
    this.move('failed');
    void this.abandonWork();
    this.emit('failed', { error });
  }

  private nextEpoch(): number {
    return ++this.epoch;
  }

  /** Moves along BOOT_MOVES; an illegal move is refused by the helper's one policy (a bug in this file). */
  private move(next: BootState): boolean {
    const previous = this.machine.state;
    if (!this.machine.move(next)) return false;
    this.log('debug', `state ${previous} -> ${next}`);
    this.emit('state', { state: next, previous });
    return true;
  }

  private log(level: LogLevel, message: string): void {
    this.deps.logger.log(level, `boot: ${message}`);
  }
}
