// The hub: aedes over node:tls with IoT Hub's rules. aedes runs the MQTT session (CONNECT/CONNACK, keep-alive,
// takeover, subscriptions); the hooks below decide who may connect and what they may publish or subscribe to;
// each socket goes through a Wire so the hub can fix SUBACK, own C2D delivery, and inject faults.
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { X509Certificate, randomUUID } from 'node:crypto';
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Registry, RegistryChange } from '../registry';
import type { TlsMaterial } from '../tls-material';
import type { EmulatorLog } from '../log';
import { HubEmitter } from '../typed-events';
import { decideConnect, type AuthMethod } from './connect-auth';
import {
  METHODS_FILTER,
  c2dTopicPrefix,
  classifyDevicePublish,
  filterMatches,
  identityKey,
  isAllowedFilter,
  methodRequestTopic,
  twinResponseTopic,
  desiredPatchTopic,
  type Identity,
  type PropertyBag,
} from './topics';
import { Wire, type WirePacket } from './wire';
import { FaultController, type DeviceBoundKind, type FaultEvent } from './faults';
import { TwinStore, type JsonObject, type Twin } from './twin-store';
import { C2DError, C2DQueue, C2D_MAX_DELIVERIES, c2dTopic, type C2DOptions, type C2DProperties } from './c2d-queue';
import { METHOD_PAYLOAD_LIMIT, PendingMethods, errorResult, parseMethodPayload, validMethodName, type MethodResult } from './methods';
import { TelemetryLog, splitProperties, type TelemetryMessage } from './telemetry';
import type { ConnectionEvent, DisconnectReason, HubEvents } from './hub-events';

export interface HubServerOptions {
  /** 0 = ephemeral. */
  port: number;
  hubHostName?: string;
  tls: TlsMaterial;
  registry: Registry;
  log: EmulatorLog;
  stateDir?: string;
  telemetryHistory: number;
}

/** Largest PUBLISH payload the hub accepts from a device (D2C limit). */
export const D2C_MAX_BYTES = 256 * 1024;
/** Most subscriptions one connection may hold. */
export const MAX_SUBSCRIPTIONS = 5;
/** Longest delay setTimeout takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type AuthError = Error & { returnCode: number };

interface HeldPublish {
  packet: WirePacket & { cmd: 'publish' };
  /** Later publishes still to go out before this one. */
  remaining: number;
  timer: NodeJS.Timeout | undefined;
}

class HubConnection {
  clientId: string | undefined;
  identity: Identity | undefined;
  key: string | undefined;
  clean = true;
  keepAlive = 0;
  will: { topic: string; qos: number } | undefined;
  authMethod: AuthMethod | undefined;
  state: 'new' | 'connecting' | 'active' | 'closed' = 'new';
  readonly subscriptions = new Set<string>();
  /** Filters whose SUBACK has gone out to the device. */
  readonly acknowledged = new Set<string>();
  /** Set once a SUBACK was held (late-subscription fault): from then on only acknowledged filters receive. */
  strictAcks = false;
  /** SUBSCRIBE packet id -> the filters asked for, and how long its SUBACK is held (late-subscription fault). */
  readonly pendingSubacks = new Map<number, { filters: string[]; holdMs?: number }>();
  /** C2D message ids sent on this connection and not yet acknowledged. */
  readonly sentC2D = new Set<string>();
  closeReason: { reason: DisconnectReason; detail: string } | undefined;
  /** When the SAS token the connection authenticated with expires (Unix ms); undefined for X.509. */
  tokenExpiresAt: number | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  /** Publishes the out-of-order fault holds back (sent after later ones, or at their deadline). */
  readonly held: HeldPublish[] = [];
  wire!: Wire;

  constructor(readonly peerCertificates: X509Certificate[]) {}

  setCloseReason(reason: DisconnectReason, detail: string): void {
    this.closeReason ??= { reason, detail };
  }

  /** True when a filter covering the topic may receive: granted, and (once SUBACKs are held) acknowledged. */
  subscribedTo(topic: string, ignoreAcks = false): boolean {
    for (const filter of this.subscriptions) {
      if (this.strictAcks && !ignoreAcks && !this.acknowledged.has(filter)) continue;
      if (filterMatches(filter, topic)) return true;
    }
    return false;
  }
}

