// The tap between a device's TLS socket and the broker: every packet in both directions is parsed here, so the
// hub can swallow, rewrite or inject packets, add latency, and break the connection at an exact byte.
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import mqtt from 'mqtt-packet';

export type WirePacket = mqtt.Packet;

export interface WireHooks {
  /** A packet from the device. Return false to keep it from the broker. */
  inbound(packet: WirePacket): boolean;
  /** A packet from the broker on its way out. Return the packet to send (possibly changed) or undefined to drop it. */
  outbound(packet: WirePacket): WirePacket | undefined;
  /** The device sent bytes that are not MQTT 3.1.1. */
  protocolError(message: string): void;
  /** The socket is gone (exactly once). */
  closed(): void;
}

type Outgoing = { kind: 'bytes'; bytes: Buffer; due: number } | { kind: 'end'; due: number };
type Incoming = { bytes: Buffer; due: number };

/** Largest packet the hub reads: 256 KB of payload plus generous room for topic and header. */
const MAX_INBOUND_PACKET = 256 * 1024 + 64 * 1024;

export class Wire {
  /** Hand this to `broker.handle`: the broker reads device packets from it and writes its own into it. */
  readonly brokerSide: Duplex;
  bytesIn = 0;
  bytesOut = 0;
  private readonly inParser = mqtt.parser({ protocolVersion: 4 });
  private readonly outParser = mqtt.parser({ protocolVersion: 4 });
  private readonly outQueue: Outgoing[] = [];
  private readonly inQueue: Incoming[] = [];
  private outTimer: NodeJS.Timeout | undefined;
  private inTimer: NodeJS.Timeout | undefined;
  private inboundLatencyMs = 0;
  private outboundLatencyMs = 0;
  /** Bytes still allowed out before the connection is cut; undefined = unlimited. */
  private byteBudget: number | undefined;
  private cutMidNextPacket = false;
  private isClosed = false;
  private ending = false;

