// The emulator's own ceiling: a bare TLS socket that writes pre-encoded QoS 1 PUBLISH packets and counts
// PUBACKs, with no client logic at all. When a client comes close to this figure the emulator, not the client,
// is what limits it, and ratios between clients understate the faster one.
import { createHmac } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { buildHubSasToken } from '../../src/azure/sas-token';
import { hubMqttIdentity } from '../../src/azure/mqtt-identity';
import { encodePacket, encodePublish } from '../../src/mqtt/encode';
import { MqttStreamParser } from '../../src/mqtt/stream-parser';
import { benchTelemetryTopic } from '../codec/fixtures';
import type { Endpoint, BenchClient } from './clients';

const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', key).update(data).digest());

export function rawClient(endpoint: Endpoint): BenchClient {
  let socket: TLSSocket | undefined;
  const parser = new MqttStreamParser();
  const waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();
  const topic = benchTelemetryTopic(endpoint.deviceId);
  let closed: Error | undefined;
  let nextId = 1;
  let connected: (() => void) | undefined;
  return {
    name: 'raw MQTT (pre-encoded)',
    start: () =>
      new Promise<void>((resolve, reject) => {
        const identity = hubMqttIdentity({ hostName: endpoint.hubHostName, deviceId: endpoint.deviceId });
        const token = buildHubSasToken(
          { hostName: endpoint.hubHostName, deviceId: endpoint.deviceId, key: endpoint.key, expiryUnixSeconds: Math.floor(Date.now() / 1000) + 3600 },
          hmac,
        );
        if (!identity.ok || !token.ok) {
          reject(new Error('raw client: cannot build the identity or token'));
          return;
        }
        connected = resolve;
        socket = connect({ host: '127.0.0.1', port: endpoint.port, servername: 'localhost', ca: endpoint.caPem }, () => {
          socket!.setNoDelay(true);
          socket!.write(
            encodePacket({
              type: 'connect',
              clientId: identity.value.clientId,
              cleanSession: true,
              keepAlive: 240,
              username: identity.value.username,
              password: new TextEncoder().encode(token.value),
            }),
          );
        });
        socket.on('error', reject);
        socket.on('close', () => {
          closed = new Error('raw client: the hub closed the connection');
          reject(closed);
          for (const pending of waiting.values()) pending.reject(closed);
          waiting.clear();
        });
        socket.on('data', (chunk: Buffer) => {
          for (const result of parser.push(new Uint8Array(chunk))) {
            if (!result.ok) continue;
            const packet = result.value;
            if (packet.type === 'connack') {
              if (packet.returnCode === 0) connected?.();
              else reject(new Error(`raw client: CONNACK ${packet.returnCode}`));
            } else if (packet.type === 'puback') {
              const pending = waiting.get(packet.packetId);
              waiting.delete(packet.packetId);
              pending?.resolve();
            }
          }
        });
      }),
    send: (payload) =>
      new Promise<void>((resolve, reject) => {
        if (closed) {
          reject(closed);
          return;
        }
        const id = nextId;
        nextId = nextId === 0xffff ? 1 : nextId + 1;
        waiting.set(id, { resolve, reject });
        socket!.write(encodePublish(topic, payload, 1, false, false, id));
      }),
    stop: async () => {
      if (!socket) return;
      const s = socket;
      if (s.destroyed) return;
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end(new Uint8Array([0xe0, 0]));
      });
    },
  };
}