function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (current && current.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    try {
      chain.push(new X509Certificate(current.raw));
    } catch {
      break;
    }
    current = current.issuerCertificate;
  }
  return chain;
}

function errorBody(status: number, message: string): Buffer {
  return Buffer.from(
    JSON.stringify({ errorCode: status * 1000 + 1, trackingId: randomUUID(), message, timestampUtc: new Date().toISOString() }),
  );
}

export class HubServer {
  readonly events: HubEmitter<HubEvents>;
  readonly faults: FaultController;
  readonly hubHostName: string;
  private readonly connections = new Set<HubConnection>();
  private readonly byBrokerSide = new WeakMap<Duplex, HubConnection>();
  private readonly active = new Map<string, HubConnection>();
  private readonly rawSockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly twins: TwinStore;
  private readonly c2d = new C2DQueue();
  private readonly methods = new PendingMethods();
  private readonly telemetryLog: TelemetryLog;
  private readonly connectionHistory: ConnectionEvent[] = [];
  private broker!: Aedes;
  private server!: Server;
  private unsubscribeRegistry: () => void = () => {};
  private closing = false;
  private mqttBlocked = false;

  private constructor(
    private readonly options: HubServerOptions,
    readonly port: number,
  ) {
    this.hubHostName = options.hubHostName ?? (port === 8883 ? 'localhost' : `localhost:${port}`);
    this.events = new HubEmitter<HubEvents>((error) => options.log('error', `hub event listener threw: ${String(error)}`));
    this.twins = new TwinStore(options.stateDir);
    this.telemetryLog = new TelemetryLog(options.telemetryHistory);
    this.faults = new FaultController({
      wiresOf: (target) => this.connectionsOf(target).map((c) => c.wire),
      closeConnections: (target, how, detail) => this.closeConnections(target, how, 'fault', detail),
      emitFault: (event) => this.emitFault(event),
    });
  }

  static async start(options: HubServerOptions): Promise<HubServer> {
    const server = createServer({
      key: options.tls.server.keyPem,
      cert: options.tls.server.certPem,
      // Ask for a client certificate but let the handshake through: X.509 identities are checked at CONNECT.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    });
    // Without this a CONNACK written right after the TLS handshake waits for the client's delayed ACK (~40 ms per
    // connection), a delay no real hub adds.
    server.on('connection', (socket) => socket.setNoDelay(true));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const hub = new HubServer(options, port);
    hub.server = server;
    hub.broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => hub.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => hub.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => hub.authorizeSubscribe(client, sub, done),
      // Nothing the broker routes is ever for a device: the hub writes C2D, twin and method traffic itself.
      authorizeForward: () => null,
      // Client ids are up to 128 characters for devices plus the module id.
      maxClientsIdLength: 257,
    });
    hub.broker.on('clientReady', (client) => hub.onClientReady(client));
    hub.broker.on('keepaliveTimeout', (client) => {
      hub.connectionOf(client)?.setCloseReason('keepalive-timeout', 'no packet within 1.5 x keep-alive');
    });
    hub.broker.on('subscribe', (_subs, client) => {
      const conn = hub.connectionOf(client);
      if (conn) hub.deliverC2D(conn);
    });
    hub.broker.on('unsubscribe', (topics, client) => {
      const conn = hub.connectionOf(client);
      if (conn) {
        for (const topic of topics) {
          conn.subscriptions.delete(topic);
          conn.acknowledged.delete(topic);
        }
      }
    });
    server.on('connection', (socket: Socket) => {
      if (hub.mqttBlocked) {
        socket.destroy();
        return;
      }
      hub.rawSockets.add(socket);
      socket.once('close', () => hub.rawSockets.delete(socket));
    });
    server.on('secureConnection', (socket: TLSSocket) => hub.onSocket(socket));
    server.on('tlsClientError', (error) => options.log('debug', `TLS handshake failed: ${error.message}`));
    hub.unsubscribeRegistry = options.registry.onChange((change) => hub.onRegistryChange(change));
    return hub;
  }

