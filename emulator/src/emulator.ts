// The emulator as a library: one object that owns the TLS identity, the registry, the hub and (optionally) DPS,
// and exposes the service-side API tests and the CLI use (devices, C2D, methods, twins, telemetry, faults).
import { join } from 'node:path';
import { Registry, type DeviceAuth, type DeviceRecord, type DeviceStatus, type ModuleRecord } from './registry';
import { ImageServer } from './fota/image-server';
import { createTlsMaterial, loadOrCreateTlsMaterial, type TlsMaterial } from './tls-material';
import { pemToDer } from './pki';
import { launchDps, type RunningDps } from './dps-adapter';
import { loadEnrollments, saveEnrollments } from './dps/enrollment-file';
import { silentLog, type EmulatorLog } from './log';
import { HubServer } from './hub/hub-server';
import { startWsFront, type WsFront } from './ws-front';
import type { C2DOptions, C2DProperties } from './hub/c2d-queue';
import type { MethodResult } from './hub/methods';
import type { Twin } from './hub/twin-store';
import type { TelemetryMessage } from './hub/telemetry';
import type { ConnectionEvent, HubEvents } from './hub/hub-events';
import type { FaultController } from './hub/faults';

export interface EmulatorOptions {
  /** Where the CA, certificates, registry and twins live; default `.emulator-state/` in the cwd (git-ignored). */
  stateDir?: string;
  /** Keep state on disk (default true). Tests pass false: nothing touches the disk. */
  persist?: boolean;
  /** Hub MQTT/TLS port; 0 (the default) picks a free one. The CLI uses 8883. */
  hubPort?: number;
  /** DPS MQTT/TLS port; 0 (the default) picks a free one. The CLI uses 8884. */
  dpsPort?: number;
  /** Start the DPS server too (default true). */
  dps?: boolean;
  /**
   * The hub's host name as devices must write it (username, SAS `sr`) and as DPS returns it in `assignedHub`.
   * Default `localhost:{hubPort}`, or plain `localhost` when the port is 8883, so a device connecting to the
   * name it was given (host and port) signs for exactly that.
   */
  hubHostName?: string;
  /** Reuse TLS material (tests share one CA to save RSA key generation). */
  tls?: TlsMaterial;
  log?: EmulatorLog;
  /** How many telemetry messages to keep per device (default 100). */
  telemetryHistory?: number;
  /**
   * Also serve MQTT over WebSockets (TLS, `/$iothub/websocket`, subprotocol `mqtt`) for the hub and for DPS, each
   * on its own port: 0 picks a free one. Off unless a port is given. Azure serves both on 443.
   */
  hubWsPort?: number;
  dpsWsPort?: number;
}

export class Emulator {
  readonly registry: Registry;
  readonly caPem: string;
  readonly caDer: Uint8Array;
  /** Path of the CA certificate when persisted, for people to point their device at. */
  readonly caFile: string | undefined;
  readonly stateDir: string | undefined;
  private dpsServer: RunningDps | undefined;
  private images: Promise<ImageServer> | undefined;
  private hubWs: WsFront | undefined;
  private dpsWs: WsFront | undefined;
  private stopped = false;

  private constructor(
    private readonly hub: HubServer,
    registry: Registry,
    readonly tls: TlsMaterial,
    stateDir: string | undefined,
  ) {
    this.registry = registry;
    this.caPem = tls.ca.certPem;
    this.caDer = pemToDer(tls.ca.certPem);
    this.caFile = tls.caFile;
    this.stateDir = stateDir;
  }

