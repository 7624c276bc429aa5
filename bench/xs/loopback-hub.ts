// A hub inside the XS engine for the meter benchmarks: a TransportFactory that answers the client's packets
// (CONNACK, SUBACK, twin GET, PUBACK) a promise job later, as an event loop would, and feeds it method calls.
// It frames packets by hand and decodes no topic it does not have to, so nearly all compute the meter sees is
// the client's. Host-neutral: bundled for XS with the code under test.
import { encodePacket } from '../../src/mqtt/encode';
import type { Transport, TransportEvents, TransportFactory, TlsConnectOptions } from '../../src/ports';

const DOLLAR = 0x24;
const TWIN_GET = '$iothub/twin/GET/';
const METHOD_RESPONSE = '$iothub/methods/res/';
const TWIN_BODY = '{"desired":{"$version":1},"reported":{"$version":1}}';

function asciiAt(bytes: Uint8Array, start: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(bytes[start + i]);
  return text;
}

function textBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export class LoopbackHub implements TransportFactory {
  connections = 0;
  telemetryMessages = 0;
  /** Whole PUBLISH packets the client sent as telemetry, fixed header included. */
  telemetryBytes = 0;
  methodReplies = 0;
  private events: TransportEvents | undefined;
  private methodWaiters: Array<() => void> = [];

  connect(_options: TlsConnectOptions, events: TransportEvents): Transport {
    this.events = events;
    this.connections++;
    void Promise.resolve().then(() => events.onConnect());
    return {
      write: (bytes) => {
        this.onClientBytes(bytes);
        return true;
      },
      close: () => {
        void Promise.resolve().then(() => events.onClose({ by: 'local', message: 'closed by the client' }));
      },
    };
  }

  /** Delivers a method-call PUBLISH and resolves when the client has written its reply. */
  callMethod(packet: Uint8Array): Promise<void> {
    return new Promise<void>((resolve) => {
      this.methodWaiters.push(resolve);
      this.deliver(packet);
    });
  }

  private deliver(bytes: Uint8Array): void {
    const events = this.events;
    if (events !== undefined) void Promise.resolve().then(() => events.onData(bytes));
  }

  private onClientBytes(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      const first = chunk[at];
      let remaining = 0;
      let multiplier = 1;
      let i = at + 1;
      for (;;) {
        const digit = chunk[i++];
        remaining += (digit & 0x7f) * multiplier;
        if ((digit & 0x80) === 0) break;
        multiplier *= 128;
      }
      this.onPacket(first, chunk, i, remaining, i + remaining - at);
      at = i + remaining;
    }
  }

  private onPacket(first: number, bytes: Uint8Array, body: number, length: number, total: number): void {
    switch (first >> 4) {
      case 1: // CONNECT
        this.deliver(new Uint8Array([0x20, 2, 0, 0]));
        return;
      case 8: {
        // SUBSCRIBE: grant what was asked, filter by filter.
        const codes: number[] = [];
        for (let at = body + 2; at < body + length; ) {
          const filterLength = (bytes[at] << 8) | bytes[at + 1];
          at += 2 + filterLength;
          codes.push(bytes[at++]);
        }
        this.deliver(new Uint8Array([0x90, 2 + codes.length, bytes[body], bytes[body + 1], ...codes]));
        return;
      }
      case 3:
        this.onPublish(first, bytes, body, total);
        return;
      case 12: // PINGREQ
        this.deliver(new Uint8Array([0xd0, 0]));
        return;
      default:
        return; // PUBACK for C2D, DISCONNECT: nothing to answer
    }
  }

  private onPublish(first: number, bytes: Uint8Array, body: number, total: number): void {
    const qos = (first >> 1) & 3;
    const topicLength = (bytes[body] << 8) | bytes[body + 1];
    if (qos === 1) {
      const id = body + 2 + topicLength;
      this.deliver(new Uint8Array([0x40, 2, bytes[id], bytes[id + 1]]));
    }
    if (bytes[body + 2] !== DOLLAR) {
      this.telemetryMessages++;
      this.telemetryBytes += total;
      return;
    }
    const topic = asciiAt(bytes, body + 2, topicLength);
    if (topic.startsWith(TWIN_GET)) {
      const rid = topic.slice(topic.indexOf('$rid=') + 5);
      const response = `$iothub/twin/res/200/?$rid=${rid}`;
      this.deliver(encodePacket({ type: 'publish', topic: response, payload: textBytes(TWIN_BODY), qos: 0, dup: false, retain: false }));
    } else if (topic.startsWith(METHOD_RESPONSE)) {
      this.methodReplies++;
      this.methodWaiters.shift()?.();
    }
  }
}

/** A direct-method request as the hub sends it (QoS 0), built before the measured work starts. */
export function methodCallPacket(name: string, rid: number, body: string): Uint8Array {
  return encodePacket({ type: 'publish', topic: `$iothub/methods/POST/${name}/?$rid=${rid.toString(16)}`, payload: textBytes(body), qos: 0, dup: false, retain: false });
}
