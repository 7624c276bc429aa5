// Direct methods: finds the handler for a request, runs it under a time limit and produces exactly one reply
// per request. Unknown method -> 404, unreadable request -> 400, a handler that throws or rejects -> 500 with
// its message, one that is still running when the time limit passes -> 504; whatever it returns after that is
// dropped, because the service caller has given up and the hub would discard a second reply anyway.
// Writing the reply is the owner's job (`send`), so this file never touches MQTT.

import type { Timers, TimerHandle } from '../ports';
import { checkMethodPayloadSize } from '../azure/limits';
import { parseJson, type JsonValue } from '../azure/json';
import { splitCommandName } from '../azure/method-topics';
import { utf8Encode } from '../encoding/utf8';
import { errorText, isThenable } from '../errors';
import { HubError } from './hub-error';

export interface MethodCall {
  /** The full method name as the service invoked it (`{component}*{command}` for Plug and Play). */
  name: string;
  /** Plug and Play component, when the name has the form `{component}*{command}`. */
  component?: string;
  command: string;
  /** The request body parsed as JSON; null when it was empty. */
  payload: JsonValue;
  rid: string;
}

export interface MethodResult {
  /** Handed to the service caller unchanged; 200-299 conventionally means success. */
  status: number;
  /** Sent as JSON; omitted means an empty body. */
  payload?: JsonValue;
}

export type MethodHandler = (call: MethodCall) => MethodResult | Promise<MethodResult>;

export interface MethodReply {
  rid: string;
  status: number;
  body: Uint8Array;
}

export interface MethodDispatcherOptions {
  timeoutMs: number;
  send(reply: MethodReply): void;
  /** Handler failures and late finishes, for the client's 'error' event. */
  report(error: HubError): void;
}

interface Running {
  timer: TimerHandle | undefined;
  replied: boolean;
}

function errorBody(message: string): Uint8Array {
  return utf8Encode(JSON.stringify({ error: message }));
}

export class MethodDispatcher {
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly timers: Timers,
    private readonly options: MethodDispatcherOptions,
  ) {}

  /** Requests whose reply has not been produced yet. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Registers the handler for `name`, replacing any earlier one; returns a function that removes it. */
  register(name: string, handler: MethodHandler): () => void {
    this.handlers.set(name, handler);
    return () => {
      if (this.handlers.get(name) === handler) this.handlers.delete(name);
    };
  }

  dispatch(methodName: string, rid: string, payload: Uint8Array): void {
    if (this.running.has(rid)) return; // the same request again: its one reply is already on its way
    const handler = this.handlers.get(methodName);
    if (handler === undefined) {
      this.options.send({ rid, status: 404, body: errorBody(`no handler for method '${methodName}'`) });
      return;
    }
    const body = parseJson(payload, 'method payload', { allowEmpty: true });
    if (!body.ok) {
      this.options.send({ rid, status: 400, body: errorBody(`request payload: ${body.error.message}`) });
      return;
    }
    const split = splitCommandName(methodName);
    const call: MethodCall = { name: methodName, command: split.command, payload: body.value, rid };
    if (split.component !== undefined) call.component = split.component;

    const state: Running = { timer: undefined, replied: false };
    this.running.set(rid, state);
    state.timer = this.timers.setTimeout(() => {
      state.timer = undefined;
      this.finish(rid, state, { rid, status: 504, body: errorBody(`method '${methodName}' did not finish within ${this.options.timeoutMs} ms`) });
      this.options.report(new HubError('timeout', `method '${methodName}' handler exceeded ${this.options.timeoutMs} ms; 504 sent`));
    }, this.options.timeoutMs);

    let outcome: MethodResult | Promise<MethodResult>;
    try {
      outcome = handler(call);
    } catch (error) {
      this.fail(rid, state, methodName, error);
      return;
    }
    if (!isThenable(outcome)) {
      this.succeed(rid, state, methodName, outcome);
      return;
    }
    Promise.resolve(outcome).then(
      (result) => this.succeed(rid, state, methodName, result),
      (error: unknown) => this.fail(rid, state, methodName, error),
    );
  }

  /** Stops every time limit; replies not yet produced will never be sent (close()). */
  cancelAll(): void {
    for (const state of this.running.values()) {
      if (state.timer !== undefined) this.timers.clearTimeout(state.timer);
      state.timer = undefined;
      state.replied = true;
    }
    this.running.clear();
  }

  private succeed(rid: string, state: Running, methodName: string, result: MethodResult): void {
    if (state.replied) return;
    if (typeof result !== 'object' || result === null || !Number.isSafeInteger(result.status) || result.status < 0) {
      this.fail(rid, state, methodName, new Error('handler must return { status, payload? } with an integer status'));
      return;
    }
    let body: Uint8Array;
    try {
      body = result.payload === undefined ? new Uint8Array(0) : utf8Encode(JSON.stringify(result.payload));
    } catch {
      this.fail(rid, state, methodName, new Error('handler returned a payload that cannot be serialized as JSON'));
      return;
    }
    const size = checkMethodPayloadSize(body.length);
    if (!size.ok) {
      this.fail(rid, state, methodName, new Error(size.error.message));
      return;
    }
    this.finish(rid, state, { rid, status: result.status, body });
  }

  private fail(rid: string, state: Running, methodName: string, error: unknown): void {
    if (state.replied) return;
    const message = errorText(error);
    this.finish(rid, state, { rid, status: 500, body: errorBody(message) });
    this.options.report(new HubError('handler-failed', `method '${methodName}' handler failed: ${message}`, { cause: error }));
  }

  private finish(rid: string, state: Running, reply: MethodReply): void {
    if (state.replied) return;
    state.replied = true;
    if (state.timer !== undefined) this.timers.clearTimeout(state.timer);
    state.timer = undefined;
    if (this.running.get(rid) === state) this.running.delete(rid);
    this.options.send(reply);
  }
}
