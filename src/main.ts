// The firmware's main job, the same on every host: check the configuration, wait for a real wall clock, find the
// identity (connection string, DPS, or what is stored on the device), provision through DPS when needed,
// connect to the hub, then run the device behaviour (src/app/firmware-app.ts) until stopped.
// Hosts call `startFirmware(host, config, platform)` with their ports and a few platform facts (default roots,
// how to reboot, a real sensor if the board has one); hosts/node/main-node.ts and hosts/moddable/main-moddable.ts
// are the two callers.

import { errorText } from './errors';
import { Emitter } from './events';
import type { HostPorts, LogLevel, Logger, TransportFactory } from './ports';
import { TransportSelector } from './ws/transport-select';
import type { webSocketTransport } from './ws/ws-transport';
import { HubClient } from './hub/hub-client';
import type { HubClientConfig } from './hub/hub-settings';
import { BootFlow, type BootDeps } from './boot/boot';
import type { HubConnector } from './boot/hub-connector';
import { hubClientConnector, type HubLinkSettings } from './boot/hub-client-connector';
import type { BootState } from './boot/boot-state';
import type { HubCredentials } from './hub/credentials';
import type { Journaling } from './hub/hub-types';
import { buildTrustList, type NamedRoot } from './trust/trust-store';
import { describeIdentity, parseAppConfig, type AppConfig } from './app/config';
import { waitForClock, type ClockWait } from './app/clock-gate';
import { FIRMWARE_VERSION } from './app/device-info';
import { FirmwareApp } from './app/firmware-app';
import { firmwareMachine, type FirmwareState } from './app/firmware-state';
import type { StateMachine } from './state-machine';
import { UnsentReadings } from './app/unsent-readings';
import { resolveIdentity, type DpsRegistration } from './app/identity-source';
import { createSimulatedSensor, type SensorPort } from './app/simulated-sensor';
import type { AppModule, TrustHook } from './app/app-module';
import { hubFailureCause } from './hub/failure-cause';
import { DpsClient } from './dps/dps-client';
import { DpsError } from './dps/dps-errors';
import { dpsFailureCause } from './dps/dps-failure';
import { BootWatchdog, DEFAULT_FAILED_RETRY_MS, DEFAULT_STUCK_BOOT_MS, checkWatchdogDelay, type WatchedPhase } from './app/boot-watchdog';

export { FIRMWARE_VERSION };

export interface PlatformHooks {
  /** Reported to the twin and logged: "node", "moddable-esp32", "moddable-lin"... */
  hostKind: string;
  /** The roots shipped with the firmware (certs/*.der). */
  defaultRoots: NamedRoot[];
  /** More trusted CAs (a local emulator's), added to the roots. */
  extraCAs?: Uint8Array[];
  /** A board's real sensor; the simulated one otherwise. */
  sensor?: SensorPort;
  /**
   * Restarts the device: what the `reboot` method does, and how the firmware starts again from `failed` or a stuck
   * boot (see failedRetryMs, stuckBootMs). Default: restart the firmware object in place (stop, then start again).
   */
  reboot?(): void;
  /** From `failed`, start again after this long. Default 3 600 000 ms (hourly). */
  failedRetryMs?: number;
  /** Start again when the boot has not reached the hub after this long (a watchdog). Default 21 600 000 ms (6 h). */
  stuckBootMs?: number;
  /** The transport is a cellular modem holding the X.509 keys: `securityTag` names its tag (src/modem). */
  keysInModem?: boolean;
  /** Optional device behaviour started with the app on every client (FOTA: src/fota/fota-module.ts). */
  modules?: AppModule[];
  /** The version running, when it is not the built-in FIRMWARE_VERSION (a host that installs updates). */
  firmwareVersion?(): string;
  /**
   * MQTT over WebSockets (src/ws/ws-transport.ts's webSocketTransport), for images that carry it: config
   * `transport: "mqtt-ws"`, and the fallback to 443 after `wsFallbackAfter` failed attempts. Without it, MQTT only.
   */
  webSocket?: typeof webSocketTransport;
  /** Hub client tuning beyond the defaults (tests use short timeouts). */
  hubClient?: Partial<Omit<HubClientConfig, 'credentials' | 'trustedCAs' | 'endpoint' | 'modelId' | 'journal'>>;
  /**
   * Where telemetry waits for its PUBACK across outages and reboots (src/storage/telemetry-journal.ts, built by
   * the host on a store with room for it, wrapped by src/hub/journal-sender.ts's `journaling`). Without one,
   * telemetry waits in RAM only.
   */
  journal?: Journaling;
}

