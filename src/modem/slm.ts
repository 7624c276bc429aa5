// The Serial LTE Modem (SLM) AT subset the modem transport speaks, as pure builders and parsers. Syntax from
// Nordic's SLM docs (nrfconnect/sdk-nrf, applications/serial_lte_modem/doc/SOCKET_AT_commands.rst and
// slm_data_mode.rst) and the nRF91 AT command reference (+CEREG, +CESQ, %CMNG); see docs/modem.md.

/** `AT#XSSOCKET=1,1,0,<sec_tag>,2`: IPv4, SOCK_STREAM over TLS 1.2, client, peer verification required. */
export function openSecureSocket(secTag: number): string {
  return `AT#XSSOCKET=1,1,0,${secTag},2`;
}

/** TLS_HOSTNAME (option 2): the name the server certificate is checked against, also sent as SNI. */
export function setHostname(serverName: string): string {
  return `AT#XSSOCKETOPT=1,2,"${serverName}"`;
}

export function connectTo(host: string, port: number): string {
  return `AT#XCONNECT="${host}",${port}`;
}

export const CLOSE_SOCKET = 'AT#XSOCKET=0';
/** Without data, `#XSEND` enters data mode. */
export const SEND_DATA_MODE = 'AT#XSEND';

export function pollSocket(handle: number): string {
  return `AT#XPOLL=0,${handle}`;
}

/** One `#XRECV` read, waiting at most `seconds` for data (poll said there is some). */
export function receive(seconds: number): string {
  return `AT#XRECV=${seconds}`;
}

/** Splits the parameters of an answer line (`#XSSOCKET: 2,1,258` -> ['2', '1', '258']); quotes are kept. */
export function answerFields(line: string): string[] {
  const colon = line.indexOf(': ');
  return colon < 0 ? [] : line.slice(colon + 2).split(',');
}

function integer(text: string | undefined): number | undefined {
  return text !== undefined && /^-?[0-9]{1,10}$/.test(text) ? Number(text) : undefined;
}

function unquote(text: string | undefined): string | undefined {
  return text !== undefined && text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : undefined;
}

/** The socket handle from `#XSSOCKET: <handle>,<type>,<protocol>`; a negative handle is a failed open. */
export function socketHandle(lines: readonly string[]): number | undefined {
  const line = lines.find((l) => l.startsWith('#XSSOCKET: '));
  return line === undefined ? undefined : integer(answerFields(line)[0]);
}

export function connected(lines: readonly string[]): boolean {
  return lines.some((l) => l === '#XCONNECT: 1');
}

export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

/** The revents of `handle` from `#XPOLL: <handle>,"0x0001"` lines; 0 when the poll listed none. */
export function pollEvents(lines: readonly string[], handle: number): number | undefined {
  for (const line of lines) {
    const [h, revents] = answerFields(line);
    if (integer(h) !== handle) continue;
    const hex = unquote(revents);
    return hex !== undefined && /^0x[0-9a-fA-F]{1,8}$/.test(hex) ? parseInt(hex.slice(2), 16) : undefined;
  }
  return 0;
}

/** +CEREG <stat>: 1 registered (home), 5 registered (roaming); 0, 2, 3, 4, 90 are the ways of not being. */
export type RegistrationStat = number;

export function isRegistered(stat: RegistrationStat): boolean {
  return stat === 1 || stat === 5;
}

export interface Registration {
  stat: RegistrationStat;
  /** PSM timers the network granted, in seconds (from level-4/5 notifications); absent when PSM is off. */
  activeTimeS?: number;
  periodicTauS?: number;
}

/**
 * A `+CEREG:` line: the URC (`+CEREG: <stat>[,<tac>,<ci>,<AcT>[,<cause_type>,<reject_cause>[,<Active-Time>,
 * <Periodic-TAU-ext>]]]`) or the read answer, which puts <n> first (`+CEREG: <n>,<stat>,...`). A URC can arrive
 * while `AT+CEREG?` waits for its answer, so the two are told apart by their second field: the answer's is a
 * bare number (<stat>), a URC's is the quoted <tac> or absent.
 */
