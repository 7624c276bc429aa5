// An IoT Hub that lives on the virtual clock and speaks MQTT through our own codec: it checks SAS tokens (and
// cuts a connection whose token expires while it is up, as the real hub does), acknowledges telemetry and
// records it by message id, serves twin GET and reported PATCH, pushes desired patches, invokes methods with a
// 30 s caller timeout, answers PINGREQ, and enforces 1.5 x keep-alive. Faults: drop the connection (clean or
// reset) and refuse the next CONNECTs with code 3. Host-neutral: it runs inside XS with the device.
// Bytes to the device are delivered after `latencyMs` of virtual time, in order.

import { parsePropertyBag, findProperty } from '../../src/azure/property-bag';
import type { HmacSha256 } from '../../src/azure/sas-token';
import { parseSasToken, sasSignatureMatches } from '../../src/azure/sas-verify';
import { percentDecode, percentEncode } from '../../src/encoding/percent';
import { utf8Decode, utf8Encode } from '../../src/encoding/utf8';
import { clientStreamParser, encodeBrokerPacket } from '../../src/mqtt/broker-codec';
import type { Packet, PublishPacket } from '../../src/mqtt/packets';
import type { TlsConnectOptions, Transport, TransportEvents, TransportFactory, TimerHandle, Timers } from '../../src/ports';

export interface FakeHubOptions {
  timers: Timers;
  /** The wall clock the hub judges token expiry by (Unix ms). */
  wallMs: () => number;
  hmac: HmacSha256;
  hostName: string;
  deviceId: string;
  /** The device key, base64. */
  key: string;
  latencyMs?: number;
  /**
   * Telemetry ids are `{prefix}{n}` with n below this: deliveries are counted in a table allocated up front, so
   * the hub's own bookkeeping does not grow the heap the soak is measuring.
   */
  maxTelemetryIds: number;
  telemetryIdPrefix: string;
}

export interface FakeHubStats {
  connects: number;
  refusedConnects: number;
  /** Connections cut because their token expired while they were up: a renewal came too late (must stay 0). */
  tokenExpiredDrops: number;
  /** Connections cut for silence beyond 1.5 x keep-alive (must stay 0). */
  keepAliveDrops: number;
  injectedDrops: number;
  telemetryDeliveries: number;
  twinGets: number;
  reportedPatches: number;
  methodCalls: number;
  pings: number;
  protocolErrors: number;
}

export interface MethodOutcome {
  status: number;
  payload: string;
}

interface PendingMethod {
  resolve(outcome: MethodOutcome): void;
  timer: TimerHandle;
}

const TELEMETRY_MARKER = '/messages/events/';

export class FakeHub implements TransportFactory {
  readonly stats: FakeHubStats = {
    connects: 0,
    refusedConnects: 0,
    tokenExpiredDrops: 0,
    keepAliveDrops: 0,
    injectedDrops: 0,
    telemetryDeliveries: 0,
    twinGets: 0,
    reportedPatches: 0,
    methodCalls: 0,
    pings: 0,
    protocolErrors: 0,
  };
  /** Deliveries per telemetry message number. */
  readonly telemetryCounts: Uint16Array;
  /** Telemetry whose id was not `{prefix}{n}` with n in range. */
  unknownTelemetry = 0;
  desired: Record<string, unknown> = {};
  desiredVersion = 1;
  reported: Record<string, unknown> = {};
  reportedVersion = 1;
  private refuseNext = 0;
  private live: FakeHubConnection | undefined;
  private readonly methods = new Map<string, PendingMethod>();
  private nextMethodRid = 1;

  constructor(readonly options: FakeHubOptions) {
    this.telemetryCounts = new Uint16Array(options.maxTelemetryIds);
  }

  get online(): boolean {
    return this.live !== undefined && this.live.subscribed;
  }

  connect(tls: TlsConnectOptions, events: TransportEvents): Transport {
    const connection = new FakeHubConnection(this, tls, events);
    return connection.transport;
  }

