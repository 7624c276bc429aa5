// A HubClient on the Node host pointed at a running emulator: loopback TLS with the emulator's CA, the hub name
// the emulator signs for, and short backoff. Every firmware log line goes to `onLog` (the secrets check reads them).

import type { Emulator } from '../../emulator/src/emulator';
import { HubClient } from '../../src/hub/hub-client';
import type { HubClientConfig } from '../../src/hub/hub-settings';
import type { HubClientPorts } from '../../src/hub/hub-types';
import type { LogLevel } from '../../src/ports';
import { SOAK_BACKOFF, soakNodePorts } from '../fault/soak-device';

export interface EmulatorClientOptions {
  deviceId: string;
  key: string;
  config?: Partial<HubClientConfig>;
  ports?: Partial<HubClientPorts>;
  onLog?: (level: LogLevel, message: string) => void;
}

export function emulatorHubClient(emulator: Emulator, options: EmulatorClientOptions): HubClient {
  const ports: HubClientPorts = soakNodePorts(options.onLog, options.ports);
  return new HubClient(ports, {
    credentials: { kind: 'hub', hostName: emulator.hubHostName, deviceId: options.deviceId, credential: { kind: 'sas', key: options.key } },
    trustedCAs: [emulator.caDer],
    endpoint: { host: '127.0.0.1', port: emulator.hubPort, serverName: 'localhost' },
    backoff: SOAK_BACKOFF,
    connectTimeoutMs: 5000,
    ...options.config,
  });
}