export function parseCereg(line: string): Registration | undefined {
  const fields = answerFields(line);
  if (integer(fields[1]) !== undefined) fields.shift();
  const stat = integer(fields[0]);
  if (stat === undefined) return undefined;
  const registration: Registration = { stat };
  const active = gprsTimer2(unquote(fields[6]));
  const tau = gprsTimer3(unquote(fields[7]));
  if (active !== undefined) registration.activeTimeS = active;
  if (tau !== undefined) registration.periodicTauS = tau;
  return registration;
}

// 3GPP TS 24.008 GPRS timers as +CEREG prints them: 8 bits, the top 3 the unit, the low 5 the value.
const TIMER2_UNITS = [2, 60, 360]; // T3324 (Active-Time): 2 s, 1 min, 6 min (decihours); 111 = deactivated
const TIMER3_UNITS = [600, 3600, 36000, 2, 30, 60, 1152000]; // T3412 ext: 10 min, 1 h, 10 h, 2 s, 30 s, 1 min, 320 h

function timerBits(bits: string | undefined): [number, number] | undefined {
  if (bits === undefined || !/^[01]{8}$/.test(bits)) return undefined;
  const value = parseInt(bits, 2);
  return [value >> 5, value & 0x1f];
}

export function gprsTimer2(bits: string | undefined): number | undefined {
  const t = timerBits(bits);
  if (t === undefined) return undefined;
  const unit = TIMER2_UNITS[t[0]];
  return unit === undefined ? undefined : unit * t[1];
}

export function gprsTimer3(bits: string | undefined): number | undefined {
  const t = timerBits(bits);
  if (t === undefined) return undefined;
  const unit = TIMER3_UNITS[t[0]];
  return unit === undefined ? undefined : unit * t[1];
}

/** RSRP in dBm from `+CESQ: <rxlev>,<ber>,<rscp>,<ecno>,<rsrq>,<rsrp>` (index - 140; 255 is unknown). */
export function parseCesq(lines: readonly string[]): number | undefined {
  const line = lines.find((l) => l.startsWith('+CESQ: '));
  const rsrp = integer(line === undefined ? undefined : answerFields(line)[5]);
  return rsrp === undefined || rsrp === 255 || rsrp < 0 || rsrp > 97 ? undefined : rsrp - 140;
}

/**
 * LTE Power Saving Mode and the MQTT keepalive. In PSM the modem sleeps between its Active-Time and the next
 * periodic TAU; a keepalive that falls due while it sleeps wakes it (and the hub closes a connection that misses
 * 1.5 keepalives). The rule: with PSM on, stay connected only when a keepalive longer than the TAU period still
 * fits the hub's limit (IoT Hub accepts at most 1767 s), and use that keepalive; otherwise close before sleeping
 * and reconnect after waking.
 */
export type PsmPlan = { mode: 'stay-connected'; keepAliveSeconds: number } | { mode: 'reconnect-after-wake'; sleepSeconds: number };

export const HUB_MAX_KEEPALIVE_SECONDS = 1767;

export function psmPlan(configuredKeepAliveSeconds: number, registration: Registration, marginSeconds = 30): PsmPlan {
  const tau = registration.periodicTauS;
  if (registration.activeTimeS === undefined || tau === undefined || tau === 0) {
    return { mode: 'stay-connected', keepAliveSeconds: configuredKeepAliveSeconds };
  }
  const needed = tau + marginSeconds;
  if (needed <= HUB_MAX_KEEPALIVE_SECONDS) return { mode: 'stay-connected', keepAliveSeconds: Math.max(configuredKeepAliveSeconds, needed) };
  return { mode: 'reconnect-after-wake', sleepSeconds: tau };
}

/**
 * Network time from `+CCLK: "yy/MM/dd,hh:mm:ss±zz"` (zz: quarter hours from UTC), as Unix ms; undefined when the
 * modem has none yet. Where the board has no IP network for SNTP (nRF52 + modem), this sets the wall clock.
 */
export function parseCclk(lines: readonly string[]): number | undefined {
  const line = lines.find((l) => l.startsWith('+CCLK: '));
  const m = line === undefined ? null : /^\+CCLK: "(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d)"$/.exec(line);
  if (m === null) return undefined;
  const n = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  if (n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 || n[3] > 23 || n[4] > 59 || n[5] > 59) return undefined;
  return Date.UTC(2000 + n[0], n[1] - 1, n[2], n[3], n[4], n[5]) - n[6] * 15 * 60_000;
}
