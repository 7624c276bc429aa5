// The transport port over an nRF91 running Nordic's Serial LTE Modem (SLM): the modem does TCP and TLS itself,
// with the credentials it holds under a security tag, and this side only drives its AT socket commands over the
// UART. One secure socket at a time (SLM's active socket):
//   connect: wait for LTE registration, AT#XSSOCKET=1,1,0,<tag>,2, AT#XSSOCKETOPT=1,2,"<name>", AT#XCONNECT
//            (a failed connect on the primary tag is tried once more on the secondary tag);
//   send:    AT#XSEND in data mode, at most maxSendChunk bytes each, the payload then `+++`;
//   receive: AT#XPOLL=0,<handle> every pollIntervalMs while nothing is to be sent, AT#XRECV when it says POLLIN;
//   close:   queued bytes first, then AT#XSOCKET=0.
// Failures map to the port's close reasons, so the hub and DPS clients recover by the one failure policy:
// a command timeout is 'timeout', a refused connect 'refused', a lost LTE registration, POLLERR/POLLHUP, a failed
// send or receive and a closed serial port 'reset'. Registration and signal are events (`registration`, `signal`).

import { Emitter } from '../events';
import type { SerialPortFactory, Timers, TimerHandle, TlsConnectOptions, Transport, TransportCloseReason, TransportErrorCode, TransportEvents, TransportFactory } from '../ports';
import { edgeTable, StateMachine } from '../state-machine';
import type { TagSelection } from '../storage/security-tags';
import { AtChannel, type AtCommand, type AtFailure, type AtResult } from './at-channel';
import * as slm from './slm';

export interface ModemSettings {
  /** The tags holding the CA (and the client certificate and key for X.509); a connect names one or uses primary. */
  tags: TagSelection;
  /** Bounds of the AT reader: the longest line and the largest #XRECV block (the packet budget). */
  maxLineBytes?: number;
  maxRecvBytes?: number;
  /** Bytes per AT#XSEND: SLM's data-mode buffer is 3884 bytes by default. */
  maxSendChunk?: number;
  /** write() returns false above this many queued bytes; onWritable when they drain. */
  sendHighWaterBytes?: number;
  pollIntervalMs?: number;
  commandTimeoutMs?: number;
  /** AT#XCONNECT covers DNS, TCP and the TLS handshake in the modem. */
  connectTimeoutMs?: number;
  dataModeDelayMs?: number;
}

export interface ModemEvents {
  registration: slm.Registration & { registered: boolean };
  /** RSRP in dBm, read with AT+CESQ after each registration change. */
  signal: { rsrpDbm: number };
  /** A line or block the AT reader refused (noise on the UART). */
  refused: { reason: string };
}

const DEFAULTS = {
  maxLineBytes: 256,
  maxRecvBytes: 4096,
  maxSendChunk: 3884,
  sendHighWaterBytes: 8192,
  pollIntervalMs: 200,
  commandTimeoutMs: 5000,
  connectTimeoutMs: 60_000,
  dataModeDelayMs: 20,
};

type Phase = 'registering' | 'opening' | 'connecting' | 'open' | 'closing' | 'closed';

