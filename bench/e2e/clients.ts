// The two clients under test behind one small interface: ours (the hub client on the Node host) and Azure's
// official Node device SDK (azure-iot-device + azure-iot-device-mqtt), both trusting the emulator's CA and both
// optionally watched by a PacketTap.
import { createRequire } from 'node:module';
import type * as NodeTls from 'node:tls';
// Default imports: Node's CommonJS export detection misses some of the SDK's names (Message among them).
import azureIotDevice from 'azure-iot-device';
import azureIotDeviceMqtt from 'azure-iot-device-mqtt';
import { createNodeHost } from '../../hosts/node';
import { HubClient } from '../../src/hub';
import { webSocketTransport } from '../../src/ws/ws-transport';
import type { Transport, TransportEvents, TransportFactory } from '../../src/ports';
import type { PacketTap } from './packet-tap';

export interface BenchClient {
  readonly name: string;
  /** Connects and sets up what an application needs: C2D, methods, twin (read), desired updates. */
  start(): Promise<void>;
  /** One QoS 1 telemetry message; resolves on the hub's PUBACK. */
  send(payload: Uint8Array, messageId: string): Promise<void>;
  stop(): Promise<void>;
}

export interface Endpoint {
  hubHostName: string;
  /** Where TLS goes (the hub or the delay relay in front of it). */
  port: number;
  caPem: string;
  deviceId: string;
  key: string;
}

const CONTENT_TYPE = 'application/json';
const CONTENT_ENCODING = 'utf-8';
const APP_PROPERTY = ['temperatureAlert', 'true'] as const;

