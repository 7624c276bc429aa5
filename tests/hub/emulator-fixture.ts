// HubClient on the Node host against the local emulator: real TLS on 127.0.0.1, real timers, real clock.
// The emulator is started with hub host name `localhost` so identities pass the Azure identifier checks; the
// client's endpoint override sends TLS to 127.0.0.1 on the emulator's ephemeral port with `localhost` as SNI.

import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial, type TlsMaterial } from '../../emulator/src/tls-material';
import { createNodeClock, createNodeCrypto, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node';
import type { LogLevel, TransportFactory } from '../../src/ports';
import { HubClient } from '../../src/hub/hub-client';
import type { HubClientConfig } from '../../src/hub/hub-settings';
import type { HubError } from '../../src/hub/hub-error';

let sharedTls: TlsMaterial | undefined;

export async function startHubEmulator(): Promise<Emulator> {
  sharedTls ??= createTlsMaterial();
  return Emulator.start({ persist: false, dps: false, tls: sharedTls, hubHostName: 'localhost', telemetryHistory: 2000 });
}

/** Small delays so fault recovery fits in a test, same shape as the defaults. */
export const FAST_BACKOFF = { minDelayMs: 100, maxDelayMs: 2000, maxJitterMs: 50, throttledMinMs: 200, throttledMaxMs: 400 };

export interface EmulatorClient {
  client: HubClient;
  /** TLS connections the client opened (each carries one CONNECT). */
  readonly opened: number;
  events: string[];
  errors: HubError[];
  logs: string[];
}

export function clientFor(emulator: Emulator, deviceId: string, config: Partial<HubClientConfig> = {}, moduleId?: string): EmulatorClient {
  const tls = createNodeTlsTransportFactory({ closeGraceMs: 200 });
  let opened = 0;
  const transport: TransportFactory = {
    connect: (options, events) => {
      opened++;
      return tls.connect(options, events);
    },
  };
  const logs: string[] = [];
  const client = new HubClient(
    {
      transport,
      timers: createNodeTimers(),
      clock: createNodeClock(),
      crypto: createNodeCrypto(),
      logger: { log: (level: LogLevel, message: string) => void logs.push(`[${level}] ${message}`) },
    },
    {
      credentials: { kind: 'connection-string', connectionString: emulator.connectionString(deviceId, moduleId) },
      trustedCAs: [emulator.caDer],
      endpoint: { host: '127.0.0.1', port: emulator.hubPort, serverName: 'localhost' },
      backoff: FAST_BACKOFF,
      ...config,
    },
  );
  const events: string[] = [];
  const errors: HubError[] = [];
  client.on('connected', () => events.push('connected'));
  client.on('disconnected', ({ reason }) => events.push(`disconnected:${reason.code}`));
  client.on('reconnecting', ({ attempt }) => events.push(`reconnecting:${attempt}`));
  client.on('error', (error) => {
    events.push(`error:${error.code}`);
    errors.push(error);
  });
  return {
    client,
    get opened() {
      return opened;
    },
    events,
    errors,
    logs,
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every 10 ms until it is true; fails the test after `timeoutMs`. */
export async function until(probe: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!probe()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}
