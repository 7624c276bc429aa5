// Direct methods over MQTT: requests from the topic router go to the dispatcher (which runs the handlers and
// produces one reply each), replies go out as QoS 0 PUBLISHes. A reply produced while offline is held and sent
// on the next connection, unless the service caller has stopped waiting by then (the method time limit); a
// request body over the device's limit is answered 413 at once instead of leaving the caller to the hub's
// timeout.

import type { Timers } from '../ports';
import { methodResponseTopic, type MethodRequest } from '../azure/method-topics';
import { utf8Encode } from '../encoding/utf8';
import { notWritten } from './failure-cause';
import { HubError } from './hub-error';
import type { IncomingKind } from './hub-types';
import { MethodDispatcher, type MethodHandler, type MethodReply } from './method-dispatcher';

export interface MethodChannelDeps {
  timers: Timers;
  timeoutMs: number;
  maxPayloadBytes: number;
  /** Writes a QoS 0 PUBLISH; rejects when the connection ended before it was written. */
  publish(topic: string, body: Uint8Array): Promise<void>;
  /** True while the session is connected and may be written to. */
  canSend(): boolean;
  /** Reports a request over the limit (kind and size, never content). */
  refuse(kind: IncomingKind, size: number, limit: number): void;
  report(error: HubError): void;
  /** A reply was produced: the client re-checks whether a renewal drain is complete. */
  onSettled(): void;
}

interface HeldReply {
  reply: MethodReply;
  at: number;
}

export class MethodChannel {
  private readonly dispatcher: MethodDispatcher;
  private held: HeldReply[] = [];
  private closed = false;

  constructor(private readonly deps: MethodChannelDeps) {
    this.dispatcher = new MethodDispatcher(deps.timers, {
      timeoutMs: deps.timeoutMs,
      send: (reply) => {
        this.send(reply);
        deps.onSettled();
      },
      report: (error) => deps.report(error),
    });
  }

  /** Requests whose reply has not been produced yet. */
  get runningCount(): number {
    return this.dispatcher.runningCount;
  }

  /** Throws HubError 'invalid-argument' for an empty name or a handler that is not a function. */
  register(name: string, handler: MethodHandler): () => void {
    if (typeof name !== 'string' || name.length === 0) throw new HubError('invalid-argument', 'method name must be a non-empty string', { field: 'name' });
    if (typeof handler !== 'function') throw new HubError('invalid-argument', 'method handler must be a function', { field: 'handler' });
    return this.dispatcher.register(name, handler);
  }

  handle(request: MethodRequest, payload: Uint8Array): void {
    if (payload.length > this.deps.maxPayloadBytes) {
      this.refuse(request.rid, payload.length, this.deps.maxPayloadBytes);
      return;
    }
    // Not awaited: the handler's time limit is the dispatcher's business, not the PUBACK's.
    this.dispatcher.dispatch(request.methodName, request.rid, payload);
  }

  /** A request over the limit (read whole, or skipped by the session while it streamed): reported, answered 413. */
  refuse(rid: string | undefined, size: number, limit: number): void {
    this.deps.refuse('method', size, limit);
    if (rid === undefined) return;
    const body = utf8Encode(JSON.stringify({ error: `request of ${size} bytes is over the device's ${limit}-byte limit` }));
    this.send({ rid, status: 413, body });
  }

  /** A new connection is up: replies produced while offline go out now, unless the caller has stopped waiting. */
  onConnected(): void {
    const now = this.deps.timers.now();
    for (const { reply, at } of this.held.splice(0)) {
      if (now - at < this.deps.timeoutMs) this.send(reply);
    }
  }

  /** Stops every time limit and drops held replies: nothing more is sent. */
  close(): void {
    this.closed = true;
    this.dispatcher.cancelAll();
    this.held = [];
  }

  private send(reply: MethodReply): void {
    if (this.closed) return;
    if (!this.deps.canSend()) {
      this.held.push({ reply, at: this.deps.timers.now() });
      return;
    }
    const topic = methodResponseTopic(reply.status, reply.rid);
    if (!topic.ok) {
      this.deps.report(new HubError('invalid-argument', `method reply: ${topic.error.message}`, { cause: topic.error }));
      return;
    }
    this.deps.publish(topic.value, reply.body).then(
      () => undefined,
      (error: unknown) => {
        if (notWritten(error)) this.held.push({ reply, at: this.deps.timers.now() });
      },
    );
  }
}
