// XS side of the bridge tests on the real engine: firmware-style code using only host.ports, which the Node
// side backs with the real Node host (TLS sockets, timers, node:crypto).
import { installXsnapHost } from '../../../hosts/xsnap/xsnap-host';
import type { BridgeValue } from '../../../hosts/xsnap/bridge-protocol';
import type { Transport } from '../../../src/ports';
import { MqttSession } from '../../../src/mqtt/session';

const host = installXsnapHost();
const { ports } = host;

host.onApp('hmac', (data) => {
  const { key, message } = data as { key: Uint8Array; message: Uint8Array };
  return ports.crypto.hmacSha256(key, message);
});

host.onApp('random', (data) => ports.crypto.randomBytes(data as number));

host.onApp('timers', (data) => {
  const start = ports.timers.now();
  for (const delay of data as number[]) {
    ports.timers.setTimeout(() => {
      host.notify('fired', { delay, elapsed: ports.timers.now() - start });
    }, delay);
  }
  const cancelled = ports.timers.setTimeout(() => host.notify('fired', { delay: -1, elapsed: 0 }), 1);
  ports.timers.clearTimeout(cancelled);
  ports.logger.log('info', `armed ${(data as number[]).length} timers`);
});

host.onApp('echo', (data) => {
  const { port, ca, payload } = data as { port: number; ca: Uint8Array; payload: Uint8Array };
  let received = 0;
  const chunks: Uint8Array[] = [];
  let transport: Transport | undefined;
  transport = ports.transport.connect(
    { host: '127.0.0.1', port, serverName: 'localhost', trustedCAs: [ca] },
    {
      onConnect: () => {
        host.notify('echo', 'connected');
        transport?.write(payload);
      },
      onData: (bytes) => {
        chunks.push(bytes);
        received += bytes.length;
        if (received < payload.length) return;
        const all = new Uint8Array(received);
        let at = 0;
        for (const chunk of chunks) {
          all.set(chunk, at);
          at += chunk.length;
        }
        host.notify('echo', all);
        transport?.close();
      },
      onWritable: () => {},
      onError: (error) => host.notify('echo', { error: error.code, message: error.message }),
      onClose: (reason) => host.notify('echo', { closed: reason.by, code: reason.code ?? null }),
    },
  );
});

let session: MqttSession | undefined;
host.onApp('mqtt-start', (data) => {
  const { port, ca } = data as { port: number; ca: Uint8Array };
  session = new MqttSession({ transport: ports.transport, timers: ports.timers, logger: ports.logger });
  const tell = (what: BridgeValue): void => void host.notify('mqtt', what);
  session.on('connected', ({ sessionPresent }) => tell({ connected: sessionPresent }));
  session.on('close', ({ reason }) => tell({ closed: reason.code }));
  session.setMessageHandler((message) => tell({ message: message.topic, payload: message.payload, qos: message.qos }));
  session
    .connect({
      tls: { host: '127.0.0.1', port, serverName: 'localhost', trustedCAs: [ca] },
      clientId: 'xs-device',
      cleanSession: true,
      keepAlive: 30,
    })
    .then(() => session!.subscribe([{ topic: 'c2d/#', qos: 1 }]))
    .then((granted) => {
      tell({ subscribed: granted });
      return session!.publish('d2c/xs', new Uint8Array([0x68, 0x69]), { qos: 1 });
    })
    .then(() => tell('published'))
    .catch((error: unknown) => tell({ failed: String(error) }));
});

host.onApp('mqtt-stop', () => {
  session
    ?.disconnect()
    .then(() => host.notify('mqtt', 'disconnected'))
    .catch((error: unknown) => host.notify('mqtt', { failed: String(error) }));
});