  static async start(options: EmulatorOptions = {}): Promise<Emulator> {
    const log = options.log ?? silentLog;
    const persist = options.persist ?? true;
    const stateDir = persist ? (options.stateDir ?? join(process.cwd(), '.emulator-state')) : undefined;
    const tls = options.tls ?? (stateDir ? loadOrCreateTlsMaterial(stateDir) : createTlsMaterial());
    const registry = new Registry();
    if (stateDir) registry.load(stateDir);
    const hub = await HubServer.start({
      port: options.hubPort ?? 0,
      hubHostName: options.hubHostName,
      tls,
      registry,
      log,
      stateDir,
      telemetryHistory: options.telemetryHistory ?? 100,
    });
    const emulator = new Emulator(hub, registry, tls, stateDir);
    if (stateDir) registry.onChange(() => registry.save(stateDir));
    if (options.dps ?? true) {
      try {
        emulator.dpsServer = await launchDps({
          host: '127.0.0.1',
          port: options.dpsPort ?? 0,
          tls: { key: tls.server.keyPem, cert: tls.server.certPem, ca: tls.ca.certPem },
          registry,
          hubHostName: hub.hubHostName,
          log,
        });
        const dps = emulator.dpsServer;
        if (stateDir && dps) {
          const loaded = loadEnrollments(dps.enrollments, stateDir, log);
          if (loaded > 0) log('info', `DPS: ${loaded} enrollment(s) loaded from the state folder`);
          dps.enrollments.onChange(() => saveEnrollments(dps.enrollments, stateDir));
        }
        // An enrollment's initial twin lands in the hub's twin store when DPS assigns the device, as Azure does.
        emulator.dpsServer?.on('assigned', (assigned) => {
          const desired = assigned.initialTwin?.desired;
          if (desired) hub.patchDesired(assigned.deviceId, desired);
        });
      } catch (error) {
        await hub.close();
        throw error;
      }
    }
    log('info', `hub listening on 127.0.0.1:${hub.port} as ${hub.hubHostName}`);
    const wsTls = { key: tls.server.keyPem, cert: tls.server.certPem, ca: tls.ca.certPem };
    try {
      if (options.hubWsPort !== undefined) {
        emulator.hubWs = await startWsFront({ name: 'hub', port: options.hubWsPort, tls: wsTls, onSocket: (socket) => hub.acceptSocket(socket), log });
      }
      const dps = emulator.dpsServer;
      if (options.dpsWsPort !== undefined && dps !== undefined) {
        emulator.dpsWs = await startWsFront({ name: 'DPS', port: options.dpsWsPort, tls: wsTls, onSocket: (socket) => dps.acceptSocket(socket), log });
      }
    } catch (error) {
      await emulator.stop();
      throw error;
    }
    return emulator;
  }

  get hubPort(): number {
    return this.hub.port;
  }

  /** The DPS port, or undefined when DPS is not running. */
  get dpsPort(): number | undefined {
    return this.dpsServer?.port;
  }

  /** The hub's MQTT over WebSockets port, when started with `hubWsPort`. */
  get hubWsPort(): number | undefined {
    return this.hubWs?.port;
  }

  /** DPS's MQTT over WebSockets port, when started with `dpsWsPort` (and DPS). */
  get dpsWsPort(): number | undefined {
    return this.dpsWs?.port;
  }

  /** WebSocket upgrades the hub and DPS fronts accepted so far. */
  get wsUpgrades(): { hub: number; dps: number } {
    return { hub: this.hubWs?.upgrades ?? 0, dps: this.dpsWs?.upgrades ?? 0 };
  }

  /**
   * Blocks (or opens again) the MQTT ports of the hub and DPS, as a network that lets out only 443 does: new
   * connections are reset; WebSockets still get through.
   */
  blockMqttPorts(blocked: boolean): void {
    this.hub.blockMqttPort(blocked);
    this.dpsServer?.blockMqttPort(blocked);
  }

  /** The DPS server (enrollments, faults, events), or undefined when started with `dps: false`. */
  get dps(): RunningDps | undefined {
    return this.dpsServer;
  }

  /** `localhost:{hubPort}` unless the port is 8883 (then `localhost`) or a name was given. */
  get hubHostName(): string {
    return this.hub.hubHostName;
  }

  get faults(): FaultController {
    return this.hub.faults;
  }

  // ---- registry shortcuts ----

  /** Adds a device (symmetric keys generated when `auth` is omitted); throws on a duplicate id. */
  addDevice(deviceId: string, auth?: DeviceAuth, status?: DeviceStatus): DeviceRecord {
    return this.registry.addDevice({ deviceId, auth, status });
  }

  addModule(deviceId: string, moduleId: string, auth?: DeviceAuth): ModuleRecord {
    return this.registry.addModule(deviceId, moduleId, auth);
  }

