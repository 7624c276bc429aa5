// The twin after the SUBACK, against the emulator's late-subscription fault: the hub holds every SUBACK and
// loses whatever it publishes to a filter it has not acknowledged yet, which the real hub is free to do. A
// device that wrote its twin GET behind the SUBSCRIBE would lose the answer and wait out operationTimeoutMs;
// ours writes it when the SUBACK arrives, so the twin comes one round trip after the SUBACK.
// The wire is read in plain text between the client and its TLS transport and parsed by mqtt-packet.
import mqttPacket from 'mqtt-packet';
import type { Emulator } from '../../emulator/src/emulator';
import type { FaultEvent } from '../../emulator/src/hub/faults';
import { createNodeClock, createNodeCrypto, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node';
import type { TransportFactory } from '../../src/ports';
import { HubClient } from '../../src/hub/hub-client';
import { FAST_BACKOFF, startHubEmulator, until } from './emulator-fixture';

const HOLD_MS = 300;
/** Far longer than the hold plus a few loopback round trips, far shorter than operationTimeoutMs (60 s). */
const TWIN_WAIT_MS = HOLD_MS + 4000;

let emulator: Emulator;
let faults: FaultEvent[];
let seq = 0;

beforeAll(async () => {
  emulator = await startHubEmulator();
  emulator.on('fault', (event) => faults.push(event));
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => {
  faults = [];
});

afterEach(() => {
  emulator.faults.clear();
});

/** `out subscribe`, `in suback`, `out publish $iothub/twin/GET/?$rid=1` ... for every connection, in wire order. */
interface Wire {
  trail: string[];
  connections: number;
}

function tappedTransport(wire: Wire): TransportFactory {
  const tls = createNodeTlsTransportFactory({ closeGraceMs: 200 });
  return {
    connect: (options, events) => {
      const connection = ++wire.connections;
      const record = (direction: 'out' | 'in') => (packet: mqttPacket.Packet) => {
        const topic = packet.cmd === 'publish' ? ` ${packet.topic}` : '';
        wire.trail.push(`#${connection} ${direction} ${packet.cmd}${topic}`);
      };
      const outParser = mqttPacket.parser({ protocolVersion: 4 });
      const inParser = mqttPacket.parser({ protocolVersion: 4 });
      outParser.on('packet', record('out'));
      inParser.on('packet', record('in'));
      // Each event passed on by name: listeners may be class instances, whose methods a spread would drop.
      const transport = tls.connect(options, {
        onConnect: () => events.onConnect(),
        onWritable: () => events.onWritable(),
        onError: (error) => events.onError(error),
        onClose: (reason) => events.onClose(reason),
        onData: (chunk) => {
          inParser.parse(Buffer.from(chunk));
          events.onData(chunk);
        },
      });
      return {
        write: (bytes) => {
          outParser.parse(Buffer.from(bytes));
          return transport.write(bytes);
        },
        close: () => transport.close(),
      };
    },
  };
}

function device(deviceId: string): { client: HubClient; wire: Wire; desired: string[] } {
  const wire: Wire = { trail: [], connections: 0 };
  const client = new HubClient(
    { transport: tappedTransport(wire), timers: createNodeTimers(), clock: createNodeClock(), crypto: createNodeCrypto() },
    {
      credentials: { kind: 'connection-string', connectionString: emulator.connectionString(deviceId) },
      trustedCAs: [emulator.caDer],
      endpoint: { host: '127.0.0.1', port: emulator.hubPort, serverName: 'localhost' },
      backoff: FAST_BACKOFF,
    },
  );
  const desired: string[] = [];
  client.onDesired((patch, version, info) => {
    desired.push(`${info.full ? 'full' : 'patch'}@${version}:${JSON.stringify(patch)}`);
  });
  return { client, wire, desired };
}

/** `promise`, or a failure naming `what` once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function newDevice(): string {
  const id = `late-sub-${++seq}`;
  emulator.addDevice(id);
  return id;
}

/** The trail of one connection from its SUBSCRIBE on (its CONNECT and CONNACK left out). */
function afterConnack(wire: Wire, connection: number): string[] {
  const prefix = `#${connection} `;
  return wire.trail
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length))
    .filter((line) => line !== 'out connect' && line !== 'in connack');
}

