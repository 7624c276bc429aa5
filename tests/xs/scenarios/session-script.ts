// One MQTT session life, scripted: the same code runs on Node and inside XS (bundled), driving the real
// MqttSession over the virtual host, and returns every chunk it wrote (hex) and everything it reported, in
// order. Host-neutral: no Node APIs, no host timers, time moves only when the script advances the clock.
import { MqttSession } from '../../../src/mqtt/session';
import { decodeClientPacket, encodeBrokerPacket } from '../../../src/mqtt/broker-codec';
import { ascii, settle, toHex, ScriptedTransportFactory, VirtualClock } from '../../../hosts/virtual';

export interface SessionScenarioResult {
  /** Every chunk the session wrote to the transport, as lowercase hex. */
  written: string[];
  /** Writes, session events, promise outcomes and handler runs, stamped with virtual time. */
  events: string[];
}

export interface SessionScenarioOptions {
  /** Virtual time at the start; the transcript's stamps are relative to nothing else. */
  startMs?: number;
}

const DEVICE = 'dev-xs';
const C2D = `devices/${DEVICE}/messages/devicebound/#`;
const D2C = `devices/${DEVICE}/messages/events/`;

/** The packet id of a chunk the session wrote (SUBSCRIBE, PUBLISH QoS 1), read back with the codec. */
function packetIdOf(chunk: Uint8Array): number {
  const decoded = decodeClientPacket(chunk);
  if (!decoded.ok) throw new Error(`the session wrote an undecodable packet: ${decoded.error.message}`);
  const packet = decoded.value;
  if ((packet.type === 'subscribe' || packet.type === 'publish') && packet.packetId !== undefined) return packet.packetId;
  throw new Error(`expected a packet with an id, got ${packet.type}`);
}

export async function runSessionScenario(options: SessionScenarioOptions = {}): Promise<SessionScenarioResult> {
  const clock = new VirtualClock(options.startMs ?? 0);
  const written: string[] = [];
  const events: string[] = [];
  const note = (text: string): void => void events.push(`${clock.now()} ${text}`);
  const transport = new ScriptedTransportFactory({
    onOpen: (c) => note(`transport #${c.index} open ${c.options.host}:${c.options.port}`),
    onWrite: (_c, bytes) => {
      written.push(toHex(bytes));
      note(`out ${toHex(bytes)}`);
    },
    onClose: (c, reason) => note(`transport #${c.index} closed by ${reason.by}`),
  });
  const lastWrite = (): Uint8Array => {
    const chunks = transport.last.written;
    return chunks[chunks.length - 1];
  };
  const step = async (what: string, action: () => void): Promise<void> => {
    note(`> ${what}`);
    action();
    await settle();
  };
  const track = (label: string, promise: Promise<unknown>): void =>
    void promise.then(
      (value) => note(`resolved ${label}${value === undefined ? '' : ` ${JSON.stringify(value)}`}`),
      (error: unknown) => note(`rejected ${label} ${error instanceof Error ? error.message : String(error)}`),
    );

  const session = new MqttSession({ transport, timers: clock }, { pingTimeoutMs: 5_000 });
  session.on('state', ({ state, previous }) => note(`state ${previous} -> ${state}`));
  session.on('connected', ({ sessionPresent }) => note(`connected sessionPresent=${sessionPresent}`));
  session.on('message', (m) => note(`message ${m.topic} qos=${m.qos} dup=${m.dup} id=${m.packetId ?? '-'} payload=${toHex(m.payload)}`));
  session.on('close', ({ reason }) => note(`close ${reason.code}`));
  session.on('error', (error) => note(`error ${error.code}`));
  // Settles 100 ms of virtual time after the message arrives: the PUBACK must wait for it.
  session.setMessageHandler(
    (message) =>
      new Promise<void>((resolve) => {
        clock.setTimeout(() => {
          note(`handled ${message.topic}`);
          resolve();
        }, 100);
      }),
  );

  await step('connect', () =>
    track(
      'connect',
      session.connect({
        tls: { host: 'hub.test', port: 8883, trustedCAs: [] },
        clientId: DEVICE,
        cleanSession: false,
        keepAlive: 30,
        username: `hub.test/${DEVICE}/?api-version=2021-04-12`,
        password: ascii('SharedAccessSignature sr=hub.test%2Fdevices%2Fdev-xs&sig=c2ln&se=1700000000'),
      }),
    ),
  );
  const connection = transport.last;
  await step('tls up', () => connection.open());
  await step('CONNACK', () => connection.push(encodeBrokerPacket({ type: 'connack', sessionPresent: false, returnCode: 0 })));

  await step('subscribe', () => track('subscribe', session.subscribe([{ topic: C2D, qos: 1 }])));
  const subscribeId = packetIdOf(lastWrite());
  await step('SUBACK', () => connection.push(encodeBrokerPacket({ type: 'suback', packetId: subscribeId, granted: [1] })));

  await step('publish qos0', () => track('publish qos0', session.publish(D2C, ascii('{"t":21.5}'), { qos: 0 })));
  await step('publish qos1', () => track('publish qos1', session.publish(D2C, ascii('{"n":1}'), { qos: 1 })));
  const publishId = packetIdOf(lastWrite());
  await step('PUBACK', () => connection.push(encodeBrokerPacket({ type: 'puback', packetId: publishId })));

  // Arrives split across two chunks, as TCP may deliver it.
  const incoming = encodeBrokerPacket({
    type: 'publish',
    topic: `devices/${DEVICE}/messages/devicebound/%24.to=%2Fdevices%2Fdev-xs`,
    payload: ascii('reboot'),
    qos: 1,
    dup: false,
    retain: false,
    packetId: 7,
  });
  await step('incoming qos1 part 1', () => connection.push(incoming.subarray(0, 5)));
  await step('incoming qos1 part 2', () => connection.push(incoming.subarray(5)));
  await step('advance 50', () => void clock.advance(50));
  await step('advance 50', () => void clock.advance(50));

  await step('advance 30000', () => void clock.advance(30_000));
  await step('PINGRESP', () => connection.push(encodeBrokerPacket({ type: 'pingresp' })));

  await step('disconnect', () => track('disconnect', session.disconnect()));
  await step('advance 10', () => void clock.advance(10));
  return { written, events };
}
