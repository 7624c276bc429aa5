// A bare MQTT 3.1.1 client over node:tls for negative tests: send any packet (even forbidden ones), collect what
// comes back as parsed packets and raw bytes, and observe when and how the server closes the connection.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import mqtt from 'mqtt-packet';

export type AnyPacket = mqtt.Packet;

export interface RawConnectOptions {
  port: number;
  /** CA certificate (PEM) the server must chain to. */
  ca: string;
  host?: string;
  servername?: string;
  /** Client certificate and key (PEM) for X.509 identities. */
  cert?: string;
  key?: string;
}

export interface CloseInfo {
  /** Milliseconds since the client connected. */
  afterMs: number;
  hadError: boolean;
}

export class RawMqttClient {
  /** Every packet received, in order. */
  readonly received: AnyPacket[] = [];
  /** Every byte received, in order (for checking partial packets). */
  readonly receivedBytes: Buffer[] = [];
  readonly closed: Promise<CloseInfo>;
  private readonly unread: AnyPacket[] = [];
  private waiters: Array<{ match: (p: AnyPacket) => boolean; resolve: (p: AnyPacket) => void }> = [];
  private readonly parser = mqtt.parser({ protocolVersion: 4 });
  private isClosed = false;
  private readonly openedAt = Date.now();
  private nextId = 1;

  private constructor(readonly socket: TLSSocket) {
    this.parser.on('packet', (packet: AnyPacket) => {
      this.received.push(packet);
      const waiter = this.waiters.find((w) => w.match(packet));
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(packet);
      } else {
        this.unread.push(packet);
      }
    });
    socket.on('data', (chunk: Buffer) => {
      this.receivedBytes.push(chunk);
      this.parser.parse(chunk);
    });
    this.closed = new Promise((resolve) => {
      socket.on('error', () => {});
      socket.on('close', (hadError) => {
        this.isClosed = true;
        resolve({ afterMs: Date.now() - this.openedAt, hadError });
      });
    });
  }

  static connect(options: RawConnectOptions): Promise<RawMqttClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: options.host ?? '127.0.0.1',
        port: options.port,
        servername: options.servername ?? 'localhost',
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

  get isOpen(): boolean {
    return !this.isClosed;
  }

  send(packet: AnyPacket): void {
    this.socket.write(mqtt.generate(packet));
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** A fresh packet id for SUBSCRIBE / QoS 1 PUBLISH. */
  packetId(): number {
    return this.nextId++;
  }

  /** The next packet (of a given type / matching a predicate) not yet taken; rejects after `timeoutMs`. */
  next(match: 'publish', timeoutMs?: number): Promise<mqtt.IPublishPacket>;
  next(match: AnyPacket['cmd'] | ((p: AnyPacket) => boolean), timeoutMs?: number): Promise<AnyPacket>;
  next(match: AnyPacket['cmd'] | ((p: AnyPacket) => boolean), timeoutMs = 3000): Promise<AnyPacket> {
    const predicate = typeof match === 'string' ? (p: AnyPacket) => p.cmd === match : match;
    const index = this.unread.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match: predicate,
        resolve: (p: AnyPacket) => {
          clearTimeout(timer);
          resolve(p);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${typeof match === 'string' ? match : 'matching'} packet within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves true if a matching packet arrives within `ms`, false otherwise (for "nothing came" checks). */
  async receives(match: AnyPacket['cmd'] | ((p: AnyPacket) => boolean), ms: number): Promise<boolean> {
    try {
      await this.next(match, ms);
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves with the close info, or rejects if the connection is still open after `timeoutMs`. */
  async waitClosed(timeoutMs = 3000): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends CONNECT and waits for CONNACK. */
  async mqttConnect(options: {
    clientId: string;
    username?: string;
    password?: string | Buffer;
    clean?: boolean;
    keepalive?: number;
    protocolVersion?: 3 | 4;
    will?: { topic: string; payload: Buffer; qos: 0 | 1 | 2; retain: boolean };
  }): Promise<mqtt.IConnackPacket> {
    this.send({
      cmd: 'connect',
      protocolId: options.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: options.protocolVersion ?? 4,
      clientId: options.clientId,
      clean: options.clean ?? false,
      keepalive: options.keepalive ?? 60,
      username: options.username,
      password: typeof options.password === 'string' ? Buffer.from(options.password) : options.password,
      will: options.will,
    });
    return (await this.next('connack')) as mqtt.IConnackPacket;
  }

  /** Sends SUBSCRIBE and waits for its SUBACK; returns the granted codes. */
  async subscribe(filters: Array<{ topic: string; qos: 0 | 1 | 2 }>): Promise<number[]> {
    const messageId = this.packetId();
    this.send({ cmd: 'subscribe', messageId, subscriptions: filters });
    const suback = (await this.next((p) => p.cmd === 'suback' && p.messageId === messageId)) as mqtt.ISubackPacket;
    return suback.granted as number[];
  }

  publish(topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 0, extra: { retain?: boolean; messageId?: number } = {}): number | undefined {
    const messageId = qos > 0 ? (extra.messageId ?? this.packetId()) : undefined;
    this.send({ cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos, dup: false, retain: extra.retain ?? false, messageId });
    return messageId;
  }

  /** Ends the connection and waits for the socket to close. */
  async close(): Promise<void> {
    if (!this.isClosed) this.socket.destroy();
    await this.closed;
  }
}
