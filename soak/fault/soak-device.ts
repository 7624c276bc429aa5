// The device side of a soak on the Node host: provisioning through DPS (retrying what the boot flow would
// retry), then one HubClient kept for the whole run. After an authentication failure the device provisions
// again and hands the client the result, which is what the firmware's boot flow does when the hub refuses it.

import { createNodeClock, createNodeCrypto, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node';
import { deriveDeviceKey } from '../../src/azure/group-key';
import { DpsClient, type DpsClientDeps } from '../../src/dps/dps-client';
import type { DpsRegistrationResult } from '../../src/dps/dps-options';
import { DpsError } from '../../src/dps/dps-errors';
import { HubClient } from '../../src/hub/hub-client';
import type { HubClientConfig } from '../../src/hub/hub-settings';
import type { HubCredentials } from '../../src/hub/credentials';
import type { CryptoPort, LogLevel, Logger, Timers, TransportFactory, WallClock } from '../../src/ports';

export interface SoakDeviceOptions {
  idScope: string;
  registrationId: string;
  /** The device's own key (individual enrollment), or the group key when `group` is true. */
  key: string;
  /** Group enrollment: the device derives its key from `key` and its registration id. */
  group?: boolean;
  /** Hand the hub client a connection string rather than separate fields. */
  useConnectionString?: boolean;
  trustedCAs: Uint8Array[];
  dpsEndpoint: string;
  hubPort: number;
  /** TLS name the loopback certificates carry. */
  serverName: string;
  hub?: Partial<HubClientConfig>;
  /** Called with the hub client before it first connects, to attach listeners that see every event. */
  onClient?: (client: HubClient) => void;
  /** Every log line of the firmware, for the secrets check and for debugging a failed run. */
  onLog?: (level: LogLevel, message: string) => void;
  ports?: Partial<SoakPorts>;
}

export interface SoakPorts {
  transport: TransportFactory;
  timers: Timers;
  clock: WallClock;
  crypto: CryptoPort;
  logger: Logger;
}

export interface ProvisioningStats {
  runs: number;
  /** register() calls that failed and were tried again. */
  retries: number;
  errors: string[];
}

/** The Node host's ports with soak timeouts, every log line to `onLog`; `overrides` replace any of them. */
export function soakNodePorts(onLog: ((level: LogLevel, message: string) => void) | undefined, overrides: Partial<SoakPorts> = {}): SoakPorts {
  return {
    transport: createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 5000, closeGraceMs: 200 }),
    timers: createNodeTimers(),
    clock: createNodeClock(),
    crypto: createNodeCrypto(),
    logger: { log: (level, message) => onLog?.(level, message) },
    ...overrides,
  };
}

/** Short delays everywhere: a soak compresses hours of field behaviour into seconds. */
export const SOAK_BACKOFF = { minDelayMs: 5, maxDelayMs: 250, maxJitterMs: 20, throttledMinMs: 20, throttledMaxMs: 120 };

export class SoakDevice {
  readonly ports: SoakPorts;
  readonly provisioning: ProvisioningStats = { runs: 0, retries: 0, errors: [] };
  private readonly dps: DpsClient;
  private hubClient: HubClient | undefined;
  private reprovisioning: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: SoakDeviceOptions) {
    this.ports = soakNodePorts(options.onLog, options.ports);
    const deps: DpsClientDeps = { ...this.ports };
    this.dps = new DpsClient(deps);
  }

  /** The DPS client, for its state events. */
  get dpsClient(): DpsClient {
    return this.dps;
  }

  get hub(): HubClient {
    if (this.hubClient === undefined) throw new Error('the device has not started');
    return this.hubClient;
  }

  /** Provisions, creates the hub client and connects it. */
  async start(): Promise<HubClient> {
    const assignment = await this.provision();
    const config: HubClientConfig = {
      credentials: this.credentialsFor(assignment),
      trustedCAs: this.options.trustedCAs,
      endpoint: { host: '127.0.0.1', port: this.options.hubPort, serverName: this.options.serverName },
      backoff: SOAK_BACKOFF,
      connectTimeoutMs: 5000,
      keepAliveSeconds: 30,
      ...this.options.hub,
    };
    const client = new HubClient(this.ports, config);
    this.hubClient = client;
    this.options.onClient?.(client);
    client.on('error', (error) => {
      if (error.code === 'auth-failed') this.reprovision();
    });
    await client.connect();
    return client;
  }

  /** Registers until DPS assigns the device; retryable failures (5xx, 429, lost connections) are tried again. */
  async provision(): Promise<DpsRegistrationResult> {
    for (;;) {
      if (this.closed) throw new Error('the device was closed while provisioning');
      this.provisioning.runs++;
      try {
        return await this.dps.register({
          identity: {
            kind: 'dps',
            idScope: this.options.idScope,
            registrationId: this.options.registrationId,
            credential: { kind: 'sas', key: this.options.key },
            enrollmentGroup: this.options.group,
          },
          trustedCAs: this.options.trustedCAs,
          endpoint: this.options.dpsEndpoint,
          serverName: this.options.serverName,
          limits: { pollFallbackMs: 10, retryFallbackMs: 10, totalTimeoutMs: 30_000, responseTimeoutMs: 5000, connectTimeoutMs: 5000, closeTimeoutMs: 1000 },
        });
      } catch (error) {
        const retryable = error instanceof DpsError && error.retryable;
        if (this.provisioning.errors.length < 20) this.provisioning.errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        if (!retryable) throw error;
        this.provisioning.retries++;
        await delay(this.ports.timers, 20);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dps.cancel();
    await this.reprovisioning?.catch(() => undefined);
    await this.hubClient?.close();
  }

  /** The key the hub knows: the device key, derived from the group key for a group enrollment. */
  deviceKey(): string {
    if (!this.options.group) return this.options.key;
    const derived = deriveDeviceKey(this.options.key, this.options.registrationId, this.ports.crypto.hmacSha256);
    if (!derived.ok) throw derived.error;
    return derived.value;
  }

  private credentialsFor(assignment: DpsRegistrationResult): HubCredentials {
    const key = this.deviceKey();
    if (this.options.useConnectionString) {
      return { kind: 'connection-string', connectionString: `HostName=${assignment.assignedHub};DeviceId=${assignment.deviceId};SharedAccessKey=${key}` };
    }
    return { kind: 'hub', hostName: assignment.assignedHub, deviceId: assignment.deviceId, credential: { kind: 'sas', key } };
  }

  private reprovision(): void {
    if (this.reprovisioning !== undefined || this.closed) return;
    this.reprovisioning = this.provision()
      .then((assignment) => {
        if (!this.closed) this.hub.updateCredentials(this.credentialsFor(assignment));
      })
      .catch((error: unknown) => {
        // A final DPS answer: the device stays stopped, and the run reports it as a failure to recover.
        this.provisioning.errors.push(`re-provisioning gave up: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        this.reprovisioning = undefined;
      });
  }
}

export function delay(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.setTimeout(() => resolve(), ms);
  });
}