  /** Cuts the live connection: a clean close from the hub, or a reset. Returns false when none is up. */
  drop(kind: 'close' | 'reset'): boolean {
    const live = this.live;
    if (live === undefined) return false;
    this.stats.injectedDrops++;
    live.end(kind === 'close' ? { by: 'peer', message: 'hub closed the connection' } : { by: 'error', code: 'reset', message: 'connection reset' });
    return true;
  }

  /** The next `count` CONNECTs get CONNACK 3 (server unavailable). */
  refuseConnects(count: number): void {
    this.refuseNext += count;
  }

  patchDesired(patch: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete this.desired[k];
      else this.desired[k] = v;
    }
    this.desiredVersion++;
    // The hub does not keep patches for a device that is away: it catches up with its twin GET.
    this.live?.publish(`$iothub/twin/PATCH/properties/desired/?$version=${this.desiredVersion}`, JSON.stringify({ ...patch, $version: this.desiredVersion }));
  }

  /** Resolves with the device's answer, 404 when it is not online, 504 after 30 s. */
  invokeMethod(name: string, payload: unknown): Promise<MethodOutcome> {
    this.stats.methodCalls++;
    const live = this.live;
    if (live === undefined || !live.subscribed) return Promise.resolve({ status: 404, payload: '' });
    const rid = String(this.nextMethodRid++);
    return new Promise((resolve) => {
      const timer = this.options.timers.setTimeout(() => {
        this.methods.delete(rid);
        resolve({ status: 504, payload: '' });
      }, 30_000);
      this.methods.set(rid, { resolve, timer });
      live.publish(`$iothub/methods/POST/${name}/?$rid=${rid}`, JSON.stringify(payload));
    });
  }

  // ---- used by the connection ----

  takeRefusal(): boolean {
    if (this.refuseNext <= 0) return false;
    this.refuseNext--;
    this.stats.refusedConnects++;
    return true;
  }

  /** undefined when the token is good; otherwise the CONNACK code to refuse with. */
  checkCredentials(clientId: string, username: string | undefined, password: Uint8Array | undefined): { code: number; expiresAtMs?: number } {
    const o = this.options;
    if (clientId !== o.deviceId || username === undefined || !username.startsWith(`${o.hostName}/${o.deviceId}/?api-version=`)) return { code: 2 };
    const text = password === undefined ? undefined : utf8Decode(password);
    if (text === undefined) return { code: 4 };
    const token = parseSasToken(text);
    if (!token.ok) return { code: 4 };
    const sr = percentDecode(token.value.sr);
    if (!sr.ok || sr.value !== `${o.hostName}/devices/${o.deviceId}`) return { code: 5 };
    const signed = sasSignatureMatches(token.value, o.key, o.hmac);
    if (!signed.ok || !signed.value) return { code: 5 };
    const expiresAtMs = token.value.se * 1000;
    if (expiresAtMs <= o.wallMs()) return { code: 5 };
    return { code: 0, expiresAtMs };
  }

  attach(connection: FakeHubConnection): void {
    // One connection per identity: a new CONNECT takes over.
    if (this.live !== undefined && this.live !== connection) this.live.end({ by: 'peer', message: 'replaced by a new connection' });
    this.live = connection;
  }

  detach(connection: FakeHubConnection): void {
    if (this.live === connection) this.live = undefined;
  }

  onPublish(connection: FakeHubConnection, packet: PublishPacket): void {
    const topic = packet.topic;
    const d = this.options.deviceId;
    if (topic.startsWith(`devices/${d}${TELEMETRY_MARKER}`)) {
      const bag = parsePropertyBag(topic.slice(`devices/${d}${TELEMETRY_MARKER}`.length));
      const id = bag.ok ? findProperty(bag.value, '$.mid') : undefined;
      const prefix = this.options.telemetryIdPrefix;
      const n = typeof id === 'string' && id.startsWith(prefix) ? Number(id.slice(prefix.length)) : -1;
      if (Number.isInteger(n) && n >= 0 && n < this.telemetryCounts.length) this.telemetryCounts[n]!++;
      else this.unknownTelemetry++;
      this.stats.telemetryDeliveries++;
      return;
    }
    const rid = /\?\$rid=([^&]*)/.exec(topic)?.[1];
    if (topic.startsWith('$iothub/twin/GET/') && rid !== undefined) {
      this.stats.twinGets++;
      const doc = { desired: { ...this.desired, $version: this.desiredVersion }, reported: { ...this.reported, $version: this.reportedVersion } };
      connection.publish(`$iothub/twin/res/200/?$rid=${rid}`, JSON.stringify(doc));
      return;
    }
    if (topic.startsWith('$iothub/twin/PATCH/properties/reported/') && rid !== undefined) {
      this.stats.reportedPatches++;
      const body = utf8Decode(packet.payload);
      try {
        Object.assign(this.reported, JSON.parse(body ?? '{}') as Record<string, unknown>);
      } catch {
        connection.publish(`$iothub/twin/res/400/?$rid=${rid}`, '');
        return;
      }
      this.reportedVersion++;
      connection.publish(`$iothub/twin/res/204/?$rid=${rid}&$version=${this.reportedVersion}`, '');
      return;
    }
    const reply = /^\$iothub\/methods\/res\/(\d+)\/\?\$rid=(.*)$/.exec(topic);
    if (reply !== null) {
      const pending = this.methods.get(reply[2]!);
      if (pending === undefined) return; // too late: the caller has gone
      this.methods.delete(reply[2]!);
      this.options.timers.clearTimeout(pending.timer);
      pending.resolve({ status: Number(reply[1]), payload: utf8Decode(packet.payload) ?? '' });
      return;
    }
    this.stats.protocolErrors++;
    connection.end({ by: 'peer', message: 'publish to a topic the hub does not allow' });
  }
}

