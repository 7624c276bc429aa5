// Shared set-up for the MQTT session tests: a session on the virtual clock and scripted transport,
// with every event recorded, and a tracker that shows whether a promise has settled yet.

import { ScriptedTransportFactory, VirtualClock, ascii, settle } from '../../hosts/virtual';
import type { ScriptedConnection } from '../../hosts/virtual';
import { MqttSession } from '../../src/mqtt/session';
import type { MqttSessionError } from '../../src/mqtt/session-errors';
import type { MqttConnectOptions, MqttSessionOptions, SessionCloseReason } from '../../src/mqtt/session-types';
import type { Tracked } from '../helpers/track-promise';

export const CONNACK_OK = '20020000';
export const CONNACK_SESSION_PRESENT = '20020100';
/** CONNECT for DEFAULT_CONNECT: client id "dev1", keepAlive 60, cleanSession false, no credentials. */
export const CONNECT_DEFAULT = '101000044d5154540400003c000464657631';

export const DEFAULT_CONNECT: MqttConnectOptions = {
  tls: { host: 'broker.test', port: 8883, trustedCAs: [] },
  clientId: 'dev1',
  cleanSession: false,
  keepAlive: 60,
};

export interface Fixture {
  clock: VirtualClock;
  transport: ScriptedTransportFactory;
  session: MqttSession;
  /** "state:connecting", "connected:false", "close:ping-timeout", "error:handler-failed", "message:topic" in order. */
  events: string[];
  closes: SessionCloseReason[];
  errors: MqttSessionError[];
  /** The current connection. */
  readonly link: ScriptedConnection;
}

export function setup(options: MqttSessionOptions = {}): Fixture {
  const clock = new VirtualClock();
  const transport = new ScriptedTransportFactory();
  const session = new MqttSession({ transport, timers: clock }, options);
  const events: string[] = [];
  const closes: SessionCloseReason[] = [];
  const errors: MqttSessionError[] = [];
  session.on('state', ({ state }) => events.push(`state:${state}`));
  session.on('connected', ({ sessionPresent }) => events.push(`connected:${sessionPresent}`));
  session.on('close', ({ reason }) => {
    events.push(`close:${reason.code}`);
    closes.push(reason);
  });
  session.on('error', (error) => {
    events.push(`error:${error.code}`);
    errors.push(error);
  });
  session.on('message', (m) => events.push(`message:${m.topic}`));
  return {
    clock,
    transport,
    session,
    events,
    closes,
    errors,
    get link() {
      return transport.last;
    },
  };
}

/** Connects through CONNACK and forgets the bytes written so far. */
export async function connectFx(fx: Fixture, overrides: Partial<MqttConnectOptions> = {}, connack = CONNACK_OK): Promise<void> {
  const done = fx.session.connect({ ...DEFAULT_CONNECT, ...overrides });
  fx.link.open();
  fx.link.push(connack);
  await done;
  fx.link.takeHex();
  fx.events.length = 0;
}

export { track, type Tracked } from '../helpers/track-promise';

/** Received bytes are handled on a later job, not inside onData: this lets that job run. */
export async function received(): Promise<void> {
  await Promise.resolve();
}

export function errorCode(t: Tracked<unknown>): unknown {
  return (t.error as { code?: unknown } | undefined)?.code;
}

export { ascii, settle };