  /** `HostName=...;DeviceId=...;SharedAccessKey=...` (plus `ModuleId=` for a module) for a SAS identity. */
  connectionString(deviceId: string, moduleId?: string): string {
    const device = this.registry.getDevice(deviceId);
    const auth = moduleId ? device?.modules[moduleId]?.auth : device?.auth;
    if (!auth) throw new Error(`unknown identity ${moduleId ? `${deviceId}/${moduleId}` : deviceId}`);
    const base = `HostName=${this.hubHostName};DeviceId=${deviceId}${moduleId ? `;ModuleId=${moduleId}` : ''}`;
    return auth.type === 'sas' ? `${base};SharedAccessKey=${auth.primaryKey}` : `${base};x509=true`;
  }

  // ---- service API ----

  /** Queues a cloud-to-device message (at most 64 KB); returns its message id. */
  sendC2D(deviceId: string, body: string | Uint8Array, properties?: C2DProperties, options?: C2DOptions): string {
    return this.hub.sendC2D(deviceId, body, properties, options);
  }

  /** Invokes a direct method; resolves with the device's `{status, payload}`, 404 when offline, 504 on timeout. */
  invokeMethod(
    deviceId: string,
    methodName: string,
    payload?: unknown,
    options?: { moduleId?: string; timeoutMs?: number },
  ): Promise<MethodResult> {
    return this.hub.invokeMethod(deviceId, methodName, payload, options);
  }

  getTwin(deviceId: string, moduleId?: string): Twin {
    return this.hub.getTwin(deviceId, moduleId);
  }

  /** Merges a desired-properties patch (null deletes), bumps `$version` and pushes it to the connected device. */
  patchDesired(deviceId: string, patch: Record<string, unknown>, moduleId?: string): Twin {
    return this.hub.patchDesired(deviceId, patch, moduleId);
  }

  /** Recent telemetry of one device (oldest first), or of all devices. */
  telemetry(deviceId?: string): TelemetryMessage[] {
    return this.hub.telemetry(deviceId);
  }

  /** Subscribes to hub events (telemetry, connection, c2d-completed...); returns the unsubscribe function. */
  on<K extends keyof HubEvents>(event: K, listener: (payload: HubEvents[K]) => void): () => void {
    return this.hub.events.on(event, listener);
  }

  /** Resolves with the next event matching `filter` (tests); rejects after `timeoutMs`. */
  waitFor<K extends keyof HubEvents>(
    event: K,
    filter: (payload: HubEvents[K]) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<HubEvents[K]> {
    return this.hub.waitFor(event, filter, timeoutMs);
  }

  isConnected(deviceId: string, moduleId?: string): boolean {
    return this.hub.isConnected(deviceId, moduleId);
  }

  /** Topic filters the identity's live connection holds (empty when offline). */
  subscriptions(deviceId: string, moduleId?: string): string[] {
    return this.hub.subscriptionsOf(deviceId, moduleId);
  }

  /** Connection events so far (most recent last), for people and tests. */
  connectionLog(): ConnectionEvent[] {
    return this.hub.connectionLog();
  }

  // ---- firmware updates ----

  /** The HTTPS image server (same CA and server certificate as the hub, loopback), started on first use. */
  fotaImages(): Promise<ImageServer> {
    this.images ??= ImageServer.start(this.tls);
    return this.images;
  }

  /**
   * Deploys an update: serves `image` at the manifest's path and sets the device's desired `firmware` to the
   * manifest, its location pointed at this emulator's image server (the location is not signed; the digest is).
   * `host`: the name the device is to use for the server (its certificate names localhost and 127.0.0.1).
   * Returns the desired object as set.
   */
  async deployFirmware(deviceId: string, image: Uint8Array, firmware: Record<string, unknown>, host = '127.0.0.1'): Promise<Record<string, unknown>> {
    const images = await this.fotaImages();
    const location = firmware['fwLocation'] as { path?: unknown } | undefined;
    const path = typeof location?.path === 'string' && location.path.startsWith('/') ? location.path : `/fw/${String(firmware['fwVersion'])}.bin`;
    images.publish(path, image);
    const deployed = { ...firmware, fwLocation: { host, port: images.port, path } };
    delete (deployed as Record<string, unknown>)['fwLocations'];
    this.patchDesired(deviceId, { firmware: deployed });
    return deployed;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.images !== undefined) await (await this.images).close();
    await this.hubWs?.close();
    await this.dpsWs?.close();
    await this.dpsServer?.close();
    await this.hub.close();
    if (this.stateDir) this.registry.save(this.stateDir);
  }
}

export function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return Emulator.start(options);
}
