// One device's MQTT connection to the emulated DPS. DPS is not a broker: a device talks only to the service,
// so this is a small MQTT 3.1.1 server endpoint (mqtt-packet over the TLS socket) rather than aedes, which
// gives exact control over what Azure does differently: SUBACK never grants QoS 2, a QoS 2 PUBLISH or a
// PUBLISH to any other topic closes the connection, and responses go to the one device that asked.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import type { EmulatorLog, EmulatorLogLevel } from '../log';
import type { ConnectCredentials, ConnectDecision } from './attestation';
import { DPS_RESPONSE_FILTER, parseDpsRequestTopic, type DpsRequest } from './dps-topics';

export type DpsLogLevel = EmulatorLogLevel;
export type DpsLog = EmulatorLog;

export interface DpsConnectionHooks {
  decide(credentials: ConnectCredentials): ConnectDecision;
  /** Called once the CONNACK accepting the device is written. */
  onAccepted(connection: DpsConnection): void;
  onRequest(connection: DpsConnection, request: DpsRequest, payload: Uint8Array): void;
  onClosed(connection: DpsConnection): void;
  log: DpsLog;
}

const CONNECT_TIMEOUT_MS = 10_000;
const MAX_CHAIN = 8;

/** The client certificates of a TLS socket, leaf first; the TLS layer did not verify them. */
export function peerCertificates(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current: PeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<PeerCertificate>();
  while (current && current.raw && !seen.has(current) && chain.length < MAX_CHAIN) {
    seen.add(current);
    try {
      chain.push(new X509Certificate(current.raw));
    } catch {
      break;
    }
    const issuer: PeerCertificate | undefined = (current as { issuerCertificate?: PeerCertificate }).issuerCertificate;
    current = issuer === current ? undefined : issuer;
  }
  return chain;
}

export class DpsConnection {
  registrationId?: string;
  decision?: Extract<ConnectDecision, { kind: 'accept' }>;
  private state: 'awaiting-connect' | 'connected' | 'closed' = 'awaiting-connect';
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private responseQos: 0 | 1 | undefined;
  private nextPacketId = 1;
  private keepAliveMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(
    readonly socket: TLSSocket,
    private readonly hooks: DpsConnectionHooks,
  ) {
    this.parser.on('packet', (packet) => this.onPacket(packet));
    this.parser.on('error', (error: unknown) => this.close(`malformed MQTT: ${error instanceof Error ? error.message : String(error)}`));
    socket.on('data', (chunk: Buffer) => {
      this.armIdleTimer();
      try {
        this.parser.parse(chunk);
      } catch (error) {
        // A bug of ours must cost this one connection, never the emulator process.
        hooks.log('error', `DPS: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        this.close('internal error', 'error', true);
      }
    });
    socket.on('error', (error) => hooks.log('debug', `DPS socket error: ${error.message}`));
    socket.on('close', () => this.finish());
    this.idleTimer = setTimeout(() => this.close('no CONNECT in time'), CONNECT_TIMEOUT_MS);
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  private armIdleTimer(): void {
    if (this.state !== 'connected' || this.keepAliveMs === 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close('keep-alive expired'), this.keepAliveMs * 1.5);
  }

  private send(packet: mqttPacket.Packet): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.socket.write(mqttPacket.generate(packet));
  }

  private onPacket(packet: mqttPacket.Packet): void {
    if (this.state === 'closed') return;
    if (this.state === 'awaiting-connect') {
      if (packet.cmd !== 'connect') return this.close(`first packet was ${packet.cmd}, not connect`);
      return this.onConnect(packet);
    }
    switch (packet.cmd) {
      case 'subscribe': {
        const granted = packet.subscriptions.map((s) => {
          if (s.topic !== DPS_RESPONSE_FILTER) return 0x80;
          this.responseQos = s.qos >= 1 ? 1 : 0;
          return this.responseQos;
        });
        this.send({ cmd: 'suback', messageId: packet.messageId, granted });
        return;
      }
      case 'unsubscribe':
        if (packet.unsubscriptions.includes(DPS_RESPONSE_FILTER)) this.responseQos = undefined;
        this.send({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] });
        return;
      case 'publish': {
        if (packet.qos === 2) return this.close('QoS 2 PUBLISH (DPS closes the connection)');
        const request = parseDpsRequestTopic(packet.topic);
        if (!request) return this.close(`PUBLISH to ${packet.topic}, which is not a DPS request topic`);
        if (packet.qos === 1) this.send({ cmd: 'puback', messageId: packet.messageId });
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        this.hooks.onRequest(this, request, new Uint8Array(payload));
        return;
      }
      case 'puback':
        return;
      case 'pingreq':
        this.send({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        return this.close('device sent DISCONNECT', 'info');
      default:
        return this.close(`unexpected ${packet.cmd} packet`);
    }
  }

  private onConnect(packet: mqttPacket.IConnectPacket): void {
    if (packet.protocolVersion !== 4) {
      this.send({ cmd: 'connack', returnCode: 1, sessionPresent: false });
      return this.close('only MQTT 3.1.1 is supported');
    }
    const decision = this.hooks.decide({
      clientId: packet.clientId,
      username: packet.username,
      password: packet.password && new Uint8Array(packet.password),
      certificates: peerCertificates(this.socket),
    });
    if (decision.kind === 'refuse') {
      this.send({ cmd: 'connack', returnCode: decision.returnCode, sessionPresent: false });
      return this.close(`CONNECT of ${JSON.stringify(packet.clientId)} refused with ${decision.returnCode}: ${decision.reason}`, 'warn');
    }
    this.decision = decision;
    this.registrationId = decision.registrationId;
    this.state = 'connected';
    this.keepAliveMs = (packet.keepalive ?? 0) * 1000;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.armIdleTimer();
    this.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
    this.hooks.log('info', `DPS: ${decision.registrationId} connected${decision.unauthorizedReason ? ` (unauthorized: ${decision.unauthorizedReason})` : ''}`);
    this.hooks.onAccepted(this);
  }

  /** Publishes a response if the device subscribed to the response filter; false when it was not delivered. */
  respond(topic: string, body: unknown): boolean {
    if (this.state !== 'connected') return false;
    if (this.responseQos === undefined) {
      this.hooks.log('warn', `DPS: ${this.registrationId} is not subscribed to ${DPS_RESPONSE_FILTER}; response dropped`);
      return false;
    }
    const payload = Buffer.from(JSON.stringify(body));
    if (this.responseQos === 1) {
      const messageId = this.nextPacketId;
      this.nextPacketId = (this.nextPacketId % 0xffff) + 1;
      this.send({ cmd: 'publish', topic, payload, qos: 1, messageId, dup: false, retain: false });
    } else {
      this.send({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false });
    }
    return true;
  }

  /** Runs `action` after `ms` unless the connection closes first. */
  later(ms: number, action: () => void): void {
    if (ms <= 0) return action();
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      if (this.state !== 'closed') action();
    }, ms);
    this.pending.add(timer);
  }

  /** Ends the connection (flushing what was written); `drop` resets it without a flush. */
  close(reason: string, level: DpsLogLevel = 'warn', drop = false): void {
    if (this.state === 'closed') return;
    this.hooks.log(level, `DPS: closing ${this.registrationId ?? 'connection'}: ${reason}`);
    this.finish();
    if (drop) this.socket.destroy();
    else this.socket.end(() => this.socket.destroy());
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    this.hooks.onClosed(this);
  }
}
