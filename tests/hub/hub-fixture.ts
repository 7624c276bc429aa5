// A HubClient on the virtual clock and the scripted transport: the test plays the hub, byte for byte.
// Expected bytes come from mqtt-packet (an independent encoder) and SAS tokens from node:crypto directly, so
// the assertions do not just repeat our own codec and signer.

import { createHmac } from 'node:crypto';
import mqttPacket from 'mqtt-packet';
import { ScriptedTransportFactory, VirtualClock, settle, toHex } from '../../hosts/virtual';
import type { ScriptedConnection } from '../../hosts/virtual';
import { createNodeCrypto } from '../../hosts/node/node-crypto';
import { HubClient } from '../../src/hub/hub-client';
import type { HubClientConfig } from '../../src/hub/hub-settings';
import type { HubError } from '../../src/hub/hub-error';
import type { HubDisconnectReason } from '../../src/hub/hub-types';
import { track as trackPromise, type Tracked as TrackedPromise } from '../helpers/track-promise';

export const HOST = 'hub.example.net';
export const DEVICE = 'dev1';
export const KEY = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
/** Wall time at virtual 0: a whole second, so token expiries are exact. */
export const WALL_START_MS = 1_700_000_000_000;

export const TEST_BACKOFF = { minDelayMs: 1000, maxDelayMs: 100_000, maxJitterMs: 5000, throttledMinMs: 10_000, throttledMaxMs: 60_000 };

export interface HubFixture {
  clock: VirtualClock;
  transport: ScriptedTransportFactory;
  client: HubClient;
  /** "connected", "disconnected:renewal", "reconnecting:1:1000", "error:auth-failed", "state:waiting" ... */
  events: string[];
  errors: HubError[];
  disconnects: HubDisconnectReason[];
  wall: { offsetMs: number | undefined };
  readonly link: ScriptedConnection;
}

export function setupHub(config: Partial<HubClientConfig> = {}, options: { clockUnset?: boolean; states?: boolean } = {}): HubFixture {
  const clock = new VirtualClock();
  const transport = new ScriptedTransportFactory();
  const wall = { offsetMs: options.clockUnset ? undefined : WALL_START_MS } as { offsetMs: number | undefined };
  const client = new HubClient(
    {
      transport,
      timers: clock,
      clock: { unixMs: () => (wall.offsetMs === undefined ? undefined : wall.offsetMs + clock.now()) },
      crypto: createNodeCrypto(),
    },
    {
      credentials: { kind: 'hub', hostName: HOST, deviceId: DEVICE, credential: { kind: 'sas', key: KEY } },
      trustedCAs: [],
      random: () => 0,
      backoff: TEST_BACKOFF,
      ...config,
    },
  );
  const events: string[] = [];
  const errors: HubError[] = [];
  const disconnects: HubDisconnectReason[] = [];
  client.on('connected', () => events.push('connected'));
  client.on('disconnected', ({ reason }) => {
    events.push(`disconnected:${reason.code}`);
    disconnects.push(reason);
  });
  client.on('reconnecting', ({ attempt, delayMs }) => events.push(`reconnecting:${attempt}:${delayMs}`));
  client.on('error', (error) => {
    events.push(`error:${error.code}`);
    errors.push(error);
  });
  if (options.states) client.on('state', ({ state }) => events.push(`state:${state}`));
  return {
    clock,
    transport,
    client,
    events,
    errors,
    disconnects,
    wall,
    get link() {
      return transport.last;
    },
  };
}

// ---- bytes, from mqtt-packet ----

type OracleInput = Record<string, unknown> & { cmd: string };

export function pkt(packet: OracleInput): string {
  return toHex(new Uint8Array(mqttPacket.generate(packet as unknown as mqttPacket.Packet)));
}

export function sasToken(sr: string, key: string, expiry: number): string {
  const encodedSr = encodeURIComponent(sr);
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`${encodedSr}\n${expiry}`).digest('base64');
  return `SharedAccessSignature sr=${encodedSr}&sig=${encodeURIComponent(sig)}&se=${expiry}`;
}

export function connectHex(options: { clientId?: string; username?: string; password?: string; keepalive?: number } = {}): string {
  const packet: OracleInput = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: false,
    clientId: options.clientId ?? DEVICE,
    keepalive: options.keepalive ?? 240,
    username: options.username ?? `${HOST}/${DEVICE}/?api-version=2021-04-12`,
  };
  if (options.password !== undefined) packet['password'] = Buffer.from(options.password);
  return pkt(packet);
}

export const C2D_FILTER = `devices/${DEVICE}/messages/devicebound/#`;
export const DEVICE_FILTERS = [
  { topic: C2D_FILTER, qos: 1 },
  { topic: '$iothub/methods/POST/#', qos: 0 },
  { topic: '$iothub/twin/res/#', qos: 0 },
  { topic: '$iothub/twin/PATCH/properties/desired/#', qos: 0 },
];

export function subscribeHex(messageId: number, subscriptions = DEVICE_FILTERS): string {
  return pkt({ cmd: 'subscribe', messageId, subscriptions });
}

export function publishHex(topic: string, payload: string | Uint8Array, qos: 0 | 1 = 0, messageId?: number, dup = false): string {
  const packet: OracleInput = { cmd: 'publish', topic, payload: Buffer.from(payload), qos, dup, retain: false };
  if (messageId !== undefined) packet['messageId'] = messageId;
  return pkt(packet);
}

export function subackHex(messageId: number, granted = [1, 0, 0, 0]): string {
  return pkt({ cmd: 'suback', messageId, granted });
}

export function pubackHex(messageId: number): string {
  return pkt({ cmd: 'puback', messageId });
}

export const CONNACK_OK = '20020000';
export const CONNACK_PRESENT = '20020100';
export const connackRefused = (code: number): string => `200200${code.toString(16).padStart(2, '0')}`;
export const DISCONNECT = 'e000';

export function twinDoc(desired: Record<string, unknown>, desiredVersion: number, reported: Record<string, unknown> = {}, reportedVersion = 1): string {
  return JSON.stringify({ desired: { ...desired, $version: desiredVersion }, reported: { ...reported, $version: reportedVersion } });
}

/** Opens the current transport and accepts the CONNECT; returns the hex written after the CONNACK. */
export async function acceptConnection(fx: HubFixture, connack = CONNACK_OK): Promise<string[]> {
  fx.link.open();
  await settle();
  fx.link.takeHex();
  fx.link.push(connack);
  await settle();
  return fx.link.takeHex();
}

/** connect() through CONNACK, SUBACK, the twin GET the SUBACK lets out, and its answer (desired version `desiredVersion`). */
export async function connectFully(fx: HubFixture, desiredVersion = 1, desired: Record<string, unknown> = {}): Promise<void> {
  const connected = fx.client.connect();
  await acceptConnection(fx);
  fx.link.push(subackHex(1));
  await settle();
  fx.link.push(publishHex('$iothub/twin/res/200/?$rid=1', twinDoc(desired, desiredVersion)));
  await connected;
  await settle();
  fx.link.takeHex();
}

export type Tracked<T> = TrackedPromise<T, HubError>;

export function track<T>(promise: Promise<T>): Tracked<T> {
  return trackPromise<T, HubError>(promise);
}

export { settle, toHex };