  // ---- connections ----

  /** Takes an MQTT byte stream from another front (MQTT over WebSockets) as if from the MQTT port. */
  acceptSocket(socket: TLSSocket): void {
    this.onSocket(socket);
  }

  /** While blocked, the MQTT port resets every new connection (a network that lets out only 443). */
  blockMqttPort(blocked: boolean): void {
    this.mqttBlocked = blocked;
  }

  private onSocket(socket: TLSSocket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new HubConnection(peerChain(socket));
    conn.wire = new Wire(socket, {
      inbound: (packet) => this.onInbound(conn, packet),
      outbound: (packet) => this.onOutbound(conn, packet),
      protocolError: (message) => {
        conn.setCloseReason('protocol-violation', message);
        this.options.log('warn', `${conn.clientId ?? 'client'}: ${message}`);
      },
      closed: () => this.onClosed(conn),
    });
    this.connections.add(conn);
    this.byBrokerSide.set(conn.wire.brokerSide, conn);
    this.broker.handle(conn.wire.brokerSide);
  }

  private connectionOf(client: Client | null): HubConnection | undefined {
    return client ? this.byBrokerSide.get(client.conn as Duplex) : undefined;
  }

  private connectionsOf(target: string): HubConnection[] {
    return [...this.connections].filter((c) => c.state === 'active' && c.key !== undefined && (target === '*' || c.key === target));
  }

  private refuseRaw(conn: HubConnection, returnCode: number, detail: string): void {
    this.recordConnection({ type: 'refused', clientId: conn.clientId ?? '', at: new Date().toISOString(), returnCode, detail });
    this.options.log('info', `refused ${conn.clientId ?? '(no id)'} with CONNACK ${returnCode}: ${detail}`);
    conn.wire.send({ cmd: 'connack', returnCode, sessionPresent: false });
    conn.wire.end();
  }

  private onInbound(conn: HubConnection, packet: WirePacket): boolean {
    switch (packet.cmd) {
      case 'connect': {
        if (conn.state !== 'new') return true; // a second CONNECT: aedes closes the connection
        conn.clientId = packet.clientId;
        conn.clean = packet.clean ?? true;
        conn.keepAlive = packet.keepalive ?? 0;
        conn.will = packet.will ? { topic: packet.will.topic, qos: packet.will.qos ?? 0 } : undefined;
        conn.state = 'connecting';
        if (packet.protocolVersion !== 4) {
          this.refuseRaw(conn, 1, `protocol version ${packet.protocolVersion ?? '?'}; the hub speaks MQTT 3.1.1 only`);
          return false;
        }
        const refusal = this.faults.takeConnectRefusal(packet.clientId);
        if (refusal !== undefined) {
          this.emitFault({ kind: 'refuse-connect', target: packet.clientId, detail: `CONNACK ${refusal}` });
          this.refuseRaw(conn, refusal, 'fault: connect refused');
          return false;
        }
        return true;
      }
      case 'puback': {
        if (conn.identity && conn.identity.moduleId === undefined && packet.messageId !== undefined) {
          const message = this.c2d.complete(conn.identity.deviceId, packet.messageId);
          if (message) {
            conn.sentC2D.delete(message.messageId);
            this.events.emit('c2d', { deviceId: message.deviceId, messageId: message.messageId, outcome: 'completed' });
            return false;
          }
        }
        return true;
      }
      case 'subscribe': {
        if (conn.key !== undefined && packet.messageId !== undefined) {
          const late = this.faults.takeLateSubscription(conn.key);
          if (late) conn.strictAcks = true;
          conn.pendingSubacks.set(packet.messageId, { filters: packet.subscriptions.map((s) => s.topic), holdMs: late?.holdMs });
        }
        return true;
      }
      case 'disconnect':
        conn.setCloseReason('client-disconnect', 'DISCONNECT received');
        return true;
      default:
        return true;
    }
  }

