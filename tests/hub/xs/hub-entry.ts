// XS side of the hub end-to-end test: the HubClient on the real XS engine, its ports (TLS socket, timers, clock,
// crypto) backed by the Node host over the bridge. The Node side drives it with app calls and hears back
// through notices.
import { installXsnapHost } from '../../../hosts/xsnap/xsnap-host';
import type { BridgeValue } from '../../../hosts/xsnap/bridge-protocol';
import { HubClient } from '../../../src/hub/hub-client';
import type { HubError } from '../../../src/hub/hub-error';

const host = installXsnapHost();
const { ports } = host;
let client: HubClient | undefined;

const tell = (name: string, data: BridgeValue): void => void host.notify(name, data);
const failure = (error: unknown): BridgeValue => {
  const e = error as Partial<HubError>;
  return { failed: String(e.code ?? 'error'), message: String(e.message ?? error) };
};

host.onApp('hub-start', (data) => {
  const { port, ca, connectionString, sasTtlSeconds } = data as { port: number; ca: Uint8Array; connectionString: string; sasTtlSeconds: number };
  client = new HubClient(ports, {
    credentials: { kind: 'connection-string', connectionString },
    trustedCAs: [ca],
    endpoint: { host: '127.0.0.1', port, serverName: 'localhost' },
    modelId: 'dtmi:com:example:Thermostat;1',
    sasTtlSeconds,
    backoff: { minDelayMs: 100, maxDelayMs: 2000, maxJitterMs: 50, throttledMinMs: 200, throttledMaxMs: 400 },
  });
  client.on('connected', ({ sessionPresent }) => tell('hub', { connected: sessionPresent }));
  client.on('disconnected', ({ reason }) => tell('hub', { disconnected: reason.code }));
  client.on('error', (error) => tell('hub', { error: error.code, message: error.message }));
  client.onDesired((patch, version, info) => tell('desired', { patch: JSON.stringify(patch), version, full: info.full }));
  client.onC2D((message) => tell('c2d', { payload: message.payload, messageId: message.messageId ?? null }));
  client.onMethod('ping', (call) => ({ status: 200, payload: { pong: call.payload, engine: 'xs' } }));
  client.connect().then(
    () => tell('hub', 'ready'),
    (error: unknown) => tell('hub', failure(error)),
  );
});

host.onApp('send', (data) => {
  const { body, id } = data as { body: string; id: string };
  client?.sendTelemetry(body, { systemProperties: { messageId: id, contentType: 'application/json', contentEncoding: 'utf-8' } }).then(
    () => tell('sent', id),
    (error: unknown) => tell('sent', failure(error)),
  );
});

host.onApp('patch', (data) => {
  client?.patchReported(JSON.parse(data as string) as Record<string, unknown>).then(
    (version) => tell('patched', version ?? null),
    (error: unknown) => tell('patched', failure(error)),
  );
});

host.onApp('stop', () => {
  client?.close().then(() => tell('hub', 'closed'));
});