const PHASES = edgeTable<Phase>({
  registering: ['opening', 'closed'],
  opening: ['connecting', 'closing', 'closed'],
  connecting: ['open', 'opening', 'closing', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
});

export class SlmModem extends Emitter<ModemEvents> {
  readonly channel: AtChannel;
  private readonly settings: Required<ModemSettings>;
  private stat = 4;
  private last: slm.Registration | undefined;
  private socket: ModemSocket | undefined;
  private waiting: (() => void)[] = [];

  constructor(
    serial: SerialPortFactory,
    readonly timers: Timers,
    settings: ModemSettings,
    private readonly log?: (message: string) => void,
  ) {
    super();
    this.settings = { ...DEFAULTS, ...settings } as Required<ModemSettings>;
    const s = this.settings;
    this.channel = new AtChannel(
      serial,
      timers,
      { maxLineBytes: s.maxLineBytes, maxDataBytes: s.maxRecvBytes, dataModeDelayMs: s.dataModeDelayMs, maxQueued: 8 },
      {
        urc: (line) => this.onUrc(line),
        refused: (reason) => this.emit('refused', { reason }),
        closed: (message) => {
          this.stat = 4;
          this.last = undefined;
          this.socket?.fail('reset', message);
        },
      },
      log,
    );
  }

  get registered(): boolean {
    return slm.isRegistered(this.stat);
  }

  get config(): Readonly<Required<ModemSettings>> {
    return this.settings;
  }

  /** Opens the UART, closes a leftover socket, subscribes to registration URCs with PSM timers (level 5), goes online, reads the state. */
  start(): void {
    this.channel.open();
    const t = this.settings.commandTimeoutMs;
    // A socket a previous run of the host left open still holds SLM's active slot (the modem outlives host resets).
    this.channel.run({ line: slm.CLOSE_SOCKET, prefix: '#XSOCKET:', timeoutMs: t }, () => undefined);
    this.channel.run({ line: 'AT+CEREG=5', timeoutMs: t }, () => undefined);
    this.channel.run({ line: 'AT+CFUN=1', timeoutMs: t }, () => undefined);
    this.channel.run({ line: 'AT+CEREG?', prefix: '+CEREG:', timeoutMs: t }, (result) => {
      for (const line of result.ok ? result.value.lines : []) {
        const registration = slm.parseCereg(line);
        if (registration !== undefined) this.registrationChanged(registration);
      }
    });
  }

  stop(): void {
    this.channel.close();
  }

  run(command: AtCommand, done: (result: AtResult) => void): void {
    this.channel.run(command, done);
  }

  transportFactory(): TransportFactory {
    return { connect: (options, events) => this.connect(options, events) };
  }

  /** Calls `ready` once registered (at once when already), or `timeout` after `ms`. */
  whenRegistered(ms: number, ready: () => void, timeout: () => void): () => void {
    if (this.registered) {
      const handle = this.timers.setTimeout(ready, 0);
      return () => this.timers.clearTimeout(handle);
    }
    let handle: TimerHandle | undefined;
    const go = (): void => {
      if (handle !== undefined) this.timers.clearTimeout(handle);
      ready();
    };
    this.waiting.push(go);
    handle = this.timers.setTimeout(() => {
      this.waiting = this.waiting.filter((w) => w !== go);
      timeout();
    }, ms);
    return () => {
      this.waiting = this.waiting.filter((w) => w !== go);
      if (handle !== undefined) this.timers.clearTimeout(handle);
    };
  }

  private connect(options: TlsConnectOptions, events: TransportEvents): Transport {
    const socket = new ModemSocket(this, options, events, () => {
      if (this.socket === socket) this.socket = undefined;
    });
    // One secure socket at a time: a new connect ends the one before (the clients never hold two).
    this.socket?.fail('reset', 'replaced by a new connection');
    this.socket = socket;
    socket.start();
    return socket;
  }

  private onUrc(line: string): void {
    if (line.startsWith('+CEREG: ')) {
      const registration = slm.parseCereg(line);
      if (registration !== undefined) this.registrationChanged(registration);
    }
  }

  private registrationChanged(registration: slm.Registration): void {
    // The read answer at start repeats what a URC may just have said: only a change is news.
    const same = this.last !== undefined && this.last.stat === registration.stat && this.last.activeTimeS === registration.activeTimeS && this.last.periodicTauS === registration.periodicTauS;
    this.last = registration;
    if (same) return;
    this.stat = registration.stat;
    const registered = slm.isRegistered(registration.stat);
    this.emit('registration', { ...registration, registered });
    if (!registered) {
      this.socket?.lostNetwork(`the modem lost the LTE network (+CEREG: ${registration.stat})`);
      return;
    }
    for (const go of this.waiting.splice(0)) go();
    this.channel.run({ line: 'AT+CESQ', prefix: '+CESQ:', timeoutMs: this.settings.commandTimeoutMs }, (result) => {
      const rsrp = result.ok ? slm.parseCesq(result.value.lines) : undefined;
      if (rsrp !== undefined) this.emit('signal', { rsrpDbm: rsrp });
    });
  }

  logLine(message: string): void {
    this.log?.(message);
  }
}

function failureCode(failure: AtFailure, whenError: TransportErrorCode): TransportErrorCode {
  return failure.kind === 'timeout' ? 'timeout' : failure.kind === 'closed' ? 'reset' : whenError;
}

function failureText(failure: AtFailure): string {
  return failure.kind === 'error' ? failure.text : failure.message;
}

class ModemSocket implements Transport {
  private readonly phase: StateMachine<Phase, Phase>;
  private handle = -1;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private blocked = false;
  private busy = false;
  private pollTimer: TimerHandle | undefined;
  private cancelWait: (() => void) | undefined;
  private triedSecondary = false;
  private tag: number;
  private finished = false;
  private failing = false;

  constructor(
    private readonly modem: SlmModem,
    private readonly options: TlsConnectOptions,
    private readonly events: TransportEvents,
    private readonly released: () => void,
  ) {
    this.phase = new StateMachine(PHASES, 'registering', { name: 'modem-socket', log: (m) => modem.logLine(m) });
    this.tag = options.secTag ?? modem.config.tags.primary;
  }

  start(): void {
    if (this.options.clientKey !== undefined) {
      // A key held in JS cannot reach the modem's TLS stack: it has to be written into a tag (iot-store modem).
      this.modem.timers.setTimeout(() => this.fail('tls-handshake', 'the modem signs with its security tag: store the key there, not in JS'), 0);
      return;
    }
    const ms = this.options.connectTimeoutMs ?? this.modem.config.connectTimeoutMs;
    this.cancelWait = this.modem.whenRegistered(
      ms,
      () => {
        this.cancelWait = undefined;
        if (this.phase.state === 'registering') this.open();
      },
      () => this.fail('timeout', `the modem found no LTE network in ${ms} ms`),
    );
  }

  write(bytes: Uint8Array): boolean {
    if (this.phase.state === 'closing' || this.phase.state === 'closed') return false;
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (this.phase.state === 'open') this.pump();
    if (this.queued > this.modem.config.sendHighWaterBytes) this.blocked = true;
    return !this.blocked;
  }

  close(): void {
    const state = this.phase.state;
    if (state === 'closing' || state === 'closed' || this.failing) return;
    if (state === 'registering') return this.finish({ by: 'local', message: 'connection closed by this device' });
    this.phase.move('closing');
    this.pump();
  }

  /** Not registered any more: a socket still waiting for the network keeps waiting, any other fails. */
  lostNetwork(message: string): void {
    if (this.phase.state !== 'registering') this.fail('reset', message);
  }

  /** Ends the connection with onError then onClose (once), closing the modem's socket when it has one. */
  fail(code: TransportErrorCode, message: string): void {
    if (this.phase.state === 'closed' || this.failing) return;
    const wasClosing = this.phase.state === 'closing';
    this.releaseSocket();
    if (wasClosing) return this.finish({ by: 'local', message: 'connection closed by this device' });
    // The owner may call close() from onError: the close reason stays this failure.
    this.failing = true;
    this.events.onError({ code, message });
    this.finish({ by: 'error', code, message });
  }

  private open(): void {
    this.phase.move('opening');
    const t = this.modem.config.commandTimeoutMs;
    this.modem.run({ line: slm.openSecureSocket(this.tag), prefix: '#XSSOCKET:', timeoutMs: t }, (result) => {
      if (this.phase.state !== 'opening') {
        // Closed while the modem was opening it: give the socket back rather than leave it in the modem.
        const late = result.ok ? slm.socketHandle(result.value.lines) : undefined;
        if (late !== undefined && late >= 0) this.modem.run({ line: slm.CLOSE_SOCKET, prefix: '#XSOCKET:', timeoutMs: t }, () => undefined);
        return;
      }
      if (!result.ok) return this.fail(failureCode(result.error, 'other'), `AT#XSSOCKET with tag ${this.tag}: ${failureText(result.error)}`);
      const handle = slm.socketHandle(result.value.lines);
      if (handle === undefined || handle < 0) return this.fail('other', `the modem opened no socket with tag ${this.tag} (${result.value.lines[0] ?? 'no answer'})`);
      this.handle = handle;
      this.phase.move('connecting');
      const name = this.options.serverName ?? this.options.host;
      this.modem.run({ line: slm.setHostname(name), timeoutMs: t }, (named) => {
        if (this.phase.state !== 'connecting') return;
        if (!named.ok) return this.fail(failureCode(named.error, 'tls-hostname'), `TLS_HOSTNAME: ${failureText(named.error)}`);
        this.dial();
      });
    });
  }

  private dial(): void {
    const ms = this.options.connectTimeoutMs ?? this.modem.config.connectTimeoutMs;
    this.modem.run({ line: slm.connectTo(this.options.host, this.options.port), prefix: '#XCONNECT:', timeoutMs: ms }, (result) => {
      if (this.phase.state !== 'connecting') return;
      if (result.ok && slm.connected(result.value.lines)) {
        this.phase.move('open');
        this.events.onConnect();
        this.pump();
        return;
      }
      const secondary = this.modem.config.tags.secondary;
      if (!result.ok && result.error.kind === 'error' && !this.triedSecondary && secondary !== undefined && secondary !== this.tag && this.options.secTag === undefined) {
        // SLM takes one sec_tag per socket: the secondary tag (another CA, a rotated credential) gets one try.
        this.triedSecondary = true;
        this.tag = secondary;
        this.handle = -1;
        this.modem.run({ line: slm.CLOSE_SOCKET, prefix: '#XSOCKET:', timeoutMs: this.modem.config.commandTimeoutMs }, () => {
          if (this.phase.state === 'connecting') this.open();
        });
        return;
      }
      const target = `${this.options.host}:${this.options.port}`;
      if (!result.ok) return this.fail(failureCode(result.error, 'refused'), `the modem could not connect to ${target} (TCP or TLS; SLM says ${failureText(result.error)})`);
      this.fail('refused', `the modem did not connect to ${target}`);
    });
  }

  /** The next AT step of an open socket: send what is queued, else close if asked, else poll later. */
  private pump(): void {
    if (this.busy || this.finished) return;
    const state = this.phase.state;
    if (state !== 'open' && state !== 'closing') return;
    if (this.pollTimer !== undefined) {
      this.modem.timers.clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
    }
    if (this.queued > 0) return this.send();
    if (state === 'closing') {
      this.releaseSocket();
      return this.finish({ by: 'local', message: 'connection closed by this device' });
    }
    this.pollTimer = this.modem.timers.setTimeout(() => {
      this.pollTimer = undefined;
      this.poll();
    }, this.modem.config.pollIntervalMs);
  }

  private send(): void {
    const chunk = this.takeChunk(this.modem.config.maxSendChunk);
    this.busy = true;
    this.modem.run({ line: slm.SEND_DATA_MODE, timeoutMs: this.modem.config.commandTimeoutMs, payload: chunk }, (result) => {
      this.busy = false;
      if (this.finished) return;
      if (!result.ok) return this.fail(failureCode(result.error, 'reset'), `AT#XSEND: ${failureText(result.error)}`);
      if (this.blocked && this.queued <= this.modem.config.sendHighWaterBytes / 2) {
        this.blocked = false;
        if (this.phase.state === 'open') this.events.onWritable();
      }
      this.pump();
    });
  }

  private takeChunk(max: number): Uint8Array {
    const first = this.queue[0]!;
    if (first.length > max) {
      this.queue[0] = first.subarray(max);
      this.queued -= max;
      return first.subarray(0, max);
    }
    // Small writes (an MQTT header and its payload) go out together; only then is a copy made.
    let size = 0;
    let count = 0;
    while (count < this.queue.length && size + this.queue[count]!.length <= max) size += this.queue[count++]!.length;
    if (count === 1) {
      this.queued -= first.length;
      return this.queue.shift()!;
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const part of this.queue.splice(0, count)) {
      out.set(part, at);
      at += part.length;
    }
    this.queued -= size;
    return out;
  }

  private poll(): void {
    if (this.busy || this.finished || this.phase.state !== 'open') return;
    this.busy = true;
    this.modem.run({ line: slm.pollSocket(this.handle), prefix: '#XPOLL:', timeoutMs: this.modem.config.commandTimeoutMs }, (result) => {
      this.busy = false;
      if (this.finished) return;
      if (!result.ok) return this.fail(failureCode(result.error, 'reset'), `AT#XPOLL: ${failureText(result.error)}`);
      const revents = slm.pollEvents(result.value.lines, this.handle);
      if (revents === undefined) return this.fail('other', `AT#XPOLL: unreadable events (${result.value.lines[0] ?? ''})`);
      if (revents & slm.POLLIN) return this.receive();
      if (revents & (slm.POLLERR | slm.POLLNVAL)) return this.fail('reset', `the modem reports a socket error (revents 0x${revents.toString(16)})`);
      if (revents & slm.POLLHUP) return this.peerClosed();
      this.pump();
    });
  }

  private receive(): void {
    this.busy = true;
    let got = false;
    this.modem.run(
      {
        line: slm.receive(1),
        prefix: '#XRECV:',
        timeoutMs: this.modem.config.commandTimeoutMs + 1000,
        onData: (bytes) => {
          got = true;
          if (!this.finished && this.phase.state === 'open' && bytes.length > 0) this.events.onData(bytes);
        },
      },
      (result) => {
        this.busy = false;
        if (this.finished) return;
        if (!result.ok) return this.fail(failureCode(result.error, 'reset'), `AT#XRECV: ${failureText(result.error)}`);
        const header = result.value.lines[0];
        if (header !== undefined && !got && header !== '#XRECV: 0') return this.fail('other', `AT#XRECV: a block over ${this.modem.config.maxRecvBytes} bytes was refused`);
        // OK without an #XRECV block: recv() returned 0, the server ended the connection.
        if (header === undefined) return this.peerClosed();
        this.pump();
      },
    );
  }

  private peerClosed(): void {
    this.releaseSocket();
    this.finish({ by: 'peer', message: `${this.options.host}:${this.options.port} closed the connection` });
  }

  private releaseSocket(): void {
    if (this.pollTimer !== undefined) this.modem.timers.clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.cancelWait?.();
    this.cancelWait = undefined;
    if (this.handle >= 0 && this.modem.channel.state !== 'closed') {
      this.handle = -1;
      this.modem.run({ line: slm.CLOSE_SOCKET, prefix: '#XSOCKET:', timeoutMs: this.modem.config.commandTimeoutMs }, () => undefined);
    }
  }

  private finish(reason: TransportCloseReason): void {
    if (this.finished) return;
    this.finished = true;
    if (this.phase.state !== 'closed') this.phase.move('closed');
    this.released();
    this.events.onClose(reason);
  }
}