export type { FirmwareState };

export interface FirmwareEvents {
  state: { state: FirmwareState; previous: FirmwareState };
}

function phaseOf(state: FirmwareState): WatchedPhase {
  if (state === 'failed') return 'failed';
  return state === 'waiting-for-clock' || state === 'provisioning' || state === 'connecting' ? 'booting' : 'settled';
}

export class Firmware extends Emitter<FirmwareEvents> {
  private readonly machine: StateMachine<FirmwareState, FirmwareState>;
  private readonly logger: Logger;
  private config: AppConfig | undefined;
  private clockWait: ClockWait | undefined;
  private flow: BootFlow<HubClient> | undefined;
  private hub: HubClient | undefined;
  private settle: ((state: FirmwareState) => void) | undefined;
  private app: FirmwareApp | undefined;
  private moduleStops: Array<() => void> = [];
  private trustedCAs: Uint8Array[] = [];
  private failureText: string | undefined;
  /** Bumped by stop(): a boot still running from before must not touch anything afterwards. */
  private generation = 0;
  private stopping: Promise<void> | undefined;
  private restarts = 0;
  private attachedTo: HubClient | undefined;
  /** Kept across re-provisioning so a simulated series continues instead of starting over. */
  private sensor: SensorPort | undefined;
  /** Outlives clients and apps: what one client could not deliver, the next one sends. */
  private readonly carry = new UnsentReadings();
  /** Leaves `failed` and stuck boots; see src/app/boot-watchdog.ts. */
  private readonly watchdog: BootWatchdog;

  constructor(
    private readonly host: HostPorts,
    private readonly rawConfig: unknown,
    private readonly platform: PlatformHooks,
  ) {
    super();
    this.logger = host.logger;
    this.machine = firmwareMachine((message) => this.log('error', message));
    this.watchdog = new BootWatchdog({
      timers: host.timers,
      failedRetryMs: this.delaySetting('failedRetryMs', DEFAULT_FAILED_RETRY_MS),
      stuckBootMs: this.delaySetting('stuckBootMs', DEFAULT_STUCK_BOOT_MS),
      recover: () => this.recover(),
      log: (level, message) => this.log(level, message),
    });
  }

  get state(): FirmwareState {
    return this.machine.state;
  }

  /** Why the firmware is in 'failed'. */
  get failure(): string | undefined {
    return this.failureText;
  }

  /** The running device behaviour (for status in tests and hosts); undefined until 'running'. */
  get device(): FirmwareApp | undefined {
    return this.app;
  }

  protected override listenerFailed(error: unknown, event: string): void {
    this.log('error', `a '${event}' listener threw: ${errorText(error)}`);
  }

  /**
   * Boots; resolves when running, failed or (stopped meanwhile) stopped, or still connecting when a fixed hub
   * refused the first attempt (the client then tries again slowly by itself). Never rejects.
   */
  start(): Promise<FirmwareState> {
    if (this.machine.state !== 'idle' && this.machine.state !== 'stopped') return Promise.resolve(this.machine.state);
    const generation = ++this.generation;
    this.stopping = undefined;
    // Stopped meanwhile: report the end of the stop, not the middle of it.
    const outcome = (): FirmwareState | Promise<FirmwareState> => (this.stopping !== undefined ? this.stopping.then(() => this.machine.state) : this.machine.state);
    return this.boot(generation).then(outcome, (error: unknown) => {
      if (generation === this.generation) this.fail(`boot failed: ${errorText(error)}`);
      return outcome();
    });
  }