describe('late-subscription fault: the device has its twin one round trip after the SUBACK', () => {
  it('writes the catch-up GET only when the held SUBACK arrives, and gets the desired state from its answer', async () => {
    const id = newDevice();
    const version = emulator.patchDesired(id, { telemetryInterval: 7 }).desired['$version'] as number;
    emulator.faults.lateSubscription(id, { holdMs: HOLD_MS });
    const { client, wire, desired } = device(id);
    try {
      await client.connect();
      await until(() => desired.length > 0, TWIN_WAIT_MS, 'the desired state from the twin GET');
      expect(desired).toEqual([`full@${version}:${JSON.stringify({ telemetryInterval: 7, $version: version })}`]);
      // SUBACK in, one client flight (the GET), its answer in: one round trip.
      expect(afterConnack(wire, 1)).toEqual([
        'out subscribe',
        'in suback',
        'out publish $iothub/twin/GET/?$rid=1',
        'in publish $iothub/twin/res/200/?$rid=1',
      ]);
      expect(faults.map((f) => f.kind)).toEqual(['late-subscription']); // nothing was lost
    } finally {
      await client.close();
    }
  });

  it('holds a getTwin() called before the SUBACK and writes it behind the catch-up GET once the SUBACK is in', async () => {
    const id = newDevice();
    emulator.faults.lateSubscription(id, { holdMs: HOLD_MS });
    const { client, wire } = device(id);
    try {
      await client.connect(); // resolves on the CONNACK, while the SUBACK is still held
      const twin = await within(client.getTwin(), TWIN_WAIT_MS, 'the getTwin() answer');
      expect(twin.desiredVersion).toBe(emulator.getTwin(id).desired['$version']);
      expect(afterConnack(wire, 1)).toEqual([
        'out subscribe',
        'in suback',
        'out publish $iothub/twin/GET/?$rid=2',
        'out publish $iothub/twin/GET/?$rid=1',
        'in publish $iothub/twin/res/200/?$rid=2',
        'in publish $iothub/twin/res/200/?$rid=1',
      ]);
      expect(faults.map((f) => f.kind)).toEqual(['late-subscription']);
    } finally {
      await client.close();
    }
  });

  it('after a reconnect, catches up on a change made while it was away, again right after the held SUBACK', async () => {
    const id = newDevice();
    const { client, wire, desired } = device(id);
    try {
      await client.connect();
      await until(() => desired.length === 1, TWIN_WAIT_MS, 'the first twin');
      emulator.faults.lateSubscription(id, { holdMs: HOLD_MS });
      emulator.faults.dropConnection(id);
      await until(() => wire.connections === 2, 5000, 'the reconnect');
      // The change is made once the hub holds the new SUBACK: made earlier, the persistent session's old subscription
      // may deliver the patch itself, before the SUBSCRIBE is even read (a race the real hub has too).
      await until(() => faults.some((f) => f.kind === 'late-subscription'), 5000, 'the held SUBACK');
      const version = emulator.patchDesired(id, { mode: 'eco' }).desired['$version'] as number;
      await until(() => desired.length === 2, TWIN_WAIT_MS, 'the twin after the reconnect');
      expect(desired[1]).toBe(`full@${version}:${JSON.stringify({ mode: 'eco', $version: version })}`);
      expect(afterConnack(wire, 2)).toEqual([
        'out subscribe',
        'in suback',
        'out publish $iothub/twin/GET/?$rid=2',
        'in publish $iothub/twin/res/200/?$rid=2',
      ]);
    } finally {
      await client.close();
    }
  });
});
