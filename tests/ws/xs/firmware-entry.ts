// XS side of the WebSocket end-to-end test: the whole firmware (src/main.ts) on the real XS engine, with MQTT over
// WebSockets from src/ws over the bridged TLS transport; timers, clock, crypto, the store and the logger are the
// Node host's, reached over the bridge.
import { installXsnapHost } from '../../../hosts/xsnap/xsnap-host';
import type { BridgeValue } from '../../../hosts/xsnap/bridge-protocol';
import { Firmware } from '../../../src/main';
import { webSocketTransport } from '../../../src/ws/ws-transport';

const host = installXsnapHost();
const tell = (name: string, data: BridgeValue): void => void host.notify(name, data);
let firmware: Firmware | undefined;

host.onApp('boot', (data) => {
  const { config, ca } = data as { config: string; ca: Uint8Array };
  firmware = new Firmware(host.ports, JSON.parse(config) as Record<string, unknown>, {
    hostKind: 'xsnap',
    defaultRoots: [],
    extraCAs: [ca],
    hubClient: { backoff: { minDelayMs: 50, maxDelayMs: 200, maxJitterMs: 0, throttledMinMs: 100, throttledMaxMs: 200 }, sasTtlSeconds: 4 },
    webSocket: webSocketTransport,
  });
  firmware.on('state', ({ state }) => tell('state', state));
  firmware.start().then((state) => tell('started', { state, failure: firmware?.failure ?? null }));
});

host.onApp('stop', () => firmware?.stop().then(() => null));
