// XS side of the modem end-to-end test: the whole firmware (src/main.ts) and the SLM modem transport (src/modem) on
// the real XS engine. The UART is a byte pipe to the modem emulator reached over the bridge (the Node side opens it
// as a plain TCP stand-in for the serial line); timers, clock, crypto, the store and the logger are the Node host's.
import { installXsnapHost } from '../../../hosts/xsnap/xsnap-host';
import type { BridgeValue } from '../../../hosts/xsnap/bridge-protocol';
import { Firmware } from '../../../src/main';
import { SlmModem } from '../../../src/modem/modem-transport';
import type { SerialPortFactory, TlsConnectOptions } from '../../../src/ports';

const host = installXsnapHost();
const tell = (name: string, data: BridgeValue): void => void host.notify(name, data);
let firmware: Firmware | undefined;
let modem: SlmModem | undefined;

/** The bridged byte pipe as a serial port: the Node side knows the "uart" host. */
const uart: SerialPortFactory = {
  open(events) {
    const options: TlsConnectOptions = { host: 'uart', port: 1, trustedCAs: [] };
    const pipe = host.ports.transport.connect(options, {
      onConnect: () => undefined,
      onData: (chunk) => events.onData(chunk),
      onWritable: () => undefined,
      onError: () => undefined,
      onClose: (reason) => events.onClose(reason.message),
    });
    return { write: (bytes) => pipe.write(bytes), close: () => pipe.close() };
  },
};

host.onApp('boot', (data) => {
  const { config, ca, tag } = data as { config: string; ca: Uint8Array; tag: number };
  modem = new SlmModem(uart, host.ports.timers, { tags: { primary: tag }, pollIntervalMs: 10, dataModeDelayMs: 2, commandTimeoutMs: 2000 });
  modem.on('registration', ({ registered }) => tell('registration', registered));
  modem.start();
  firmware = new Firmware({ ...host.ports, transport: modem.transportFactory() }, JSON.parse(config) as Record<string, unknown>, {
    hostKind: 'xsnap-modem',
    defaultRoots: [],
    extraCAs: [ca],
    keysInModem: true,
    hubClient: { backoff: { minDelayMs: 50, maxDelayMs: 300, maxJitterMs: 0, throttledMinMs: 100, throttledMaxMs: 200 }, connectTimeoutMs: 8000 },
  });
  firmware.on('state', ({ state }) => tell('state', state));
  firmware.start().then((state) => tell('started', { state, failure: firmware?.failure ?? null }));
});

host.onApp('stop', () =>
  (firmware?.stop() ?? Promise.resolve()).then(() => {
    modem?.stop();
    return null;
  }),
);
