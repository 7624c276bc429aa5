// Cloud-to-device messages waiting for a device: queued while it is offline, sent at QoS 1, kept until the
// device's PUBACK completes them (redelivered with DUP after a reconnect), bounded as the hub bounds them.
import { randomUUID } from 'node:crypto';
import { c2dTopicPrefix, formatPropertyBag, type PropertyBag } from './topics';

export type C2DProperties = Record<string, string>;

export interface C2DOptions {
  messageId?: string;
  correlationId?: string;
  contentType?: string;
  contentEncoding?: string;
  /** Time to live; default and maximum 2 days. */
  ttlMs?: number;
}

export interface C2DMessage {
  messageId: string;
  deviceId: string;
  body: Uint8Array;
  properties: C2DProperties;
  options: C2DOptions;
  enqueuedAt: number;
  expiresAt: number;
  deliveryCount: number;
  /** Packet id of the last delivery; reused (with DUP) when redelivered. */
  packetId?: number;
}

export class C2DError extends Error {
  constructor(
    readonly code: 'too-large' | 'queue-full' | 'invalid' | 'not-found',
    message: string,
  ) {
    super(message);
    this.name = 'C2DError';
  }
}

export const C2D_MAX_BYTES = 64 * 1024;
export const C2D_MAX_QUEUE = 50;
export const C2D_MAX_DELIVERIES = 100;
const TWO_DAYS_MS = 2 * 24 * 3600 * 1000;

/** The devicebound topic of a message: system properties first (`$.mid`, `$.to`...), then the application ones. */
export function c2dTopic(message: C2DMessage): string {
  const bag: PropertyBag = [
    ['$.mid', message.messageId],
    ['$.to', `/devices/${message.deviceId}/messages/deviceBound`],
  ];
  if (message.options.correlationId !== undefined) bag.push(['$.cid', message.options.correlationId]);
  if (message.options.contentType !== undefined) bag.push(['$.ct', message.options.contentType]);
  if (message.options.contentEncoding !== undefined) bag.push(['$.ce', message.options.contentEncoding]);
  for (const [name, value] of Object.entries(message.properties)) bag.push([name, value]);
  return c2dTopicPrefix(message.deviceId) + formatPropertyBag(bag);
}

export class C2DQueue {
  private readonly queues = new Map<string, C2DMessage[]>();
  private readonly nextPacketId = new Map<string, number>();

  enqueue(deviceId: string, body: Uint8Array, properties: C2DProperties = {}, options: C2DOptions = {}): C2DMessage {
    for (const [name, value] of Object.entries(properties)) {
      if (typeof value !== 'string') throw new C2DError('invalid', `property ${name} must be a string`);
      if (name.startsWith('$')) throw new C2DError('invalid', `property ${name}: names starting with $ are reserved`);
    }
    const queue = this.queues.get(deviceId) ?? [];
    if (queue.length >= C2D_MAX_QUEUE) throw new C2DError('queue-full', `device ${deviceId} already has ${C2D_MAX_QUEUE} messages queued`);
    const ttl = Math.min(options.ttlMs ?? TWO_DAYS_MS, TWO_DAYS_MS);
    const now = Date.now();
    const message: C2DMessage = {
      messageId: options.messageId ?? randomUUID(),
      deviceId,
      body,
      properties: { ...properties },
      options: { ...options },
      enqueuedAt: now,
      expiresAt: now + ttl,
      deliveryCount: 0,
    };
    const size = body.length + Buffer.byteLength(c2dTopic(message));
    if (size > C2D_MAX_BYTES) throw new C2DError('too-large', `message is ${size} bytes with its properties; the limit is ${C2D_MAX_BYTES}`);
    queue.push(message);
    this.queues.set(deviceId, queue);
    return message;
  }

  pending(deviceId: string): C2DMessage[] {
    return [...(this.queues.get(deviceId) ?? [])];
  }

  /** A packet id for a first delivery, unique among the device's in-flight messages. */
  allocatePacketId(deviceId: string): number {
    const inUse = new Set((this.queues.get(deviceId) ?? []).map((m) => m.packetId));
    let id = this.nextPacketId.get(deviceId) ?? 1;
    while (inUse.has(id)) id = (id % 65535) + 1;
    this.nextPacketId.set(deviceId, (id % 65535) + 1);
    return id;
  }

  /** Removes the message the device acknowledged; undefined when the packet id is not one of ours. */
  complete(deviceId: string, packetId: number): C2DMessage | undefined {
    return this.remove(deviceId, (m) => m.packetId === packetId);
  }

  remove(deviceId: string, predicate: (message: C2DMessage) => boolean): C2DMessage | undefined {
    const queue = this.queues.get(deviceId);
    const index = queue?.findIndex(predicate) ?? -1;
    if (!queue || index < 0) return undefined;
    const [message] = queue.splice(index, 1);
    return message;
  }

  isOurs(deviceId: string, packetId: number): boolean {
    return (this.queues.get(deviceId) ?? []).some((m) => m.packetId === packetId);
  }

  /** Drops every message of the device (clean session); returns them. */
  clear(deviceId: string): C2DMessage[] {
    const queue = this.queues.get(deviceId) ?? [];
    this.queues.delete(deviceId);
    return queue;
  }
}
