// XS side of the DPS end-to-end test: the DPS client and the boot flow (with the real HubClient) on the real XS
// engine; TLS sockets, timers, clock, crypto and the store are the Node host's, reached over the bridge.
import { installXsnapHost } from '../../../hosts/xsnap/xsnap-host';
import type { BridgeValue } from '../../../hosts/xsnap/bridge-protocol';
import { BootFlow } from '../../../src/boot/boot';
import { hubClientConnector } from '../../../src/boot/hub-client-connector';
import { DpsClient } from '../../../src/dps/dps-client';
import type { DpsIdentity } from '../../../src/identity';
import type { DpsRegisterOptions } from '../../../src/dps/dps-options';
import type { HubClient } from '../../../src/hub/hub-client';

const host = installXsnapHost();
const { ports } = host;
const tell = (name: string, data: BridgeValue): void => void host.notify(name, data);
const FAST_BACKOFF = { minDelayMs: 50, maxDelayMs: 400, maxJitterMs: 0, throttledMinMs: 100, throttledMaxMs: 200 };

interface Setup {
  endpoint: string;
  idScope: string;
  ca: Uint8Array;
  registrationId: string;
  key: string;
  group: boolean;
}

function registerOptions(setup: Setup): DpsRegisterOptions {
  const identity: DpsIdentity = { kind: 'dps', idScope: setup.idScope, registrationId: setup.registrationId, credential: { kind: 'sas', key: setup.key }, enrollmentGroup: setup.group };
  return { identity, endpoint: setup.endpoint, trustedCAs: [setup.ca], payload: { engine: 'xs' } };
}

host.onApp('register', (data) => {
  const client = new DpsClient(ports);
  const states: string[] = [];
  client.on('state', ({ state }) => states.push(state));
  // Registration takes network round trips, longer than one app call may stay open: the outcome comes as a notice.
  client.register(registerOptions(data as unknown as Setup)).then(
    (result) => tell('registered', { ...result, payload: JSON.stringify(result.payload ?? null), states: states.join(' ') }),
    (error: unknown) => tell('registered', { failed: String((error as { code?: string }).code), message: String((error as Error).message), states: states.join(' ') }),
  );
});

let flow: BootFlow<HubClient> | undefined;

host.onApp('boot', (data) => {
  const setup = data as unknown as Setup;
  const hub = hubClientConnector(ports, { trustedCAs: [setup.ca], backoff: FAST_BACKOFF });
  const current = new BootFlow<HubClient>({ ...ports, hub }, { dps: registerOptions(setup), backoff: FAST_BACKOFF });
  flow = current;
  current.on('state', ({ state }) => tell('boot-state', state));
  current.on('connected', ({ hubHost, deviceId, fromStore }) => tell('boot-connected', { hubHost, deviceId, fromStore }));
  current.on('failed', ({ error }) => tell('boot-failed', error.message));
  current.start();
});

host.onApp('boot-reset', () => flow?.reset().then(() => null));

host.onApp('boot-stop', () => flow?.stop().then(() => null));
