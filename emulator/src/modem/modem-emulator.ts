// A stand-in for an nRF91 running Nordic's Serial LTE Modem (SLM) firmware, for tests and for people. The UART is
// a TCP connection on loopback (one host at a time, as a UART has one). It speaks the AT subset the firmware
// uses (docs/modem.md lists it): +CFUN, +CEREG (with URCs), +CESQ, %CMNG (security tags: CA, client
// certificate, private key; written only while offline, as the modem requires), #XSSOCKET, #XSSOCKETOPT,
// #XCONNECT, #XSEND (data mode, `+++` ends it), #XPOLL, #XRECV, #XSOCKET=0. #XCONNECT does real TLS with the tag's
// credentials, so device -> AT -> this modem -> TLS -> hub runs whole.
//
// Faults (ModemFaults): network deregistration, a dropped socket, a slow UART, garbage bytes on the UART, an
// ERROR answer to the next command with a given prefix.
import { createHash } from 'node:crypto';
import { createServer, isIP, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, checkServerIdentity, type TLSSocket } from 'node:tls';

export type CredentialType = 0 | 1 | 2;

export interface ModemEmulatorOptions {
  /** Registered (+CEREG stat 1) once online; default true. */
  network?: boolean;
  /** PSM timers to report in level-5 +CEREG lines, as 8-bit strings (e.g. '00100001' = 1 min, '00000110' = 60 min). */
  psm?: { activeTime: string; periodicTau: string };
  log?: (line: string) => void;
  /** The first socket handle handed out (SLM numbers them by file descriptor); default 0. */
  firstHandle?: number;
  /** The TCP port of the UART stand-in; default any free one. */
  port?: number;
}

export interface ModemFaults {
  /** The network drops the modem: +CEREG: 2 and the socket is gone. `register()` brings it back. */
  deregister(): void;
  register(): void;
  /** The TLS connection breaks under the modem (POLLERR on the next poll). */
  dropSocket(): void;
  /** UART output trickles: `bytes` every `everyMs`; `slowUart()` with no arguments ends it. */
  slowUart(bytes?: number, everyMs?: number): void;
  /** Noise on the UART: these bytes (or random control bytes) between two CRLFs. */
  garbage(bytes?: Uint8Array): void;
  /** The next command starting with `prefix` is answered ERROR. */
  errorNext(prefix: string): void;
}

const SLM_RECV_BUFFER = 2048;
const RX_PAUSE_BYTES = 16 * 1024;

interface ModemSocket {
  handle: number;
  tag: number;
  peerVerify: number;
  hostname?: string;
  tls?: TLSSocket;
  rx: Buffer[];
  rxBytes: number;
  ended: boolean;
  failed: boolean;
  waiting?: () => void;
}

function sha256Upper(text: string): string {
  return createHash('sha256').update(text).digest('hex').toUpperCase();
}

