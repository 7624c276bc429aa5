// Shared set-up for the DPS client unit tests: a DpsClient on the virtual clock and scripted transport, a
// test-side "DPS" that answers packet by packet, and expected client packets built by mqtt-packet (the oracle),
// so every assertion is on exact bytes produced independently of our encoder.

import { createHmac } from 'node:crypto';
import mqttPacket from 'mqtt-packet';
import { ScriptedTransportFactory, VirtualClock, settle } from '../../hosts/virtual';
import type { ScriptedConnection } from '../../hosts/virtual';
import { createNodeCrypto } from '../../hosts/node/node-crypto';
import { DpsClient } from '../../src/dps/dps-client';
import type { DeviceCredential, DpsIdentity } from '../../src/identity';
import type { DpsRegisterOptions, DpsRegistrationResult } from '../../src/dps/dps-options';
import { track, type Tracked } from '../helpers/track-promise';

export { settle };

/** 2023-11-14T22:13:20Z: SAS expiries in these tests are 1700003600. */
export const NOW_MS = 1_700_000_000_000;
export const ID_SCOPE = '0ne00000001';
export const KEY = Buffer.alloc(32, 1).toString('base64');
export const CA = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);

export const IDENTITY: DpsIdentity = { kind: 'dps', idScope: ID_SCOPE, registrationId: 'dev-1', credential: { kind: 'sas', key: KEY } };

/** The test enrollment with other parts: `dpsIdentity(credential)` alone is an X.509 device (no registration id). */
export function dpsIdentity(credential: DeviceCredential, more: Partial<DpsIdentity> = {}): DpsIdentity {
  return { kind: 'dps', idScope: ID_SCOPE, credential, ...more };
}

export function options(overrides: Partial<DpsRegisterOptions> = {}): DpsRegisterOptions {
  return { identity: IDENTITY, trustedCAs: [CA], ...overrides };
}

export function packetHex(packet: mqttPacket.Packet): string {
  return Buffer.from(mqttPacket.generate(packet)).toString('hex');
}

/** The SAS token computed here with node:crypto and encodeURIComponent, independently of src/azure. */
export function expectedSas(registrationId: string, key: string, expiry = NOW_MS / 1000 + 3600, idScope = ID_SCOPE): string {
  const sr = encodeURIComponent(`${idScope}/registrations/${registrationId}`);
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${expiry}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expiry}&skn=registration`;
}

export function connectHex(registrationId: string, password?: string, keepalive = 60, usernameSuffix = ''): string {
  const packet: mqttPacket.IConnectPacket = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: registrationId,
    keepalive,
    username: `${ID_SCOPE}/registrations/${registrationId}/api-version=2019-03-31${usernameSuffix}`,
  };
  if (password !== undefined) packet.password = Buffer.from(password);
  return packetHex(packet);
}

export function subscribeHex(messageId: number): string {
  return packetHex({ cmd: 'subscribe', messageId, subscriptions: [{ topic: '$dps/registrations/res/#', qos: 1 }] });
}

export function registerHex(rid: number | string, messageId: number, body = '{"registrationId":"dev-1"}'): string {
  return packetHex({
    cmd: 'publish',
    topic: `$dps/registrations/PUT/iotdps-register/?$rid=${rid}`,
    payload: Buffer.from(body),
    qos: 1,
    messageId,
    dup: false,
    retain: false,
  });
}

export function pollHex(rid: number | string, operationId: string, messageId: number): string {
  return packetHex({
    cmd: 'publish',
    topic: `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${rid}&operationId=${operationId}`,
    payload: Buffer.alloc(0),
    qos: 1,
    messageId,
    dup: false,
    retain: false,
  });
}

export const DISCONNECT_HEX = 'e000';

export function assignedBody(operationId = 'op-1', state: Record<string, unknown> = {}): string {
  return JSON.stringify({
    operationId,
    status: 'assigned',
    registrationState: {
      registrationId: 'dev-1',
      assignedHub: 'hub-1.azure-devices.net',
      deviceId: 'dev-1',
      status: 'assigned',
      substatus: 'initialAssignment',
      ...state,
    },
  });
}

export function assigningBody(operationId = 'op-1'): string {
  return JSON.stringify({ operationId, status: 'assigning' });
}

export { track, type Tracked };

export interface DpsFixture {
  clock: VirtualClock;
  transport: ScriptedTransportFactory;
  client: DpsClient;
  wall: { now: number | undefined; unixMs(): number | undefined };
  logs: string[];
  /** 'transport #0 closed by local', 'settled' ... in the order they happened. */
  order: string[];
  readonly link: ScriptedConnection;
  /** Starts a registration and tracks its promise. */
  register(overrides?: Partial<DpsRegisterOptions>): Tracked<DpsRegistrationResult>;
  /** TLS up, CONNACK 0, SUBACK granted; returns the bytes written up to and including the register PUBLISH. */
  acceptAndSubscribe(): Promise<string[]>;
  /** A PUBLISH from DPS on `topic`, QoS 0 unless told. */
  answer(topic: string, body: string, qos?: 0 | 1, messageId?: number): Promise<void>;
  puback(messageId: number): void;
  advance(ms: number): Promise<void>;
}

export function setupDps(): DpsFixture {
  const clock = new VirtualClock();
  const order: string[] = [];
  const transport = new ScriptedTransportFactory({
    onClose: (c, reason) => order.push(`transport #${c.index} closed by ${reason.by}`),
  });
  const wall = {
    now: NOW_MS as number | undefined,
    unixMs(): number | undefined {
      return this.now;
    },
  };
  const logs: string[] = [];
  const client = new DpsClient({
    transport,
    timers: clock,
    clock: wall,
    crypto: createNodeCrypto(),
    logger: { log: (level, message) => logs.push(`${level} ${message}`) },
  });
  const fx: DpsFixture = {
    clock,
    transport,
    client,
    wall,
    logs,
    order,
    get link() {
      return transport.last;
    },
    register(overrides = {}) {
      return track(client.register(options(overrides)), () => order.push('settled'));
    },
    async acceptAndSubscribe() {
      await settle();
      fx.link.open();
      fx.link.push('20020000');
      await settle();
      fx.link.push('9003000101');
      await settle();
      return fx.link.takeHex();
    },
    async answer(topic, body, qos = 0, messageId) {
      const packet: mqttPacket.IPublishPacket = { cmd: 'publish', topic, payload: Buffer.from(body), qos, dup: false, retain: false };
      if (qos === 1) packet.messageId = messageId ?? 1;
      fx.link.push(new Uint8Array(mqttPacket.generate(packet)));
      await settle();
    },
    puback(messageId) {
      fx.link.push(packetHex({ cmd: 'puback', messageId }));
    },
    async advance(ms) {
      await clock.advanceSettled(ms);
      await settle();
    },
  };
  return fx;
}
