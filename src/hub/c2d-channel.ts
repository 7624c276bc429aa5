// Cloud-to-device messages: the one application handler, the body limit, and the count of handlers still
// running (a renewal drain waits for them). The PUBACK that completes a message goes out when deliver()'s
// promise settles, so the hub redelivers a message the device lost before its handler finished; one over the
// limit is completed unread instead, since redelivering it could never succeed and would hold every later C2D
// behind it.

import type { LogLevel } from '../ports';
import type { IncomingMessage } from '../mqtt/session-types';
import type { C2dMessageTopic } from '../azure/c2d-topic';
import { errorText, isThenable } from '../errors';
import { HubError } from './hub-error';
import type { C2dHandler, C2dMessage, IncomingKind } from './hub-types';

export interface C2dChannelDeps {
  maxPayloadBytes: number;
  /** Reports a message over the limit (kind and size, never content). */
  refuse(kind: IncomingKind, size: number, limit: number): void;
  report(error: HubError): void;
  log(level: LogLevel, message: string): void;
  /** A handler finished: the client re-checks whether a renewal drain is complete. */
  onSettled(): void;
}

const NAMED_PROPERTIES = ['messageId', 'correlationId', 'contentType', 'contentEncoding'] as const;

export class C2dChannel {
  private handler: C2dHandler | undefined;
  private running = 0;

  constructor(private readonly deps: C2dChannelDeps) {}

  /** Handlers called and not yet settled. */
  get runningCount(): number {
    return this.running;
  }

  /** The one handler (replacing any earlier one); returns a function that removes it. */
  setHandler(handler: C2dHandler): () => void {
    this.handler = handler;
    return () => {
      if (this.handler === handler) this.handler = undefined;
    };
  }

  deliver(message: IncomingMessage, topic: C2dMessageTopic): void | Promise<void> {
    if (message.payload.length > this.deps.maxPayloadBytes) {
      this.deps.refuse('c2d', message.payload.length, this.deps.maxPayloadBytes);
      return;
    }
    const handler = this.handler;
    if (handler === undefined) {
      this.deps.log('warn', 'C2D message arrived with no onC2D handler; completing it unread');
      return;
    }
    const c2d: C2dMessage = { payload: message.payload, properties: topic.applicationProperties, allProperties: topic.properties, redelivered: message.dup };
    // Only the system properties the topic carried become fields: a handler can tell absent from empty.
    for (const name of NAMED_PROPERTIES) {
      const value = topic[name];
      if (value !== undefined) c2d[name] = value;
    }
    const failed = (error: unknown): void => this.deps.report(new HubError('handler-failed', `C2D handler failed: ${errorText(error)}`, { cause: error }));
    let result: void | Promise<void>;
    try {
      result = handler(c2d);
    } catch (error) {
      failed(error);
      return;
    }
    if (!isThenable(result)) return;
    this.running++;
    return Promise.resolve(result).then(
      () => {
        this.running--;
        this.deps.onSettled();
      },
      (error: unknown) => {
        this.running--;
        failed(error);
        this.deps.onSettled();
      },
    );
  }
}