/** The parameters after `=`: comma-separated, quotes removed, commas and line ends inside quotes kept. */
export function atParameters(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

export class ModemEmulator {
  /** Security tags: tag -> type -> PEM text. Survives UART reconnects, as the modem's NVM does. */
  readonly tags = new Map<number, Map<CredentialType, string>>();
  /** Every command line received, in order (credential contents elided). */
  readonly commands: string[] = [];
  readonly faults: ModemFaults;
  private server!: Server;
  private uart: Socket | undefined;
  private input = '';
  private quoted = false;
  private dataMode: Buffer[] | undefined;
  private cfun = 0;
  private cereg = 0;
  private network: boolean;
  private stat = 0;
  private socket: ModemSocket | undefined;
  private nextHandle = 0;
  private readonly errorPrefixes: string[] = [];
  private out: Buffer[] = [];
  private slow: { bytes: number; everyMs: number } | undefined;
  private draining: NodeJS.Timeout | undefined;
  private readonly log: (line: string) => void;

  private constructor(private readonly options: ModemEmulatorOptions) {
    this.network = options.network ?? true;
    this.nextHandle = options.firstHandle ?? 0;
    this.log = options.log ?? (() => undefined);
    this.faults = {
      deregister: () => {
        this.network = false;
        this.setStat(this.cfun === 1 ? 2 : 0);
        this.killSocket('network lost');
      },
      register: () => {
        this.network = true;
        if (this.cfun === 1) this.setStat(1);
      },
      dropSocket: () => this.killSocket('dropped'),
      slowUart: (bytes, everyMs) => {
        this.slow = bytes === undefined ? undefined : { bytes, everyMs: everyMs ?? 5 };
      },
      garbage: (bytes) => {
        const noise = bytes ?? Uint8Array.from({ length: 12 }, (_, i) => [0x00, 0xff, 0x1b, 0x7f, 0x80, 0x13][i % 6]!);
        this.write(Buffer.concat([Buffer.from('\r\n'), Buffer.from(noise), Buffer.from('\r\n')]));
      },
      errorNext: (prefix) => void this.errorPrefixes.push(prefix),
    };
  }

  static async start(options: ModemEmulatorOptions = {}): Promise<ModemEmulator> {
    const modem = new ModemEmulator(options);
    modem.server = createServer((socket) => modem.attach(socket));
    await new Promise<void>((resolve, reject) => {
      modem.server.once('error', reject);
      modem.server.listen(options.port ?? 0, '127.0.0.1', resolve);
    });
    return modem;
  }

  /** The TCP port standing in for the UART. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get registered(): boolean {
    return this.stat === 1 || this.stat === 5;
  }

  /** Drops the UART connection (a cable pulled). */
  disconnectUart(): void {
    this.uart?.destroy();
  }

  async stop(): Promise<void> {
    this.killSocket('modem stopped');
    this.uart?.destroy();
    if (this.draining) clearTimeout(this.draining);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private attach(socket: Socket): void {
    // One UART: a new host connection takes it over (the last one may still be closing).
    this.uart?.destroy();
    this.uart = socket;
    this.input = '';
    this.dataMode = undefined;
    socket.on('data', (chunk: Buffer) => this.onUart(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.uart !== socket) return;
      this.uart = undefined;
      this.out = [];
    });
  }

  private write(bytes: Buffer): void {
    this.out.push(bytes);
    this.drain();
  }

  private drain(): void {
    if (this.draining !== undefined) return;
    const uart = this.uart;
    if (!uart) {
      this.out = [];
      return;
    }
    if (!this.slow) {
      for (const piece of this.out.splice(0)) uart.write(piece);
      return;
    }
    const all = Buffer.concat(this.out.splice(0));
    if (all.length === 0) return;
    const piece = all.subarray(0, this.slow.bytes);
    const rest = all.subarray(this.slow.bytes);
    if (rest.length > 0) this.out.unshift(rest);
    uart.write(piece);
    this.draining = setTimeout(() => {
      this.draining = undefined;
      this.drain();
    }, this.slow.everyMs);
  }

  private line(text: string): void {
    this.write(Buffer.from(`\r\n${text}\r\n`, 'latin1'));
  }

  private ok(): void {
    this.line('OK');
  }

  private error(): void {
    this.line('ERROR');
  }

  private onUart(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.dataMode) {
        this.dataMode.push(chunk.subarray(at));
        at = chunk.length;
        const all = Buffer.concat(this.dataMode);
        // SLM takes the terminator at the end of what arrived (docs: alone or as an affix to the data).
        if (all.length >= 3 && all.subarray(all.length - 3).toString('latin1') === '+++') {
          this.dataMode = undefined;
          this.sendData(all.subarray(0, all.length - 3));
        } else this.dataMode = [all];
        continue;
      }
      const ch = String.fromCharCode(chunk[at++]!);
      if (ch === '"') this.quoted = !this.quoted;
      if ((ch === '\r' || ch === '\n') && !this.quoted) {
        const command = this.input;
        this.input = '';
        if (command.length > 0) this.command(command);
        // The LF of a CRLF that ended `AT#XSEND` is not data.
        if (this.dataMode && ch === '\r' && chunk[at] === 0x0a) at++;
        continue;
      }
      this.input += ch;
      if (this.input.length > 8192) {
        this.input = '';
        this.quoted = false;
        this.error();
      }
    }
  }

  private command(text: string): void {
    this.commands.push(text.startsWith('AT%CMNG=0') ? text.replace(/"[^]*"/, '"..."') : text);
    this.log(`modem <- ${text.slice(0, 80)}`);
    const fault = this.errorPrefixes.findIndex((p) => text.startsWith(p));
    if (fault >= 0) {
      this.errorPrefixes.splice(fault, 1);
      return this.error();
    }
    const upper = text.toUpperCase();
    const eq = text.indexOf('=');
    const params = eq < 0 ? [] : atParameters(text.slice(eq + 1));
    if (upper === 'AT') return this.ok();
    if (upper.startsWith('AT+CFUN=')) return this.cfunSet(Number(params[0]));
    if (upper === 'AT+CFUN?') {
      this.line(`+CFUN: ${this.cfun}`);
      return this.ok();
    }
    if (upper.startsWith('AT+CEREG=')) {
      const n = Number(params[0]);
      if (!(n >= 0 && n <= 5)) return this.error();
      this.cereg = n;
      return this.ok();
    }
    if (upper === 'AT+CEREG?') {
      this.line(`+CEREG: ${this.cereg},${this.ceregDetail(this.cereg)}`);
      return this.ok();
    }
    if (upper === 'AT+CESQ') {
      this.line(this.registered ? '+CESQ: 99,99,255,255,31,62' : '+CESQ: 99,99,255,255,255,255');
      return this.ok();
    }
    if (upper.startsWith('AT%CMNG=')) return this.cmng(params);
    if (upper.startsWith('AT#XSSOCKET=')) return this.secureSocket(params);
    if (upper === 'AT#XSSOCKET?') {
      const s = this.socket;
      if (s) this.line(`#XSSOCKET: ${s.handle},1,0,1,${s.tag},0`);
      return this.ok();
    }
    if (upper.startsWith('AT#XSOCKET=')) {
      if (params[0] !== '0') return this.error();
      this.killSocket('closed by the host');
      this.line('#XSOCKET: 0,"closed"');
      return this.ok();
    }
    if (upper.startsWith('AT#XSSOCKETOPT=')) return this.secureSocketOption(params);
    if (upper.startsWith('AT#XCONNECT=')) return this.connect(params[0] ?? '', Number(params[1]));
    if (upper === 'AT#XSEND') {
      if (!this.socket?.tls) return this.error();
      this.dataMode = [];
      return;
    }
    if (upper.startsWith('AT#XSEND=')) {
      const data = Buffer.from(params[0] ?? '', 'latin1');
      if (!this.socket?.tls) return this.error();
      this.socket.tls.write(data);
      this.line(`#XSEND: ${data.length}`);
      return this.ok();
    }
    if (upper.startsWith('AT#XPOLL=')) return this.poll(params.slice(1).map(Number));
    if (upper.startsWith('AT#XRECV=')) return this.recv(Number(params[0]), Number(params[1] ?? 0));
    this.error();
  }

  private cfunSet(fun: number): void {
    if (![0, 1, 4].includes(fun)) return this.error();
    this.cfun = fun;
    this.ok();
    if (fun === 1) {
      if (this.network) {
        this.setStat(2);
        setImmediate(() => {
          if (this.cfun === 1 && this.network) this.setStat(1);
        });
      } else this.setStat(2);
    } else {
      this.killSocket('modem offline');
      this.setStat(0);
    }
  }

  private ceregDetail(level: number): string {
    let text = `${this.stat}`;
    if (level >= 2 && this.registered) {
      text += ',"002F","0012BEEF",7';
      const psm = this.options.psm;
      if (level >= 4 && psm) text += `,,,"${psm.activeTime}","${psm.periodicTau}"`;
    }
    return text;
  }

  private setStat(stat: number): void {
    if (stat === this.stat) return;
    this.stat = stat;
    if (this.cereg > 0) this.line(`+CEREG: ${this.ceregDetail(this.cereg)}`);
  }

  private cmng(params: string[]): void {
    const op = Number(params[0]);
    const tag = params[1] === undefined ? undefined : Number(params[1]);
    const type = params[2] === undefined ? undefined : (Number(params[2]) as CredentialType);
    const offline = this.cfun !== 1;
    if (op === 0) {
      if (!offline) return this.line('+CME ERROR: 518');
      if (tag === undefined || type === undefined || ![0, 1, 2].includes(type) || !params[3]) return this.error();
      let slot = this.tags.get(tag);
      if (!slot) this.tags.set(tag, (slot = new Map()));
      slot.set(type, params[3].replace(/\r\n/g, '\n'));
      return this.ok();
    }
    if (op === 1) {
      for (const [t, slot] of [...this.tags].sort((a, b) => a[0] - b[0])) {
        if (tag !== undefined && t !== tag) continue;
        for (const [ty, pem] of [...slot].sort((a, b) => a[0] - b[0])) {
          if (type !== undefined && ty !== type) continue;
          this.line(`%CMNG: ${t},${ty},"${sha256Upper(pem)}"`);
        }
      }
      return this.ok();
    }
    const pem = tag === undefined || type === undefined ? undefined : this.tags.get(tag)?.get(type);
    if (op === 2) {
      if (pem === undefined) return this.line('+CME ERROR: 513');
      if (type === 2) return this.line('+CME ERROR: 514');
      this.line(`%CMNG: ${tag},${type},"${sha256Upper(pem)}","${pem}"`);
      return this.ok();
    }
    if (op === 3) {
      if (!offline) return this.line('+CME ERROR: 518');
      if (pem === undefined) return this.line('+CME ERROR: 513');
      this.tags.get(tag!)!.delete(type!);
      if (this.tags.get(tag!)!.size === 0) this.tags.delete(tag!);
      return this.ok();
    }
    this.error();
  }

  private secureSocket(params: string[]): void {
    if (params[0] === '0') {
      this.killSocket('closed by the host');
      this.line('#XSOCKET: 0,"closed"');
      return this.ok();
    }
    if (params[0] !== '1' || params[1] !== '1' || params[2] !== '0' || params[3] === undefined) return this.error();
    if (this.socket) return this.error(); // the emulator keeps one socket, as the firmware uses one
    const tag = Number(params[3]);
    const peerVerify = params[4] === undefined ? 2 : Number(params[4]);
    this.socket = { handle: this.nextHandle++ % 16, tag, peerVerify, rx: [], rxBytes: 0, ended: false, failed: false };
    this.line(`#XSSOCKET: ${this.socket.handle},1,258`);
    this.ok();
  }

  private secureSocketOption(params: string[]): void {
    const s = this.socket;
    if (!s || params[0] !== '1') return this.error();
    if (params[1] === '2') s.hostname = params[2] === 'NULL' ? undefined : params[2];
    else if (params[1] === '5') s.peerVerify = Number(params[2]);
    else return this.error();
    this.ok();
  }

  private connect(host: string, port: number): void {
    const s = this.socket;
    if (!s || s.tls || !this.registered) return this.error();
    const slot = this.tags.get(s.tag);
    const ca = slot?.get(0);
    const name = s.hostname ?? host;
    let settled = false;
    const settle = (connected: boolean): void => {
      if (settled) return;
      settled = true;
      if (connected) this.line('#XCONNECT: 1');
      else {
        s.tls = undefined;
        s.failed = false;
      }
      if (connected) this.ok();
      else this.error();
    };
    const tls = tlsConnect({
      host,
      port,
      servername: s.hostname !== undefined && isIP(s.hostname) === 0 ? s.hostname : undefined,
      ...(ca ? { ca } : {}),
      ...(slot?.get(1) ? { cert: slot.get(1) } : {}),
      ...(slot?.get(2) ? { key: slot.get(2) } : {}),
      rejectUnauthorized: s.peerVerify === 2,
      checkServerIdentity: (_h, cert) => (s.hostname === undefined ? undefined : checkServerIdentity(name, cert)),
      minVersion: 'TLSv1.2',
    });
    s.tls = tls;
    tls.on('secureConnect', () => settle(true));
    tls.on('data', (chunk: Buffer) => {
      s.rx.push(chunk);
      s.rxBytes += chunk.length;
      if (s.rxBytes > RX_PAUSE_BYTES) tls.pause();
      s.waiting?.();
    });
    tls.on('error', (e) => {
      this.log(`modem: TLS to ${host}:${port} failed: ${e.message}`);
      if (!settled) return settle(false);
      s.failed = true;
      s.waiting?.();
    });
    tls.on('close', () => {
      if (!settled) return settle(false);
      s.ended = true;
      s.waiting?.();
    });
  }

  private sendData(data: Buffer): void {
    const tls = this.socket?.tls;
    if (!tls || this.socket?.failed || this.socket?.ended) return this.error();
    tls.write(data);
    this.ok();
  }

  private poll(handles: number[]): void {
    const s = this.socket;
    if (s && (handles.length === 0 || handles.includes(s.handle))) {
      let revents = 0;
      if (s.rxBytes > 0) revents |= 0x1;
      if (s.failed) revents |= 0x8;
      else if (s.ended && s.rxBytes === 0) revents |= 0x11;
      if (revents !== 0) this.line(`#XPOLL: ${s.handle},"0x${revents.toString(16).padStart(4, '0')}"`);
    }
    this.ok();
  }

  private recv(timeoutS: number, flags: number): void {
    const s = this.socket;
    if (!s || !s.tls && !s.ended) return this.error();
    const answer = (): void => {
      s.waiting = undefined;
      if (s.rxBytes > 0) {
        const all = Buffer.concat(s.rx);
        const block = all.subarray(0, SLM_RECV_BUFFER);
        const rest = all.subarray(block.length);
        s.rx = rest.length > 0 ? [rest] : [];
        s.rxBytes = rest.length;
        if (s.rxBytes <= RX_PAUSE_BYTES) s.tls?.resume();
        this.write(Buffer.concat([Buffer.from(`\r\n#XRECV: ${block.length}\r\n`), block]));
        return this.ok();
      }
      if (s.failed) return this.error();
      this.ok(); // recv() returned 0: the peer closed; SLM prints no #XRECV line
    };
    if (s.rxBytes > 0 || s.ended || s.failed || (flags & 64) !== 0) {
      if (s.rxBytes === 0 && !s.ended && !s.failed) return this.error(); // EAGAIN
      return answer();
    }
    const timer = timeoutS > 0 ? setTimeout(() => {
      s.waiting = undefined;
      this.error();
    }, timeoutS * 1000) : undefined;
    s.waiting = () => {
      if (timer) clearTimeout(timer);
      answer();
    };
  }

  private killSocket(why: string): void {
    const s = this.socket;
    if (!s) return;
    this.log(`modem: socket ${s.handle} ${why}`);
    if (why === 'dropped') {
      s.failed = true;
      s.tls?.destroy();
      s.waiting?.();
      return; // the host still holds the handle and learns of it by polling
    }
    this.socket = undefined;
    s.tls?.destroy();
  }
}