  constructor(
    readonly socket: TLSSocket,
    private readonly hooks: WireHooks,
  ) {
    this.brokerSide = new Duplex({
      read: () => {},
      write: (chunk: Buffer, _encoding, callback) => {
        this.outParser.parse(chunk);
        callback();
      },
      final: (callback) => {
        this.end();
        callback();
      },
      destroy: (error, callback) => {
        // The broker closing a connection (refused CONNECT, protocol error) still flushes what it wrote first.
        this.end();
        callback(error);
      },
    });
    this.inParser.on('packet', (packet: WirePacket) => this.onInbound(packet));
    this.inParser.on('error', (error: Error) => {
      this.hooks.protocolError(error.message);
      this.kill();
    });
    this.outParser.on('packet', (packet: WirePacket) => {
      const out = this.hooks.outbound(packet);
      if (out) this.send(out);
    });
    this.outParser.on('error', () => this.kill());
    socket.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      if (this.isClosed) return;
      this.inParser.parse(chunk);
      // mqtt-packet keeps the packet being assembled on the parser; refuse an oversized one before buffering it all.
      const pending = (this.inParser as unknown as { packet?: { length?: number } }).packet?.length ?? -1;
      if (pending > MAX_INBOUND_PACKET) {
        this.hooks.protocolError(`packet of ${pending} bytes is over the hub limit`);
        this.kill();
      }
    });
    socket.on('end', () => {
      if (!this.isClosed) this.brokerSide.push(null);
    });
    socket.on('error', () => {});
    socket.on('close', () => this.onSocketClosed());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  setLatency(inboundMs: number, outboundMs: number): void {
    this.inboundLatencyMs = Math.max(0, inboundMs);
    this.outboundLatencyMs = Math.max(0, outboundMs);
  }

  /** Cut the connection once `bytes` more bytes have gone out (the cut may fall inside a packet). */
  dropAfterBytes(bytes: number): void {
    this.byteBudget = Math.max(0, Math.floor(bytes));
  }

  /** Write the first half of the next outgoing packet, then cut the connection. */
  dropMidNextPacket(): void {
    this.cutMidNextPacket = true;
  }

  /** Sends a packet to the device (after any outbound latency), bypassing the broker. */
  send(packet: WirePacket): void {
    if (this.isClosed || this.ending) return;
    this.outQueue.push({ kind: 'bytes', bytes: mqtt.generate(packet), due: Date.now() + this.outboundLatencyMs });
    this.pumpOut();
  }

  /** Graceful close: whatever is queued goes out first, then TLS close_notify and FIN. */
  end(): void {
    if (this.isClosed || this.ending) return;
    this.ending = true;
    this.outQueue.push({ kind: 'end', due: Date.now() + this.outboundLatencyMs });
    this.pumpOut();
  }

  /** Abrupt close: nothing queued is sent. */
  kill(): void {
    if (this.isClosed) return;
    this.socket.destroy();
    this.onSocketClosed();
  }

  private onInbound(packet: WirePacket): void {
    if (this.isClosed || !this.hooks.inbound(packet)) return;
    const bytes = mqtt.generate(packet);
    if (this.inboundLatencyMs === 0 && this.inQueue.length === 0) {
      this.brokerSide.push(bytes);
      return;
    }
    this.inQueue.push({ bytes, due: Date.now() + this.inboundLatencyMs });
    this.pumpIn();
  }

  private pumpIn(): void {
    if (this.inTimer) return;
    const now = Date.now();
    while (this.inQueue.length > 0 && this.inQueue[0].due <= now && !this.isClosed) {
      this.brokerSide.push(this.inQueue.shift()!.bytes);
    }
    if (this.inQueue.length > 0 && !this.isClosed) {
      this.inTimer = setTimeout(() => {
        this.inTimer = undefined;
        this.pumpIn();
      }, Math.max(0, this.inQueue[0].due - now));
    }
  }

  private pumpOut(): void {
    if (this.outTimer) return;
    const now = Date.now();
    while (this.outQueue.length > 0 && this.outQueue[0].due <= now && !this.isClosed) {
      const item = this.outQueue.shift()!;
      if (item.kind === 'end') {
        this.socket.end();
        // A peer that never answers close_notify must not keep the socket forever.
        setTimeout(() => this.kill(), 2000).unref();
        return;
      }
      this.writeOut(item.bytes);
    }
    if (this.outQueue.length > 0 && !this.isClosed) {
      this.outTimer = setTimeout(() => {
        this.outTimer = undefined;
        this.pumpOut();
      }, Math.max(0, this.outQueue[0].due - now));
    }
  }

  private writeOut(bytes: Buffer): void {
    let cutAt: number | undefined;
    if (this.cutMidNextPacket) cutAt = Math.max(1, Math.floor(bytes.length / 2));
    if (this.byteBudget !== undefined && this.byteBudget < bytes.length) {
      cutAt = Math.min(cutAt ?? bytes.length, this.byteBudget);
    }
    if (cutAt === undefined) {
      if (this.byteBudget !== undefined) this.byteBudget -= bytes.length;
      this.bytesOut += bytes.length;
      this.socket.write(bytes);
      return;
    }
    this.bytesOut += cutAt;
    this.outQueue.length = 0;
    this.stopSending();
    if (cutAt === 0) {
      this.kill();
      return;
    }
    // Destroy only once the partial packet has reached the kernel, so the device really sees half a packet.
    this.socket.write(bytes.subarray(0, cutAt), () => this.kill());
  }

  private stopSending(): void {
    this.ending = true;
    this.cutMidNextPacket = false;
    this.byteBudget = undefined;
  }

  private onSocketClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.outTimer) clearTimeout(this.outTimer);
    if (this.inTimer) clearTimeout(this.inTimer);
    this.outQueue.length = 0;
    this.inQueue.length = 0;
    if (!this.brokerSide.destroyed) this.brokerSide.destroy();
    this.hooks.closed();
  }
}
