// A bare MQTT 3.1.1 client over node:tls (mqtt-packet) for driving the DPS emulator packet by packet.
// It records everything the server sends so tests can assert exact topics, bodies and CONNACK codes.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import { createSasToken } from '../../emulator/src/sas-verify';
import { createCa, issueServerCertificate, type KeyAndCert } from '../../emulator/src/pki';
import { Registry } from '../../emulator/src/registry';
import { startDpsServer, type DpsServer, type DpsServerOptions } from '../../emulator/src/dps/dps-server';

export interface RawConnectOptions {
  port: number;
  ca: string;
  /** PEM client certificate and key for X.509 attestation. */
  cert?: string;
  key?: string;
}

export interface ReceivedPublish {
  topic: string;
  body: string;
  qos: number;
  messageId?: number;
}

export class RawMqttClient {
  readonly received: mqttPacket.Packet[] = [];
  private readonly waiters: { match: (p: mqttPacket.Packet) => boolean; resolve: (p: mqttPacket.Packet) => void }[] = [];
  private closedPromise: Promise<void>;
  closed = false;
  private nextId = 1;

  private constructor(private readonly socket: TLSSocket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet) => {
      this.received.push(packet);
      const index = this.waiters.findIndex((w) => w.match(packet));
      if (index >= 0) this.waiters.splice(index, 1)[0].resolve(packet);
    });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  static open(options: RawConnectOptions): Promise<RawMqttClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: options.port,
        servername: 'localhost',
        ca: options.ca,
        cert: options.cert,
        key: options.key,
      });
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(new RawMqttClient(socket));
      });
      socket.once('error', reject);
    });
  }

  send(packet: mqttPacket.Packet): void {
    this.socket.write(mqttPacket.generate(packet));
  }

  /** Resolves with the next packet matching `match` that arrives after this call. */
  next(match: (p: mqttPacket.Packet) => boolean, timeoutMs = 3000): Promise<mqttPacket.Packet> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error('timed out waiting for a packet'));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (p: mqttPacket.Packet) => {
          clearTimeout(timer);
          resolve(p);
        },
      };
      this.waiters.push(waiter);
    });
  }

  async connect(clientId: string, username: string, password?: string, keepalive = 60): Promise<number> {
    const reply = this.next((p) => p.cmd === 'connack');
    this.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId,
      keepalive,
      username,
      ...(password !== undefined ? { password: Buffer.from(password) } : {}),
    });
    const connack = (await reply) as mqttPacket.IConnackPacket;
    return connack.returnCode ?? -1;
  }

  async subscribe(topic: string, qos: 0 | 1 | 2 = 1): Promise<number[]> {
    const messageId = this.nextId++;
    const reply = this.next((p) => p.cmd === 'suback' && p.messageId === messageId);
    this.send({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] });
    return ((await reply) as mqttPacket.ISubackPacket).granted as number[];
  }

  /** Publishes and resolves with the next response PUBLISH from the server. */
  async request(topic: string, body: string, qos: 0 | 1 | 2 = 1): Promise<ReceivedPublish> {
    const reply = this.next((p) => p.cmd === 'publish');
    this.publish(topic, body, qos);
    return toReceived((await reply) as mqttPacket.IPublishPacket);
  }

  publish(topic: string, body: string, qos: 0 | 1 | 2 = 1): void {
    const packet: mqttPacket.IPublishPacket = { cmd: 'publish', topic, payload: Buffer.from(body), qos, dup: false, retain: false };
    if (qos > 0) packet.messageId = this.nextId++;
    this.send(packet);
  }

  waitClosed(timeoutMs = 3000): Promise<void> {
    return Promise.race([
      this.closedPromise,
      new Promise<void>((_, reject) => setTimeout(() => reject(new Error('connection stayed open')), timeoutMs).unref()),
    ]);
  }

  async end(): Promise<void> {
    if (!this.closed) {
      this.socket.end();
      this.socket.destroy();
    }
    await this.closedPromise;
  }
}

export function toReceived(packet: mqttPacket.IPublishPacket): ReceivedPublish {
  const out: ReceivedPublish = { topic: packet.topic, body: Buffer.from(packet.payload).toString('utf8'), qos: packet.qos };
  if (packet.messageId !== undefined) out.messageId = packet.messageId;
  return out;
}

export function dpsUsername(idScope: string, registrationId: string): string {
  return `${idScope}/registrations/${registrationId}/api-version=2019-03-31`;
}

/** A DPS SAS token (`skn=registration`) valid for an hour unless `expiry` (Unix seconds) is given. */
export function dpsSasToken(idScope: string, registrationId: string, key: string, expiry = Math.floor(Date.now() / 1000) + 3600): string {
  return createSasToken({ key, resource: `${idScope}/registrations/${registrationId}`, expiry, keyName: 'registration' });
}

export const REGISTER_TOPIC = (rid: string | number): string => `$dps/registrations/PUT/iotdps-register/?$rid=${rid}`;
export const POLL_TOPIC = (rid: string | number, operationId: string): string =>
  `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${rid}&operationId=${operationId}`;

export interface DpsTestBed {
  ca: KeyAndCert;
  registry: Registry;
  dps: DpsServer;
  logs: string[];
  open(options?: { cert?: string; key?: string }): Promise<RawMqttClient>;
  /** Opens, CONNECTs with a SAS for `key`, subscribes to the response filter; throws unless accepted. */
  connectSas(registrationId: string, key: string, idScope?: string): Promise<RawMqttClient>;
  close(): Promise<void>;
}

/** One CA and server certificate per test file (RSA key generation is the slow part). */
export function testPki(): { ca: KeyAndCert; server: KeyAndCert } {
  const ca = createCa('DPS Test Root');
  return { ca, server: issueServerCertificate(ca) };
}

export async function startDpsTestBed(
  pki: { ca: KeyAndCert; server: KeyAndCert },
  overrides: Partial<DpsServerOptions> = {},
): Promise<DpsTestBed> {
  const registry = new Registry();
  const logs: string[] = [];
  const dps = await startDpsServer({
    host: '127.0.0.1',
    port: 0,
    tls: { key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.ca.certPem },
    registry,
    hubHostName: 'localhost:8883',
    log: (level, message) => logs.push(`${level} ${message}`),
    ...overrides,
  });
  const clients: RawMqttClient[] = [];
  const open = async (options: { cert?: string; key?: string } = {}): Promise<RawMqttClient> => {
    const client = await RawMqttClient.open({ port: dps.port, ca: pki.ca.certPem, ...options });
    clients.push(client);
    return client;
  };
  return {
    ca: pki.ca,
    registry,
    dps,
    logs,
    open,
    async connectSas(registrationId, key, idScope = dps.idScope) {
      const client = await open();
      const code = await client.connect(registrationId, dpsUsername(idScope, registrationId), dpsSasToken(idScope, registrationId, key));
      if (code !== 0) throw new Error(`CONNACK ${code}`);
      await client.subscribe('$dps/registrations/res/#', 1);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.end()));
      await dps.close();
    },
  };
}
