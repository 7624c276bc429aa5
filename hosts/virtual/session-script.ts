// Runs an MQTT session against the virtual clock and the scripted transport from a plain-data script, and
// returns a transcript: every byte written, every state change, event and promise outcome, stamped with
// virtual time. Same script, same transcript, on Node and on XS, so an XS runner can compare the two.
// Scripts are JSON-friendly (hex strings, no functions) so they can cross into an XS worker as text.

import type { TransportErrorCode } from '../../src/ports';
import type { Subscription } from '../../src/mqtt/packets';
import { MqttSession } from '../../src/mqtt/session';
import type { MqttConnectOptions, MqttSessionOptions } from '../../src/mqtt/session-types';
import { ascii, fromHex, toHex } from './hex';
import { ScriptedTransportFactory } from './scripted-transport';
import { VirtualClock, settle } from './virtual-clock';

export type ScriptStep =
  /** session.connect(); options override the script's defaults (client id "dev1", keepAlive 60, cleanSession false). */
  | { op: 'connect'; options?: Partial<Omit<MqttConnectOptions, 'password'>> & { password?: string } }
  /** The transport's TLS handshake completes. */
  | { op: 'open' }
  /** Bytes from the broker, as hex. */
  | { op: 'receive'; hex: string }
  | { op: 'advance'; ms: number }
  | { op: 'publish'; label: string; topic: string; payload?: string; qos?: 0 | 1 | 2; retain?: boolean }
  | { op: 'subscribe'; label: string; filters: Subscription[] }
  | { op: 'unsubscribe'; label: string; topics: string[] }
  | { op: 'disconnect'; label: string }
  | { op: 'peer-close' }
  | { op: 'fail'; code: TransportErrorCode; message?: string }
  | { op: 'block-writes' }
  | { op: 'drain' }
  | { op: 'abandon'; message?: string }
  /** How the message handler behaves from now on: ack at once, throw, or settle after `delayMs` of virtual time. */
  | { op: 'handler'; mode: 'sync' | 'throw' | 'delay' | 'reject'; delayMs?: number };

export interface SessionScriptOptions {
  session?: MqttSessionOptions;
}

export interface SessionScriptResult {
  transcript: string[];
  session: MqttSession;
  clock: VirtualClock;
  transport: ScriptedTransportFactory;
}

const DEFAULT_CONNECT: MqttConnectOptions = {
  tls: { host: 'broker.test', port: 8883, trustedCAs: [] },
  clientId: 'dev1',
  cleanSession: false,
  keepAlive: 60,
};

function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const name = error instanceof Error ? error.name : 'Error';
  const returnCode = (error as { returnCode?: unknown } | null)?.returnCode;
  const reason = (error as { reason?: { code?: unknown } } | null)?.reason?.code;
  if (typeof code === 'string') return `${name} ${code}`;
  if (typeof returnCode === 'number') return `${name} returnCode=${returnCode}`;
  if (typeof reason === 'string') return `${name} ${reason}`;
  return name;
}

export async function runSessionScript(steps: ScriptStep[], options: SessionScriptOptions = {}): Promise<SessionScriptResult> {
  const clock = new VirtualClock();
  const transcript: string[] = [];
  const note = (text: string): void => {
    transcript.push(`${clock.now()} ${text}`);
  };
  const transport = new ScriptedTransportFactory({
    onOpen: (c) => note(`transport #${c.index} ${c.options.host}:${c.options.port}`),
    onWrite: (_c, bytes) => note(`out ${toHex(bytes)}`),
    onClose: (c, reason) => note(`transport #${c.index} closed by ${reason.by}`),
  });
  const session = new MqttSession({ transport, timers: clock }, options.session ?? {});
  session.on('state', ({ state }) => note(`state ${state}`));
  session.on('connected', ({ sessionPresent }) => note(`connected sessionPresent=${sessionPresent}`));
  session.on('close', ({ reason }) => note(`close ${reason.code}${reason.returnCode === undefined ? '' : ` returnCode=${reason.returnCode}`}`));
  session.on('error', (error) => note(`error ${error.code}`));
  session.on('message', (m) =>
    note(`message ${m.topic} qos=${m.qos} dup=${m.dup} retain=${m.retain}${m.packetId === undefined ? '' : ` id=${m.packetId}`} payload=${toHex(m.payload)}`),
  );

  let mode: 'sync' | 'throw' | 'delay' | 'reject' = 'sync';
  let delayMs = 0;
  session.setMessageHandler((message) => {
    if (mode === 'throw') throw new Error('handler threw');
    if (mode === 'sync') return;
    const failing = mode === 'reject';
    return new Promise<void>((resolve, reject) => {
      clock.setTimeout(() => {
        note(`handled ${message.topic}`);
        if (failing) reject(new Error('handler rejected'));
        else resolve();
      }, delayMs);
    });
  });

  const track = <T>(label: string, promise: Promise<T>): void => {
    promise.then(
      (value) => note(`resolved ${label}${value === undefined ? '' : ` ${JSON.stringify(value)}`}`),
      (error: unknown) => note(`rejected ${label} ${describeError(error)}`),
    );
  };

  for (const step of steps) {
    switch (step.op) {
      case 'connect': {
        const { password, ...rest } = step.options ?? {};
        const connectOptions: MqttConnectOptions = { ...DEFAULT_CONNECT, ...rest };
        if (password !== undefined) connectOptions.password = ascii(password);
        track('connect', session.connect(connectOptions));
        break;
      }
      case 'open':
        transport.last.open();
        break;
      case 'receive':
        transport.last.push(fromHex(step.hex));
        break;
      case 'advance':
        await clock.advanceSettled(step.ms);
        break;
      case 'publish':
        track(step.label, session.publish(step.topic, ascii(step.payload ?? ''), { qos: step.qos ?? 0, retain: step.retain ?? false }));
        break;
      case 'subscribe':
        track(step.label, session.subscribe(step.filters));
        break;
      case 'unsubscribe':
        track(step.label, session.unsubscribe(step.topics));
        break;
      case 'disconnect':
        track(step.label, session.disconnect());
        break;
      case 'peer-close':
        transport.last.peerClose();
        break;
      case 'fail':
        transport.last.fail({ code: step.code, message: step.message ?? step.code });
        break;
      case 'block-writes':
        transport.last.blockWrites();
        break;
      case 'drain':
        transport.last.drain();
        break;
      case 'abandon':
        session.abandonPending(step.message);
        break;
      case 'handler':
        mode = step.mode;
        delayMs = step.delayMs ?? 0;
        break;
    }
    await settle();
  }
  return { transcript, session, clock, transport };
}