  private onOutbound(conn: HubConnection, packet: WirePacket): WirePacket | undefined {
    switch (packet.cmd) {
      case 'connack':
        if (packet.returnCode === 0) this.activate(conn);
        return packet;
      case 'suback': {
        // aedes echoes the requested QoS; the hub grants at most 1 (and 0x80 for refused filters).
        const suback: WirePacket = { ...packet, granted: packet.granted.map((g) => (g === 128 ? 128 : Math.min(Number(g), 1))) as number[] };
        const pending = packet.messageId === undefined ? undefined : conn.pendingSubacks.get(packet.messageId);
        if (packet.messageId !== undefined) conn.pendingSubacks.delete(packet.messageId);
        const acknowledge = (): void => {
          for (const filter of pending?.filters ?? []) if (conn.subscriptions.has(filter)) conn.acknowledged.add(filter);
        };
        if (pending?.holdMs === undefined) {
          acknowledge();
          return suback;
        }
        this.emitFault({ kind: 'late-subscription', target: conn.key ?? '', detail: `SUBACK ${packet.messageId} held ${pending.holdMs} ms` });
        this.later(() => {
          if (conn.state !== 'active' || conn.wire.closed) return;
          conn.wire.send(suback);
          acknowledge();
          this.deliverC2D(conn);
        }, pending.holdMs);
        return undefined;
      }
      case 'puback':
        if (conn.key !== undefined && this.faults.takePubackWithhold(conn.key)) {
          this.emitFault({ kind: 'withhold-puback', target: conn.key, detail: `packet id ${packet.messageId}` });
          return undefined;
        }
        return packet;
      default:
        return packet;
    }
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthError | null, success: boolean | null) => void,
  ): void {
    const conn = this.connectionOf(client);
    if (!conn) {
      done(Object.assign(new Error('unknown connection'), { returnCode: 3 }), null);
      return;
    }
    const decision = decideConnect(
      {
        clientId: conn.clientId ?? '',
        username,
        password: password ? new Uint8Array(password) : undefined,
        peerCertificates: conn.peerCertificates,
        will: conn.will,
      },
      { registry: this.options.registry, hubHostName: this.hubHostName, nowMs: Date.now() },
    );
    if (!decision.ok) {
      this.recordConnection({ type: 'refused', clientId: conn.clientId ?? '', at: new Date().toISOString(), returnCode: decision.returnCode, detail: decision.reason });
      this.options.log('info', `refused ${conn.clientId ?? '(no id)'} with CONNACK ${decision.returnCode}: ${decision.reason}`);
      done(Object.assign(new Error(decision.reason), { returnCode: decision.returnCode }), null);
      return;
    }
    const key = identityKey(decision.identity);
    conn.identity = decision.identity;
    conn.key = key;
    conn.authMethod = decision.method;
    conn.tokenExpiresAt = decision.tokenExpiresAt;
    const previous = this.active.get(key);
    if (previous && previous !== conn) previous.setCloseReason('replaced', 'a new connection of the same identity took over');
    if (conn.clean && decision.identity.moduleId === undefined) {
      for (const message of this.c2d.clear(decision.identity.deviceId)) {
        this.events.emit('c2d', { deviceId: message.deviceId, messageId: message.messageId, outcome: 'discarded-clean-session' });
      }
    }
    done(null, true);
  }

  /** The CONNACK 0 is on its way out: from now on the identity counts as connected. */
  private activate(conn: HubConnection): void {
    if (!conn.key || !conn.identity || conn.state !== 'connecting') return;
    conn.state = 'active';
    this.active.set(conn.key, conn);
    this.recordConnection({
      type: 'connected',
      ...conn.identity,
      at: new Date().toISOString(),
      authMethod: conn.authMethod ?? 'sas',
      cleanSession: conn.clean,
      keepAlive: conn.keepAlive,
    });
    this.options.log('info', `connected ${conn.key} (${conn.authMethod}, clean=${conn.clean}, keepalive=${conn.keepAlive}s)`);
    this.armTokenExpiry(conn);
  }

  /**
   * IoT Hub checks a SAS token at CONNECT and again when it expires: it then closes the connection
   * (IoTHubUnauthorized, 401003). MQTT 3.1.1 cannot re-authenticate, so a device must reconnect with a new token first.
   */
  private armTokenExpiry(conn: HubConnection): void {
    const expiresAt = conn.tokenExpiresAt;
    if (expiresAt === undefined || conn.state !== 'active') return;
    const remaining = expiresAt - Date.now();
    // setTimeout holds at most 2^31-1 ms (about 24.8 days); a longer token is re-armed when that runs out.
    conn.expiryTimer = this.later(() => {
      conn.expiryTimer = undefined;
      if (conn.state !== 'active') return;
      if (Date.now() < expiresAt) return this.armTokenExpiry(conn);
      const detail = `SAS token expired at ${new Date(expiresAt).toISOString()} (IoTHubUnauthorized 401003)`;
      conn.setCloseReason('token-expired', detail);
      this.options.log('info', `closing ${conn.key}: ${detail}`);
      conn.wire.end();
    }, Math.min(Math.max(0, remaining), MAX_TIMER_MS));
  }

  /** aedes finished the CONNECT (session restored): faults armed for the identity apply, queued C2D goes out. */
  private onClientReady(client: Client): void {
    const conn = this.connectionOf(client);
    if (!conn || conn.state !== 'active' || !conn.key || conn.wire.closed) return;
    this.faults.attach(conn.key, conn.wire);
    this.deliverC2D(conn);
  }

  private onClosed(conn: HubConnection): void {
    this.connections.delete(conn);
    for (const entry of conn.held.splice(0)) this.cancel(entry.timer);
    this.cancel(conn.expiryTimer);
    conn.expiryTimer = undefined;
    const wasActive = conn.state === 'active';
    conn.state = 'closed';
    if (!wasActive || !conn.key || !conn.identity) return;
    if (this.active.get(conn.key) === conn) this.active.delete(conn.key);
    const reason = conn.closeReason ?? { reason: this.closing ? 'server-stopped' : 'peer-closed', detail: 'connection closed without DISCONNECT' };
    this.recordConnection({ type: 'disconnected', ...conn.identity, at: new Date().toISOString(), reason: reason.reason, detail: reason.detail });
    this.options.log('info', `disconnected ${conn.key}: ${reason.reason} (${reason.detail})`);
  }

  private closeConnections(target: string, how: 'kill' | 'graceful', reason: DisconnectReason, detail: string): number {
    const list = this.connectionsOf(target);
    for (const conn of list) {
      conn.setCloseReason(reason, detail);
      if (how === 'kill') conn.wire.kill();
      else conn.wire.end();
    }
    return list.length;
  }

  private recordConnection(event: ConnectionEvent): void {
    this.connectionHistory.push(event);
    if (this.connectionHistory.length > 500) this.connectionHistory.shift();
    this.events.emit('connection', event);
  }

  private emitFault(event: FaultEvent): void {
    this.options.log('info', `fault ${event.kind} on ${event.target}: ${event.detail}`);
    this.events.emit('fault', event);
  }

  private onRegistryChange(change: RegistryChange): void {
    if (change.kind === 'device-removed' || (change.kind === 'device-updated' && this.options.registry.getDevice(change.deviceId)?.status === 'disabled')) {
      for (const conn of [...this.connections]) {
        if (conn.identity?.deviceId === change.deviceId) {
          conn.setCloseReason('identity-removed', `device ${change.deviceId} ${change.kind === 'device-removed' ? 'deleted' : 'disabled'}`);
          conn.wire.kill();
        }
      }
      if (change.kind === 'device-removed') this.c2d.clear(change.deviceId);
    }
    if (change.kind === 'module-removed') {
      const key = `${change.deviceId}/${change.moduleId}`;
      for (const conn of [...this.connections]) {
        if (conn.key === key) {
          conn.setCloseReason('identity-removed', `module ${key} deleted`);
          conn.wire.kill();
        }
      }
    }
  }

  // ---- what devices publish ----

  private authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    const conn = this.connectionOf(client);
    if (!conn?.identity || !conn.key) {
      done(client ? new Error('not authenticated') : null);
      return;
    }
    const reject = (detail: string): void => {
      conn.setCloseReason('protocol-violation', detail);
      this.options.log('warn', `closing ${conn.key}: ${detail}`);
      done(new Error(detail));
    };
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (packet.qos === 2) return reject('QoS 2 PUBLISH (IoT Hub supports QoS 0 and 1 only)');
    if (payload.length > D2C_MAX_BYTES) return reject(`PUBLISH of ${payload.length} bytes is over the ${D2C_MAX_BYTES}-byte limit`);
    const topic = classifyDevicePublish(conn.identity, packet.topic);
    switch (topic.kind) {
      case 'forbidden':
        return reject(topic.reason);
      case 'telemetry':
        this.onTelemetry(conn, packet, payload, topic.properties);
        // The hub does not retain messages; it only marks them.
        packet.retain = false;
        return done(null);
      case 'twin-get':
        this.onTwinRequest(conn, topic.rid, () => ({ status: 200, body: Buffer.from(this.twins.documentJson(conn.key!)) }));
        return done(null);
      case 'twin-patch-reported':
        this.onTwinRequest(conn, topic.rid, () => {
          const outcome = this.twins.patchReported(conn.key!, payload);
          if (outcome.status !== 204) return { status: outcome.status, body: errorBody(outcome.status, outcome.message) };
          this.events.emit('twin', {
            ...conn.identity!,
            section: 'reported',
            patch: JSON.parse(Buffer.from(payload).toString('utf8')) as JsonObject,
            version: outcome.version,
          });
          return { status: 204, body: Buffer.alloc(0), version: outcome.version };
        });
        return done(null);
      case 'method-response':
        this.onMethodResponse(conn, topic.rid, { status: topic.status, payload: parseMethodPayload(payload) });
        return done(null);
    }
  }

  private onTelemetry(conn: HubConnection, packet: PublishPacket, payload: Buffer, bag: PropertyBag): void {
    const { properties, systemProperties } = splitProperties(bag);
    if (packet.retain) properties['mqtt-retain'] = 'true';
    const message: TelemetryMessage = {
      ...conn.identity!,
      body: new Uint8Array(payload),
      properties,
      systemProperties,
      receivedAt: new Date().toISOString(),
      qos: packet.qos === 1 ? 1 : 0,
      topic: packet.topic,
    };
    this.telemetryLog.add(conn.key!, message);
    this.events.emit('telemetry', message);
    this.faults.applyTelemetryProperties(conn.key!, properties);
  }

  private onTwinRequest(conn: HubConnection, rid: string, serve: () => { status: number; body: Buffer; version?: number }): void {
    const key = conn.key!;
    const fault = this.faults.takeTwinFault(key);
    if (fault?.drop) {
      this.emitFault({ kind: 'twin-drop', target: key, detail: `$rid ${rid}` });
      return;
    }
    let response: { status: number; body: Buffer; version?: number };
    if (fault?.status !== undefined) {
      this.emitFault({ kind: 'twin-status', target: key, detail: `${fault.status} for $rid ${rid}` });
      response = { status: fault.status, body: errorBody(fault.status, `injected status ${fault.status}`) };
    } else {
      response = serve();
    }
    const send = (): void => {
      this.sendToDevice(conn, twinResponseTopic(response.status, rid, response.version), response.body, 'twin-response');
    };
    if (fault?.delayMs) this.later(send, fault.delayMs);
    else send();
  }

  private onMethodResponse(conn: HubConnection, rid: string, result: MethodResult): void {
    const key = conn.key!;
    const fault = this.faults.takeMethodFault(key);
    if (fault?.drop) {
      this.emitFault({ kind: 'method-drop', target: key, detail: `$rid ${rid}` });
      return;
    }
    const deliver = (): void => {
      if (!this.methods.settle(key, rid, result)) this.options.log('debug', `${key}: method reply for unknown or expired $rid ${rid} dropped`);
    };
    if (fault?.delayMs) this.later(deliver, fault.delayMs);
    else deliver();
  }

  /** Publishes to a connected device at QoS 0 if it holds a subscription covering the topic. */
  private sendToDevice(conn: HubConnection, topic: string, payload: Buffer, kind: DeviceBoundKind): boolean {
    if (conn.state !== 'active') return false;
    if (!conn.subscribedTo(topic)) {
      // Late-subscription fault: the filter was asked for but its SUBACK has not gone out, so the answer is lost.
      if (conn.subscribedTo(topic, true)) this.emitFault({ kind: 'late-subscription-drop', target: conn.key ?? '', detail: topic });
      return false;
    }
    this.publishToDevice(conn, { cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false }, kind);
    return true;
  }

  /** Every publish to a device goes out here, so the out-of-order fault can hold one behind later ones. */
  private publishToDevice(conn: HubConnection, packet: WirePacket & { cmd: 'publish' }, kind: DeviceBoundKind): void {
    const fault = conn.key === undefined ? undefined : this.faults.takeOutOfOrder(conn.key, kind);
    if (fault) {
      const entry: HeldPublish = { packet, remaining: fault.after, timer: undefined };
      entry.timer = this.later(() => this.releaseHeld(conn, entry), fault.maxHoldMs);
      conn.held.push(entry);
      this.emitFault({ kind: 'out-of-order', target: conn.key ?? '', detail: `${packet.topic} held until ${fault.after} later publish(es)` });
      return;
    }
    conn.wire.send(packet);
    for (const entry of [...conn.held]) {
      entry.remaining--;
      if (entry.remaining <= 0) this.releaseHeld(conn, entry);
    }
  }

  private releaseHeld(conn: HubConnection, entry: HeldPublish): void {
    const index = conn.held.indexOf(entry);
    if (index < 0) return;
    conn.held.splice(index, 1);
    this.cancel(entry.timer);
    conn.wire.send(entry.packet);
  }

  private later(action: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private cancel(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  // ---- what devices subscribe to ----

  private authorizeSubscribe(client: Client, sub: Subscription, done: (error: Error | null, subscription?: Subscription | null) => void): void {
    const conn = this.connectionOf(client);
    if (!conn?.identity || !isAllowedFilter(conn.identity, sub.topic)) {
      this.options.log('info', `${conn?.key ?? 'client'}: subscription to ${sub.topic} refused`);
      done(null, null);
      return;
    }
    if (!conn.subscriptions.has(sub.topic) && conn.subscriptions.size >= MAX_SUBSCRIPTIONS) {
      this.options.log('info', `${conn.key}: subscription to ${sub.topic} refused, ${MAX_SUBSCRIPTIONS} already held`);
      done(null, null);
      return;
    }
    conn.subscriptions.add(sub.topic);
    done(null, { ...sub, qos: sub.qos >= 1 ? 1 : 0 });
  }

  // ---- cloud-to-device ----

  sendC2D(deviceId: string, body: string | Uint8Array, properties?: C2DProperties, options?: C2DOptions): string {
    if (!this.options.registry.getDevice(deviceId)) throw new C2DError('not-found', `device ${deviceId} does not exist`);
    const bytes = typeof body === 'string' ? new Uint8Array(Buffer.from(body, 'utf8')) : body;
    const message = this.c2d.enqueue(deviceId, bytes, properties, options);
    const conn = this.active.get(deviceId);
    if (conn) this.deliverC2D(conn);
    return message.messageId;
  }

  private deliverC2D(conn: HubConnection): void {
    const identity = conn.identity;
    if (conn.state !== 'active' || !identity || identity.moduleId !== undefined) return;
    if (!conn.subscribedTo(`${c2dTopicPrefix(identity.deviceId)}x`)) return;
    const now = Date.now();
    for (const message of this.c2d.pending(identity.deviceId)) {
      if (conn.sentC2D.has(message.messageId)) continue;
      const drop = message.expiresAt <= now ? 'expired' : message.deliveryCount >= C2D_MAX_DELIVERIES ? 'max-deliveries' : undefined;
      if (drop) {
        this.c2d.remove(identity.deviceId, (m) => m === message);
        this.events.emit('c2d', { deviceId: message.deviceId, messageId: message.messageId, outcome: drop });
        continue;
      }
      message.packetId ??= this.c2d.allocatePacketId(identity.deviceId);
      const dup = message.deliveryCount > 0;
      message.deliveryCount++;
      conn.sentC2D.add(message.messageId);
      this.publishToDevice(conn, {
        cmd: 'publish',
        topic: c2dTopic(message),
        payload: Buffer.from(message.body),
        qos: 1,
        messageId: message.packetId,
        dup,
        retain: false,
      }, 'c2d');
    }
  }

  // ---- twins ----

  private requireIdentity(deviceId: string, moduleId?: string): string {
    const device = this.options.registry.getDevice(deviceId);
    if (!device || (moduleId !== undefined && !device.modules[moduleId])) {
      throw new RangeError(`identity ${moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`} does not exist`);
    }
    return identityKey({ deviceId, moduleId });
  }

  getTwin(deviceId: string, moduleId?: string): Twin {
    return this.twins.get(this.requireIdentity(deviceId, moduleId));
  }

  patchDesired(deviceId: string, patch: JsonObject, moduleId?: string): Twin {
    const key = this.requireIdentity(deviceId, moduleId);
    const version = this.twins.patchDesired(key, patch);
    this.events.emit('twin', { deviceId, ...(moduleId === undefined ? {} : { moduleId }), section: 'desired', patch, version });
    const conn = this.active.get(key);
    if (conn) this.sendToDevice(conn, desiredPatchTopic(version), Buffer.from(JSON.stringify({ ...patch, $version: version })), 'desired-patch');
    return this.twins.get(key);
  }

  // ---- direct methods ----

  invokeMethod(deviceId: string, methodName: string, payload?: unknown, options: { moduleId?: string; timeoutMs?: number } = {}): Promise<MethodResult> {
    if (!validMethodName(methodName)) throw new RangeError('method name must be 1-256 characters without / # + ? or control characters');
    const device = this.options.registry.getDevice(deviceId);
    if (!device || (options.moduleId !== undefined && !device.modules[options.moduleId])) {
      return Promise.resolve(errorResult(404, 404001, 'device not found'));
    }
    const json = JSON.stringify(payload === undefined ? null : payload);
    if (Buffer.byteLength(json) > METHOD_PAYLOAD_LIMIT) {
      return Promise.resolve(errorResult(413, 413001, `payload is over ${METHOD_PAYLOAD_LIMIT} bytes`));
    }
    const key = identityKey({ deviceId, moduleId: options.moduleId });
    const conn = this.active.get(key);
    if (!conn || !conn.subscribedTo(`${METHODS_FILTER.slice(0, -1)}${methodName}/`)) {
      return Promise.resolve(errorResult(404, 404103, `${key} is not online (not connected or not subscribed to methods)`));
    }
    const { rid, result } = this.methods.start(key, methodName, options.timeoutMs ?? 30_000);
    this.sendToDevice(conn, methodRequestTopic(methodName, rid), Buffer.from(json), 'method-request');
    return result;
  }

  // ---- observation ----

  telemetry(deviceId?: string): TelemetryMessage[] {
    return this.telemetryLog.list(deviceId);
  }

  isConnected(deviceId: string, moduleId?: string): boolean {
    return this.active.get(identityKey({ deviceId, moduleId }))?.state === 'active';
  }

  /** Topic filters the identity's live connection holds (empty when offline). */
  subscriptionsOf(deviceId: string, moduleId?: string): string[] {
    const conn = this.active.get(identityKey({ deviceId, moduleId }));
    return conn?.state === 'active' ? [...conn.subscriptions] : [];
  }

  connectionLog(): ConnectionEvent[] {
    return [...this.connectionHistory];
  }

  waitFor<K extends keyof HubEvents & string>(event: K, filter: (payload: HubEvents[K]) => boolean, timeoutMs: number): Promise<HubEvents[K]> {
    return new Promise((resolve, reject) => {
      const off = this.events.on(event, (payload) => {
        if (!filter(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${event} event within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.unsubscribeRegistry();
    this.faults.dispose();
    this.methods.abortAll(503, 'hub stopped');
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const conn of [...this.connections]) {
      conn.setCloseReason('server-stopped', 'emulator stopped');
      conn.wire.kill();
    }
    for (const socket of this.rawSockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
  }
}