function pemToDer(pem: string): Uint8Array {
  const base64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

/** Wraps a transport factory so the tap sees TLS come up and every byte each way. */
function tappedTransport(inner: TransportFactory, tap: PacketTap): TransportFactory {
  return {
    connect(options, events): Transport {
      const watched: TransportEvents = {
        onConnect: () => {
          tap.secure();
          events.onConnect();
        },
        onData: (chunk) => {
          tap.in(chunk);
          events.onData(chunk);
        },
        onWritable: () => events.onWritable(),
        onError: (error) => events.onError(error),
        onClose: (reason) => events.onClose(reason),
      };
      const transport = inner.connect(options, watched);
      return {
        write: (bytes) => {
          tap.out(bytes);
          return transport.write(bytes);
        },
        close: () => transport.close(),
      };
    },
  };
}

/** Bytes through the TLS port (below any WebSocket framing): what goes on the wire inside TLS. */
export interface ByteCount {
  out: number;
  in: number;
}

function countedTransport(inner: TransportFactory, count: ByteCount): TransportFactory {
  return {
    connect(options, events): Transport {
      // Each event passed on by name: `events` may be a class instance (the WebSocket transport is its own
      // listener), whose methods a spread would not copy.
      const transport = inner.connect(options, {
        onConnect: () => events.onConnect(),
        onData: (chunk) => {
          count.in += chunk.length;
          events.onData(chunk);
        },
        onWritable: () => events.onWritable(),
        onError: (error) => events.onError(error),
        onClose: (reason) => events.onClose(reason),
      });
      return {
        write: (bytes) => {
          count.out += bytes.length;
          return transport.write(bytes);
        },
        close: () => transport.close(),
      };
    },
  };
}

export interface OursOptions {
  /** MQTT over WebSockets (src/ws) to `endpoint.port` instead of MQTT. */
  webSocket?: boolean;
  count?: ByteCount;
}

export function oursClient(endpoint: Endpoint, tap?: PacketTap, options: OursOptions = {}): BenchClient {
  const host = createNodeHost({ logLevel: 'error' });
  let transport = tap ? tappedTransport(host.transport, tap) : host.transport;
  if (options.count !== undefined) transport = countedTransport(transport, options.count);
  if (options.webSocket) transport = webSocketTransport(transport, (n) => host.crypto.randomBytes(n));
  const client = new HubClient(
    { transport, timers: host.timers, clock: host.clock, crypto: host.crypto },
    {
      credentials: { kind: 'hub', hostName: endpoint.hubHostName, deviceId: endpoint.deviceId, credential: { kind: 'sas', key: endpoint.key } },
      trustedCAs: [pemToDer(endpoint.caPem)],
      endpoint: { host: '127.0.0.1', port: endpoint.port, serverName: 'localhost' },
      // The SDK has no cap of its own; ours must not be the one refusing work in a 16-deep window.
      maxPendingTelemetry: 256,
    },
  );
  return {
    name: options.webSocket ? 'ours (mqtt-ws)' : 'ours',
    start: async () => {
      // The hub client subscribes and reads the twin by itself on every connect.
      client.onC2D(() => undefined);
      client.onMethod('reboot', () => ({ status: 200 }));
      client.onDesired(() => undefined);
      await client.connect();
    },
    send: (payload, messageId) =>
      client.sendTelemetry(payload, {
        systemProperties: { messageId, contentType: CONTENT_TYPE, contentEncoding: CONTENT_ENCODING },
        properties: { [APP_PROPERTY[0]]: APP_PROPERTY[1] },
      }),
    stop: () => client.close(),
  };
}

const { Client, Message } = azureIotDevice;
const { Mqtt } = azureIotDeviceMqtt;

type TlsModule = typeof NodeTls;

/**
 * The SDK opens TLS inside MQTT.js with `require('tls').connect`; wrapping that one function (on the CommonJS
 * module object MQTT.js holds) lets the tap see the plain MQTT bytes. Restored by the returned function.
 */
function tapSdkSockets(tap: PacketTap): () => void {
  const tls = createRequire(import.meta.url)('node:tls') as TlsModule;
  const original = tls.connect;
  const wrapped = ((...args: Parameters<TlsModule['connect']>) => {
    const socket = (original as (...a: unknown[]) => NodeTls.TLSSocket)(...args);
    socket.once('secureConnect', () => tap.secure());
    socket.on('data', (chunk: Buffer) => tap.in(chunk));
    const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (chunk instanceof Uint8Array) tap.out(chunk);
      else if (typeof chunk === 'string') tap.out(Buffer.from(chunk));
      return write(chunk, ...rest);
    }) as typeof socket.write;
    return socket;
  }) as TlsModule['connect'];
  tls.connect = wrapped;
  return () => {
    if (tls.connect === wrapped) tls.connect = original;
  };
}

export function sdkClient(endpoint: Endpoint, tap?: PacketTap): BenchClient {
  const connectionString =
    `HostName=${endpoint.hubHostName};DeviceId=${endpoint.deviceId};SharedAccessKey=${endpoint.key};` +
    `GatewayHostName=localhost:${endpoint.port}`;
  const client = Client.fromConnectionString(connectionString, Mqtt);
  let untap: (() => void) | undefined;
  return {
    name: 'azure-iot-device',
    start: async () => {
      // setOptions settles asynchronously: open() before it has may dial without the CA.
      await client.setOptions({ ca: endpoint.caPem });
      if (tap) untap = tapSdkSockets(tap);
      try {
        await client.open();
      } finally {
        untap?.();
      }
      // What an application does to get the same service as ours: C2D, a method, the twin and its updates.
      client.on('message', (message) => client.complete(message, () => undefined));
      client.onDeviceMethod('reboot', (_request, response) => response.send(200, () => undefined));
      const twin = await client.getTwin();
      twin.on('properties.desired', () => undefined);
    },
    send: async (payload, messageId) => {
      const message = new Message(Buffer.from(payload.buffer, payload.byteOffset, payload.length));
      message.messageId = messageId;
      message.contentType = CONTENT_TYPE;
      message.contentEncoding = CONTENT_ENCODING;
      message.properties.add(APP_PROPERTY[0], APP_PROPERTY[1]);
      await client.sendEvent(message);
    },
    stop: async () => {
      untap?.();
      await client.close();
    },
  };
}