type EndReason = { by: 'peer'; message: string } | { by: 'error'; code: 'reset'; message: string };

class FakeHubConnection {
  readonly transport: Transport;
  subscribed = false;
  private readonly parser = clientStreamParser();
  private open = true;
  private authenticated = false;
  private disconnecting = false;
  private keepAliveMs = 0;
  private silenceTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;

  constructor(
    private readonly hub: FakeHub,
    _tls: TlsConnectOptions,
    private readonly events: TransportEvents,
  ) {
    this.transport = {
      write: (bytes) => {
        if (this.open) this.receive(bytes.slice());
        return this.open;
      },
      close: () => this.finish({ by: 'local', message: 'closed by the client' }),
    };
    // The TLS handshake takes one network round trip.
    this.later(() => {
      if (this.open) this.events.onConnect();
    });
  }

  publish(topic: string, payload: string): void {
    this.send({ type: 'publish', topic, payload: utf8Encode(payload), qos: 0, dup: false, retain: false });
  }

  end(reason: EndReason): void {
    if (!this.open) return;
    if (reason.by === 'error') this.events.onError({ code: reason.code, message: reason.message });
    this.finish(reason);
  }

  private later(action: () => void): void {
    this.hub.options.timers.setTimeout(action, this.hub.options.latencyMs ?? 20);
  }

  private send(packet: Packet): void {
    const bytes = encodeBrokerPacket(packet);
    this.later(() => {
      if (this.open) this.events.onData(bytes);
    });
  }

  private finish(reason: { by: 'local' | 'peer' | 'error'; code?: 'reset'; message: string }): void {
    if (!this.open) return;
    this.open = false;
    const timers = this.hub.options.timers;
    if (this.silenceTimer !== undefined) timers.clearTimeout(this.silenceTimer);
    if (this.expiryTimer !== undefined) timers.clearTimeout(this.expiryTimer);
    this.hub.detach(this);
    this.events.onClose(reason);
  }

