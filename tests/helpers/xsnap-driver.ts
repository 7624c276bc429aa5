// Our own driver for the @agoric/xsnap worker (the real XS engine), speaking its pipe protocol directly:
// the package's JS API hardens the whole Node process (SES), which breaks jest and everything else loaded.
//
// Protocol (read from the worker's source): netstrings `<length>:<bytes>,` — host to XS on fd 3, XS to host
// on fd 4. Host sends `e<source>` (evaluate a script) or `?<bytes>` (call globalThis.handleCommand with an
// ArrayBuffer). XS answers `.<meter JSON>\x01<reply bytes>` or `!<exception text>`. While working, XS may send
// `?<bytes>` (its issueCommand); it is blocked until the host answers `/<bytes>`. Promise jobs run to
// completion before XS replies.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';

const PLATFORM_DIR: Partial<Record<NodeJS.Platform, string>> = { linux: 'lin', darwin: 'mac' };

export const XSNAP_WORKER_PATH = fileURLToPath(
  new URL(`../../node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/${PLATFORM_DIR[process.platform] ?? 'lin'}/release/xsnap-worker`, import.meta.url),
);

/** The worker's exit codes, in our words. */
const EXIT_MEANING: Record<number, string> = {
  1: 'bad command-line arguments',
  2: 'pipe I/O error',
  11: 'out of memory',
  12: 'stack overflow',
  15: 'unhandled exception',
  16: 'ran out of property keys',
  17: 'too much computation (meter limit)',
};

/** Resource use XS reports with every reply. `compute` is deterministic for the same script and inputs. */
export interface XsMeter {
  compute: number;
  allocate: number;
  currentHeapCount: number;
}

export interface XsResult {
  reply: Uint8Array;
  meter: XsMeter;
}