  /** Ends everything: app handlers and timers, DPS or hub connection. Safe to call twice. */
  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    if (this.machine.state === 'idle' || this.machine.state === 'stopped') return Promise.resolve();
    this.generation++;
    this.move('stopping');
    this.log('info', 'stopping');
    this.clockWait?.cancel();
    this.clockWait = undefined;
    this.stopApp();
    const flow = this.flow;
    const hub = this.hub;
    this.flow = undefined;
    this.hub = undefined;
    this.settle?.(this.machine.state);
    this.settle = undefined;
    const closing = flow !== undefined ? flow.stop() : hub !== undefined ? hub.close() : Promise.resolve();
    this.stopping = closing.catch(() => undefined).then(() => {
      this.move('stopped');
      this.log('info', 'stopped');
    });
    return this.stopping;
  }

  /** What the `reboot` method does on hosts that cannot restart the machine: the same boot again, in place. */
  async restart(): Promise<FirmwareState> {
    this.restarts++;
    this.log('info', `restarting (restart #${this.restarts})`);
    await this.stop();
    return this.start();
  }

  /** `failed` or a stuck boot timed out: reboot the board when the platform can, else restart in place. */
  private recover(): void {
    if (this.platform.reboot === undefined) {
      void this.restart();
      return;
    }
    this.log('warn', 'rebooting the device');
    this.platform.reboot();
  }

  private delaySetting(name: 'failedRetryMs' | 'stuckBootMs', fallback: number): number {
    const value = this.platform[name];
    if (value === undefined) return fallback;
    const problem = checkWatchdogDelay(name, value);
    if (problem === undefined) return value;
    this.log('warn', `${problem}; using ${fallback}`);
    return fallback;
  }

  // ---- boot ---------------------------------------------------------------------------------------------------

  private async boot(generation: number): Promise<void> {
    const parsed = parseAppConfig(this.rawConfig);
    if (!parsed.ok) {
      this.fail(`configuration error: ${parsed.error.message}`);
      return;
    }
    const config = parsed.value;
    this.config = config;
    this.move('waiting-for-clock');
    this.log('info', `firmware ${this.platform.firmwareVersion?.() ?? FIRMWARE_VERSION} starting on ${this.platform.hostKind}; identity from ${describeIdentity(config.identity)}`);

    this.clockWait = waitForClock(this.host.clock, this.host.timers, (level, message) => this.log(level, message));
    await this.clockWait.ready;
    this.clockWait = undefined;
    if (generation !== this.generation) return;

    const keys = safeKeyCount(this.host);
    this.log('info', `storage: ${keys === undefined ? 'not readable' : `${keys} key(s) on the device`}`);
    const identity = resolveIdentity(config.identity, this.host.store, this.host.crypto.hmacSha256, this.platform.keysInModem);
    if (!identity.ok) {
      this.fail(`cannot connect: ${identity.error}`);
      return;
    }
    const plan = identity.value;
    const flashRoots = this.trustHook()?.roots();
    if (flashRoots !== undefined) this.log('info', `trust: ${flashRoots.length} root(s) from flash in place of the built-in ones`);
    const trustedCAs = buildTrustList({
      defaultRoots: flashRoots ?? this.platform.defaultRoots,
      tagCAs: [...(flashRoots === undefined ? (this.platform.extraCAs ?? []) : []), ...plan.tagCAs],
      mode: plan.trust,
      nowUnixMs: this.host.clock.unixMs(),
      logger: this.prefixed(),
    });
    this.log('info', `trust: ${trustedCAs.length} trusted root certificate(s)`);
    this.trustedCAs = trustedCAs;

    const settings: HubLinkSettings = {
      ...(this.platform.hubClient ?? {}),
      ...(this.platform.journal === undefined ? {} : { journal: this.platform.journal }),
      trustedCAs,
      modelId: config.modelId,
      userAgent: `azure-iot-xs/${FIRMWARE_VERSION} (${this.platform.hostKind})`,
    };
    if (config.hubEndpoint !== undefined) settings.endpoint = { host: config.hubEndpoint.host, port: config.hubEndpoint.port };
    const transports = this.transports(config);
    if (transports === undefined) return;
    if (plan.identity.kind === 'dps') await this.runBootFlow(generation, plan.identity.registration, settings, trustedCAs, transports);
    else await this.connectFixedHub(generation, plan.identity.credentials, settings, transports.hub);
  }

  /** One transport selector per service (MQTT or MQTT over WebSockets, by the failure policy); undefined: failed. */
  private transports(config: AppConfig): { hub: TransportFactory; dps: TransportFactory } | undefined {
    const { transport: tls, crypto, logger } = this.host;
    const t = config.transport;
    // Frames stream into the MQTT parser, which holds the device profile's packet budget: the frame bound is the hub's.
    const ws = this.platform.webSocket?.(tls, (n) => crypto.randomBytes(n));
    if (ws === undefined && t.kind === 'mqtt-ws') {
      this.fail('configuration error: transport mqtt-ws is not built into this firmware image');
      return undefined;
    }
    const selector = (service: string, wsEndpoint: AppConfig['transport']['hubWs']): TransportSelector =>
      new TransportSelector(tls, ws, wsEndpoint === undefined ? { configured: t.kind, fallbackAfter: t.fallbackAfter } : { configured: t.kind, fallbackAfter: t.fallbackAfter, wsEndpoint }, logger, service);
    return { hub: selector('hub', t.hubWs), dps: selector('dps', t.dpsWs) };
  }

  /** DPS devices: the boot flow provisions (or reuses the stored assignment), connects, and re-provisions when needed. */
  private runBootFlow(
    generation: number,
    registration: DpsRegistration,
    settings: HubLinkSettings,
    trustedCAs: Uint8Array[],
    transports: { hub: TransportFactory; dps: TransportFactory },
  ): Promise<void> {
    const { timers, clock, crypto, logger, store } = this.host;
    const ports = { timers, clock, crypto, logger };
    const connector = hubClientConnector({ ...ports, transport: transports.hub }, settings);
    const flow = new BootFlow<HubClient>(
      // Without a trust module the flow takes the connector and its own DPS client as they are: the wrappers
      // below cost closures and a listener per connection, slots an ESP32-sized heap does not have.
      this.trustHook() === undefined
        ? { ...ports, transport: transports.dps, store, hub: connector }
        : this.watchedForTrust(generation, { ...ports, transport: transports.dps, store }, connector),
      {
        dps: {
          identity: registration.identity,
          trustedCAs,
          endpoint: registration.endpoint,
          modelId: settings.modelId,
          ...(settings.maxIncomingPacketBytes === undefined ? {} : { limits: { maxPacketBytes: settings.maxIncomingPacketBytes } }),
        },
      },
    );
    this.flow = flow;
    const done = new Promise<void>((resolve) => {
      this.settle = () => resolve();
    });
    flow.on('state', ({ state }) => {
      if (generation === this.generation) this.onBootState(state);
    });
    flow.on('connected', ({ client }) => {
      // Told from deep inside the CONNACK handling: the device behaviour starts from a fresh job (XS stack).
      void Promise.resolve().then(() => {
        if (generation === this.generation) this.attach(client);
      });
    });
    flow.on('failed', ({ error }) => {
      if (generation === this.generation) this.fail(`cannot reach the hub: ${errorText(error)}`);
    });
    flow.start();
    return done;
  }

  private onBootState(state: BootState): void {
    switch (state) {
      case 'provisioning':
      case 'provision-wait':
      case 'reprovisioning':
        if (this.app !== undefined) {
          // The old client is being closed: nothing the app would send could arrive.
          this.log('info', 'device behaviour paused while DPS is asked again');
          this.stopApp();
        }
        this.move('provisioning');
        return;
      case 'connecting':
        // After the first connection, reconnects are the client's business; the app keeps running meanwhile.
        if (this.machine.state === 'provisioning' || this.machine.state === 'waiting-for-clock') this.move('connecting');
        return;
      default:
        return;
    }
  }

  /** Fixed hub (connection string or stored hub settings): one client, no DPS. */
  private async connectFixedHub(generation: number, credentials: HubCredentials, settings: HubLinkSettings, transport: TransportFactory): Promise<void> {
    this.move('connecting');
    let hub: HubClient;
    try {
      hub = new HubClient(
        { transport, timers: this.host.timers, clock: this.host.clock, crypto: this.host.crypto, logger: this.host.logger },
        { ...settings, credentials },
      );
    } catch (error) {
      this.fail(`cannot connect: ${errorText(error)}`);
      return;
    }
    this.hub = hub;
    if (this.trustHook() !== undefined) {
      hub.on('error', (error) => {
        if (hubFailureCause(error) === 'tls-verify') this.onVerifyFailed(generation);
      });
    }
    // The client retries by itself, slowly after refused credentials (they can clear: a key rotated back, a
    // re-enabled device): whenever it connects, the device behaviour starts.
    hub.on('connected', () => {
      void Promise.resolve().then(() => {
        if (generation === this.generation && this.hub === hub) this.attach(hub);
      });
    });
    this.log('info', `connecting to the hub as device ${hub.deviceId}`);
    try {
      await hub.connect();
    } catch (error) {
      if (generation !== this.generation) return;
      this.log('warn', `the hub connection is not up yet: ${errorText(error)}`);
      return;
    }
    if (generation !== this.generation) return;
    this.attach(hub);
  }

  /** Runs the device behaviour on `client` (once per client: reconnects of the same client change nothing). */
  private attach(client: HubClient): void {
    if (this.app !== undefined && this.attachedTo === client) return;
    const intervalMs = this.app?.telemetryIntervalMs;
    this.stopApp();
    const config = this.config as AppConfig;
    this.log('info', `connected to the hub as device ${client.deviceId}`);
    const app = new FirmwareApp({
      hub: client,
      timers: this.host.timers,
      clock: this.host.clock,
      logger: this.host.logger,
      sensor: this.sensor ?? (this.sensor = this.platform.sensor ?? createSimulatedSensor(config.sensorSeed)),
      telemetryIntervalMs: intervalMs ?? config.telemetryIntervalMs,
      manufacturer: config.manufacturer,
      model: config.model,
      hostKind: this.platform.hostKind,
      connected: true,
      // With a journal, what a closed client left unacknowledged is still there for the next one.
      ...(this.platform.journal === undefined ? { carry: this.carry } : { journal: this.platform.journal.port }),
      reboot: () => this.rebootDevice(),
      ...(this.platform.firmwareVersion === undefined ? {} : { firmwareVersion: this.platform.firmwareVersion() }),
    });
    this.app = app;
    this.attachedTo = client;
    this.move('running');
    app.start();
    for (const module of this.platform.modules ?? []) {
      try {
        this.moduleStops.push(
          module.start({ hub: client, host: this.host, trustedCAs: this.trustedCAs, reboot: () => this.rebootDevice(), log: (level, message) => this.logger.log(level, message) }),
        );
      } catch (error) {
        this.log('error', `a module did not start: ${errorText(error)}`);
      }
    }
    this.settle?.('running');
    this.settle = undefined;
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  /** The boot flow's DPS client and hub connector, watched for roots on trial failing verification. */
  private watchedForTrust(
    generation: number,
    deps: Omit<BootDeps<HubClient>, 'hub' | 'provisioner'>,
    connector: HubConnector<HubClient>,
  ): BootDeps<HubClient> {
    const dps = new DpsClient(deps);
    return {
      ...deps,
      // DPS refusing new roots on trial counts as the hub refusing them.
      provisioner: {
        register: (options) =>
          dps.register(options).catch((error: unknown) => {
            if (error instanceof DpsError && dpsFailureCause(error) === 'tls-verify') this.onVerifyFailed(generation);
            throw error;
          }),
        cancel: () => dps.cancel(),
      },
      hub: {
        open: (target, events) => {
          const link = connector.open(target, events);
          link.client.on('error', (error) => {
            if (hubFailureCause(error) === 'tls-verify') this.onVerifyFailed(generation);
          });
          return link;
        },
      },
    };
  }

  private trustHook(): TrustHook | undefined {
    return this.platform.modules?.find((module) => module.trust !== undefined)?.trust;
  }

  /** The hub's or DPS's certificate did not verify: roots on trial from flash give way to the older ones. */
  private onVerifyFailed(generation: number): void {
    if (generation !== this.generation || this.trustHook()?.verifyFailed() !== true) return;
    this.log('warn', 'trust: the new roots failed verification; booting again with the old ones');
    void Promise.resolve().then(() => {
      if (generation === this.generation) void this.restart();
    });
  }

  private rebootDevice(): void {
    if (this.platform.reboot !== undefined) this.platform.reboot();
    else void this.restart();
  }

  private stopApp(): void {
    for (const stop of this.moduleStops.splice(0)) stop();
    this.app?.stop();
    this.app = undefined;
  }

  private fail(message: string): void {
    this.failureText = message;
    this.log('error', message);
    this.stopApp();
    // Callers of an abandoned boot check the generation first, so 'stopped' here is a restart failing at once.
    if (this.machine.state !== 'failed' && this.machine.state !== 'stopping') this.move('failed');
    this.settle?.('failed');
    this.settle = undefined;
  }

  /** Moves along FIRMWARE_MOVES (staying put is no move); an illegal move is refused by the helper's one policy. */
  private move(next: FirmwareState): void {
    const previous = this.machine.state;
    if (previous === next || !this.machine.move(next)) return;
    this.watchdog.enter(phaseOf(next));
    this.emit('state', { state: next, previous });
  }

  private prefixed(): Logger {
    return { log: (level, message) => this.log(level, message) };
  }

  private log(level: LogLevel, message: string): void {
    this.logger.log(level, `firmware: ${message}`);
  }
}

function safeKeyCount(host: HostPorts): number | undefined {
  try {
    return host.store.keys().length;
  } catch {
    return undefined;
  }
}

/** Creates the firmware and starts it; the returned object stops or restarts it. */
export function startFirmware(host: HostPorts, config: unknown, platform: PlatformHooks): Firmware {
  const firmware = new Firmware(host, config, platform);
  void firmware.start();
  return firmware;
}