  private heard(): void {
    if (this.keepAliveMs === 0) return;
    const timers = this.hub.options.timers;
    if (this.silenceTimer !== undefined) timers.clearTimeout(this.silenceTimer);
    this.silenceTimer = timers.setTimeout(() => {
      this.hub.stats.keepAliveDrops++;
      this.end({ by: 'peer', message: 'keep-alive expired' });
    }, this.keepAliveMs * 1.5);
  }

  private receive(bytes: Uint8Array): void {
    for (const result of this.parser.push(bytes)) {
      if (!this.open) return;
      if (!result.ok) {
        this.hub.stats.protocolErrors++;
        this.end({ by: 'peer', message: `malformed packet: ${result.error.code}` });
        return;
      }
      this.heard();
      this.handle(result.value);
    }
  }

  private handle(packet: Packet): void {
    const hub = this.hub;
    if (this.disconnecting) return; // bytes behind a DISCONNECT are ignored
    if (!this.authenticated && packet.type !== 'connect') {
      hub.stats.protocolErrors++;
      this.end({ by: 'peer', message: 'packet before CONNECT' });
      return;
    }
    switch (packet.type) {
      case 'connect': {
        if (this.authenticated) {
          hub.stats.protocolErrors++;
          this.end({ by: 'peer', message: 'second CONNECT' });
          return;
        }
        if (hub.takeRefusal()) {
          this.send({ type: 'connack', sessionPresent: false, returnCode: 3 });
          this.later(() => this.end({ by: 'peer', message: 'refused: server unavailable' }));
          return;
        }
        const verdict = hub.checkCredentials(packet.clientId, packet.username, packet.password);
        if (verdict.code !== 0) {
          hub.stats.refusedConnects++;
          this.send({ type: 'connack', sessionPresent: false, returnCode: verdict.code });
          this.later(() => this.end({ by: 'peer', message: `refused: code ${verdict.code}` }));
          return;
        }
        this.authenticated = true;
        this.keepAliveMs = packet.keepAlive * 1000;
        hub.stats.connects++;
        hub.attach(this);
        const lifeMs = (verdict.expiresAtMs as number) - hub.options.wallMs();
        this.expiryTimer = hub.options.timers.setTimeout(() => {
          hub.stats.tokenExpiredDrops++;
          this.end({ by: 'peer', message: 'SAS token expired' });
        }, lifeMs);
        this.heard();
        this.send({ type: 'connack', sessionPresent: false, returnCode: 0 });
        return;
      }
      case 'subscribe':
        this.subscribed = true;
        this.send({ type: 'suback', packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
        return;
      case 'publish':
        hub.onPublish(this, packet);
        if (packet.qos === 1 && packet.packetId !== undefined && this.open) this.send({ type: 'puback', packetId: packet.packetId });
        return;
      case 'puback':
        return;
      case 'pingreq':
        hub.stats.pings++;
        this.send({ type: 'pingresp' });
        return;
      case 'disconnect':
        // The client closes its side itself; the hub's close follows a round trip later if it has not.
        this.disconnecting = true;
        this.hub.detach(this);
        if (this.expiryTimer !== undefined) this.hub.options.timers.clearTimeout(this.expiryTimer);
        if (this.silenceTimer !== undefined) this.hub.options.timers.clearTimeout(this.silenceTimer);
        this.expiryTimer = this.silenceTimer = undefined;
        this.later(() => this.end({ by: 'peer', message: 'client sent DISCONNECT' }));
        return;
      default:
        hub.stats.protocolErrors++;
        this.end({ by: 'peer', message: `unexpected ${packet.type}` });
    }
  }
}

/** The `sr` the hub expects, for tests that build tokens by hand. */
export function hubResource(hostName: string, deviceId: string): string {
  return percentEncode(`${hostName}/devices/${deviceId}`);
}