/** Answers one issueCommand from XS. XS is blocked until this returns. */
export type XsRequestHandler = (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export interface XsnapDriverOptions {
  /** Shown in error messages. */
  name?: string;
  /** Compute units one evaluate/command may use before XS is killed (exit 17); 0 for no limit. */
  meteringLimit?: number;
  onRequest?: XsRequestHandler;
  workerPath?: string;
}

/** Thrown when the script in XS throws: the message is XS's own text for the exception. */
export class XsException extends Error {
  override readonly name = 'XsException';
}

interface PendingOperation {
  resolve(result: XsResult): void;
  reject(error: Error): void;
  handlerError?: Error;
}

const OUTPUT_LIMIT = 64 * 1024;

export class XsnapDriver {
  private readonly child: ChildProcess;
  private readonly toXs: Writable;
  private readonly name: string;
  private onRequest: XsRequestHandler;
  private inbox: Buffer = Buffer.alloc(0);
  private current: PendingOperation | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private exitError: Error | undefined;
  private stdoutText = '';
  private stderrText = '';
  /** Settles when the worker process is gone and its pipes are closed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(options: XsnapDriverOptions = {}) {
    const workerPath = options.workerPath ?? XSNAP_WORKER_PATH;
    if (!existsSync(workerPath)) {
      throw new Error(`the xsnap worker binary is missing (${workerPath}): run \`npm rebuild @agoric/xsnap\` to build it`);
    }
    this.name = options.name ?? 'xsnap';
    this.onRequest = options.onRequest ?? (() => {
      throw new Error('XS called issueCommand but this driver has no request handler');
    });
    const limit = options.meteringLimit ?? 100_000_000;
    const args = [this.name.replace(/^-+/, ''), ...(limit > 0 ? ['-l', String(limit)] : [])];
    this.child = spawn(workerPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
    const stdio = this.child.stdio as unknown as [null, Readable, Readable, Writable, Readable];
    this.toXs = stdio[3];
    this.toXs.on('error', () => {}); // EPIPE after the worker died; the exit handler reports it.
    stdio[4].on('data', (chunk: Buffer) => this.receive(chunk));
    stdio[1].on('data', (chunk: Buffer) => (this.stdoutText = (this.stdoutText + chunk.toString('utf8')).slice(-OUTPUT_LIMIT)));
    stdio[2].on('data', (chunk: Buffer) => (this.stderrText = (this.stderrText + chunk.toString('utf8')).slice(-OUTPUT_LIMIT)));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => this.fail(new Error(`${this.name}: cannot run the xsnap worker: ${error.message}`)));
      this.child.on('close', (code, signal) => {
        const why = signal ? `killed by ${signal}` : `exit code ${code}${code !== null && EXIT_MEANING[code] ? ` (${EXIT_MEANING[code]})` : ''}`;
        const stderr = this.stderrText.trim();
        this.fail(new Error(`${this.name}: the xsnap worker is gone (${why})${stderr ? `; stderr: ${stderr.slice(-2000)}` : ''}`));
        resolve({ code, signal });
      });
    });
  }

  /** Runs `source` as a script in XS's global scope. A returned ArrayBuffer becomes `reply`. */
  evaluate(source: string): Promise<XsResult> {
    return this.run(Buffer.concat([Buffer.from('e'), Buffer.from(source, 'utf8')]));
  }

  /** Calls the script's `handleCommand(ArrayBuffer)`; an ArrayBuffer it returns becomes `reply`. */
  command(bytes: Uint8Array): Promise<XsResult> {
    return this.run(Buffer.concat([Buffer.from('?'), bytes]));
  }

  setRequestHandler(handler: XsRequestHandler): void {
    this.onRequest = handler;
  }

  /** What the script printed with `print()`. */
  stdout(): string {
    return this.stdoutText;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** Kills the worker and waits until its process and pipes are gone. Safe to call twice. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  private run(message: Buffer): Promise<XsResult> {
    // One operation at a time: XS handles a single conversation, so later calls wait their turn.
    const result = this.queue.then(
      () =>
        new Promise<XsResult>((resolve, reject) => {
          if (this.exitError) {
            reject(this.exitError);
            return;
          }
          this.current = { resolve, reject };
          this.send(message);
        }),
    );
    this.queue = result.catch(() => undefined);
    return result;
  }

  private send(payload: Uint8Array): void {
    this.toXs.write(Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(',')]));
  }

  private receive(chunk: Buffer): void {
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    for (;;) {
      const colon = this.inbox.indexOf(0x3a);
      if (colon < 0) return;
      const header = this.inbox.subarray(0, colon).toString('latin1');
      if (!/^\d{1,10}$/.test(header)) {
        this.protocolError(`bad netstring length "${header.slice(0, 20)}"`);
        return;
      }
      const length = Number(header);
      const end = colon + 1 + length;
      if (this.inbox.length < end + 1) return;
      if (this.inbox[end] !== 0x2c) {
        this.protocolError('netstring not terminated by ","');
        return;
      }
      const message = this.inbox.subarray(colon + 1, end);
      this.inbox = this.inbox.subarray(end + 1);
      this.dispatch(message);
    }
  }

  private dispatch(message: Buffer): void {
    const operation = this.current;
    if (!operation) {
      this.protocolError(`message while idle (tag "${String.fromCharCode(message[0] ?? 0x20)}")`);
      return;
    }
    switch (message[0]) {
      case 0x2e: {
        // "." meter JSON, \x01, reply
        const separator = message.indexOf(0x01, 1);
        const meterText = message.subarray(1, separator < 0 ? 1 : separator).toString('utf8');
        const raw = (meterText ? JSON.parse(meterText) : {}) as Partial<XsMeter>;
        const meter: XsMeter = { compute: raw.compute ?? 0, allocate: raw.allocate ?? 0, currentHeapCount: raw.currentHeapCount ?? 0 };
        const reply = new Uint8Array(message.subarray(separator < 0 ? 1 : separator + 1));
        this.current = undefined;
        if (operation.handlerError) operation.reject(operation.handlerError);
        else operation.resolve({ reply, meter });
        return;
      }
      case 0x21: // "!" the script threw
        this.current = undefined;
        operation.reject(operation.handlerError ?? new XsException(message.subarray(1).toString('utf8')));
        return;
      case 0x3f: // "?" XS asks us something and waits
        void this.answer(operation, new Uint8Array(message.subarray(1)));
        return;
      default:
        this.protocolError(`unknown message tag "${String.fromCharCode(message[0] ?? 0x20)}"`);
    }
  }

  private async answer(operation: PendingOperation, request: Uint8Array): Promise<void> {
    let reply: Uint8Array;
    try {
      reply = await this.onRequest(request);
    } catch (error) {
      // XS must be answered or it stays blocked; the operation fails with the handler's error once XS is done.
      operation.handlerError ??= error instanceof Error ? error : new Error(String(error));
      reply = new Uint8Array(0);
    }
    this.send(Buffer.concat([Buffer.from('/'), reply]));
  }

  private protocolError(what: string): void {
    this.fail(new Error(`${this.name}: xsnap protocol error: ${what}`));
    this.child.kill('SIGKILL');
  }

  private fail(error: Error): void {
    this.exitError ??= error;
    const operation = this.current;
    this.current = undefined;
    operation?.reject(this.exitError);
  }
}

/** Starts an XS worker; close() it when done (jest's afterAll) or the process outlives the test. */
export function startXsnap(options: XsnapDriverOptions = {}): XsnapDriver {
  return new XsnapDriver(options);
}
