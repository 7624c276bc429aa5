// One AT dialogue over a serial port: commands go out one at a time, each waits for its final result (OK, ERROR,
// +CME ERROR: <n>) or its timeout; lines starting with the command's prefix are its answer, every other line is an
// unsolicited result code (URC) for the owner. `AT#XSEND` without data enters SLM's data mode, which sends no
// OK: the channel waits dataModeDelayMs, writes the payload and the terminator (`+++`), and the OK that ends data
// mode is the command's result. Lifecycle: closed -> idle <-> busy <-> data-mode, guarded by one move table.

import type { SerialPort, SerialPortFactory, Timers, TimerHandle } from '../ports';
import { StateMachine, type MoveTable } from '../state-machine';
import { AtReader, type AtReaderLimits, type AtRefusal } from './at-reader';
import { err, ok, type Result } from '../result';

export interface AtCommand {
  /** The whole command line without its CRLF, e.g. `AT+CEREG?`. */
  line: string;
  /** Info lines starting with this are the command's answer (e.g. `+CEREG:`). */
  prefix?: string;
  timeoutMs: number;
  /** Data mode: these bytes are sent after the command, then the terminator. */
  payload?: Uint8Array;
  /** The pieces of an `#XRECV` block that answers this command. */
  onData?: (bytes: Uint8Array, last: boolean) => void;
}

export interface AtAnswer {
  lines: string[];
}

export type AtFailure =
  | { kind: 'error'; /** `ERROR`, `+CME ERROR: 513` ... */ text: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'closed'; message: string };

export type AtResult = Result<AtAnswer, AtFailure>;

export interface AtChannelEvents {
  urc(line: string): void;
  refused(reason: AtRefusal): void;
  /** The serial port went away; every queued command failed with 'closed'. */
  closed(message: string): void;
}

export interface AtChannelSettings extends AtReaderLimits {
  /** Pause between `AT#XSEND` and the payload, while SLM switches to data mode. */
  dataModeDelayMs: number;
  /** Commands waiting behind the running one; more are refused. */
  maxQueued: number;
}

export const DATA_MODE_TERMINATOR = '+++';

type State = 'closed' | 'idle' | 'busy' | 'data-mode';
type Input = 'open' | 'write' | 'enter-data' | 'final' | 'close';

const MOVES: MoveTable<State, Input> = {
  closed: { open: 'idle' },
  idle: { write: 'busy', close: 'closed' },
  busy: { 'enter-data': 'data-mode', final: 'idle', close: 'closed' },
  'data-mode': { final: 'idle', close: 'closed' },
};

interface Job {
  command: AtCommand;
  done: (result: AtResult) => void;
}

function isFinal(line: string): boolean {
  return line === 'OK' || line === 'ERROR' || line.startsWith('+CME ERROR:') || line.startsWith('+CMS ERROR:');
}

const encoder = (text: string): Uint8Array => {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
};

export class AtChannel {
  private readonly machine: StateMachine<State, Input>;
  private readonly reader: AtReader;
  private port: SerialPort | undefined;
  private readonly queue: Job[] = [];
  private job: Job | undefined;
  private lines: string[] = [];
  private timer: TimerHandle | undefined;
  private delay: TimerHandle | undefined;

  constructor(
    private readonly serial: SerialPortFactory,
    private readonly timers: Timers,
    private readonly settings: AtChannelSettings,
    private readonly events: AtChannelEvents,
    log?: (message: string) => void,
  ) {
    this.machine = new StateMachine(MOVES, 'closed', { name: 'at', ...(log ? { log } : {}) });
    this.reader = new AtReader(settings, {
      line: (text) => this.onLine(text),
      data: (bytes, last) => this.job?.command.onData?.(bytes, last),
      refused: (reason) => this.events.refused(reason),
    });
  }

  get state(): State {
    return this.machine.state;
  }

  get refusedCount(): number {
    return this.reader.refusedCount;
  }

  open(): void {
    if (!this.machine.can('open')) return;
    this.machine.move('open');
    this.port = this.serial.open({
      onData: (chunk) => this.reader.push(chunk),
      onClose: (message) => this.shut(`the modem's serial port closed: ${message}`),
    });
  }

  /** Runs `command` after those queued before it; `done` is called once, on a later turn than this call. */
  run(command: AtCommand, done: (result: AtResult) => void): void {
    if (this.machine.state === 'closed') {
      this.timers.setTimeout(() => done(err({ kind: 'closed', message: 'the modem channel is closed' })), 0);
      return;
    }
    if (this.queue.length >= this.settings.maxQueued) {
      this.timers.setTimeout(() => done(err({ kind: 'error', text: `more than ${this.settings.maxQueued} AT commands queued` })), 0);
      return;
    }
    this.queue.push({ command, done });
    if (this.machine.state === 'idle') this.timers.setTimeout(() => this.next(), 0);
  }

  close(): void {
    const port = this.port;
    this.shut('the modem channel was closed');
    port?.close();
  }

  private next(): void {
    if (this.machine.state !== 'idle') return;
    const job = this.queue.shift();
    if (job === undefined) return;
    this.job = job;
    this.lines = [];
    this.machine.move('write');
    const { command } = job;
    this.timer = this.timers.setTimeout(() => {
      // A modem left in data mode would take every later command as data: ask it to leave first.
      if (this.machine.state === 'data-mode') this.port?.write(encoder(DATA_MODE_TERMINATOR));
      this.finish(err({ kind: 'timeout', message: `no answer to ${command.line.slice(0, 16)} in ${command.timeoutMs} ms` }));
    }, command.timeoutMs);
    this.port?.write(encoder(`${command.line}\r\n`));
    const payload = command.payload;
    if (payload === undefined) return;
    this.machine.move('enter-data');
    this.delay = this.timers.setTimeout(() => {
      this.delay = undefined;
      if (this.machine.state !== 'data-mode') return;
      this.port?.write(payload);
      this.port?.write(encoder(DATA_MODE_TERMINATOR));
    }, this.settings.dataModeDelayMs);
  }

  private onLine(text: string): void {
    const job = this.job;
    if (job !== undefined && isFinal(text)) {
      return this.finish(text === 'OK' ? ok({ lines: this.lines }) : err({ kind: 'error', text }));
    }
    if (job?.command.prefix !== undefined && text.startsWith(job.command.prefix)) {
      this.lines.push(text);
      return;
    }
    this.events.urc(text);
  }

  private finish(result: AtResult): void {
    const job = this.job;
    if (job === undefined) return;
    this.job = undefined;
    this.clearTimers();
    if (this.machine.state !== 'closed') this.machine.move('final');
    job.done(result);
    if (this.queue.length > 0) this.timers.setTimeout(() => this.next(), 0);
  }

  private clearTimers(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    if (this.delay !== undefined) this.timers.clearTimeout(this.delay);
    this.timer = this.delay = undefined;
  }

  private shut(message: string): void {
    if (this.machine.state === 'closed') return;
    this.machine.move('close');
    this.port = undefined;
    this.clearTimers();
    const failed = this.job ? [this.job, ...this.queue.splice(0)] : this.queue.splice(0);
    this.job = undefined;
    for (const job of failed) job.done(err({ kind: 'closed', message }));
    this.events.closed(message);
  }
}
