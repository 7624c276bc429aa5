// The modem transport on a virtual clock against a scripted SLM: what it sends for each step, the secondary tag,
// a connection that waits for the network, a key held in JS refused, and a socket given back when the caller
// closes while the modem is still opening it.
import { describe, expect, test } from '@jest/globals';
import { VirtualClock } from '../../hosts/virtual/virtual-clock';
import { SlmModem } from '../../src/modem/modem-transport';
import type { SerialPortEvents, TransportCloseReason, TransportError } from '../../src/ports';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** A scripted modem: every command line is recorded and answered by `answer` (undefined: no answer). */
function scripted(answer: (line: string) => string | undefined) {
  const clock = new VirtualClock();
  const sent: string[] = [];
  let port: SerialPortEvents | undefined;
  let pending = '';
  const serial = {
    open: (events: SerialPortEvents) => {
      port = events;
      return {
        write: (bytes: Uint8Array) => {
          pending += String.fromCharCode(...bytes);
          let end: number;
          while ((end = pending.indexOf('\r\n')) >= 0) {
            const line = pending.slice(0, end);
            pending = pending.slice(end + 2);
            sent.push(line);
            const reply = answer(line);
            if (reply !== undefined) clock.setTimeout(() => port?.onData(ascii(reply)), 1);
          }
          return true;
        },
        close: () => undefined,
      };
    },
  };
  const modem = new SlmModem(serial, clock, { tags: { primary: 10, secondary: 11 }, pollIntervalMs: 50, commandTimeoutMs: 1000, connectTimeoutMs: 5000, dataModeDelayMs: 1 });
  const events = { connected: 0, errors: [] as TransportError[], closes: [] as TransportCloseReason[] };
  const connect = (extra: object = {}) =>
    modem.transportFactory().connect(
      { host: 'hub.example', port: 8883, trustedCAs: [], ...extra },
      {
        onConnect: () => void events.connected++,
        onData: () => undefined,
        onWritable: () => undefined,
        onError: (e) => void events.errors.push(e),
        onClose: (r) => void events.closes.push(r),
      },
    );
  return { clock, sent, modem, events, connect, urc: (line: string) => port?.onData(ascii(`\r\n${line}\r\n`)), raw: (text: string) => port?.onData(ascii(text)) };
}

const ok = '\r\nOK\r\n';

function registeredModem(answer: (line: string) => string | undefined) {
  return (line: string): string | undefined => {
    if (line === 'AT+CEREG?') return `\r\n+CEREG: 5,1,"002F","0012BEEF",7${ok}`;
    if (line === 'AT#XSOCKET=0') return `\r\n#XSOCKET: 0,"closed"${ok}`;
    if (line === 'AT+CESQ') return `\r\n+CESQ: 99,99,255,255,31,62${ok}`;
    return answer(line) ?? ok;
  };
}

describe('connecting', () => {
  test('start-up, then socket with the tag, hostname, connect; onConnect once', () => {
    const t = scripted(registeredModem((line) => (line.startsWith('AT#XSSOCKET=') ? `\r\n#XSSOCKET: 3,1,258${ok}` : line.startsWith('AT#XCONNECT') ? `\r\n#XCONNECT: 1${ok}` : undefined)));
    t.modem.start();
    t.connect({ serverName: 'hub.example' });
    t.clock.advance(100);
    expect(t.sent.slice(0, 8)).toEqual(['AT#XSOCKET=0', 'AT+CEREG=5', 'AT+CFUN=1', 'AT+CEREG?', 'AT#XSSOCKET=1,1,0,10,2', 'AT+CESQ', 'AT#XSSOCKETOPT=1,2,"hub.example"', 'AT#XCONNECT="hub.example",8883']);
    expect(t.events.connected).toBe(1);
    // Idle: the socket is polled.
    t.clock.advance(200);
    expect(t.sent.filter((l) => l === 'AT#XPOLL=0,3').length).toBeGreaterThan(0);
  });

  test('AT#XCONNECT refused on the primary tag: one more try on the secondary, then refused', () => {
    const t = scripted(registeredModem((line) => (line.startsWith('AT#XSSOCKET=') ? `\r\n#XSSOCKET: 1,1,258${ok}` : line.startsWith('AT#XCONNECT') ? '\r\nERROR\r\n' : undefined)));
    t.modem.start();
    t.connect();
    t.clock.advance(200);
    expect(t.sent.filter((l) => l.startsWith('AT#XSSOCKET='))).toEqual(['AT#XSSOCKET=1,1,0,10,2', 'AT#XSSOCKET=1,1,0,11,2']);
    expect(t.events.closes).toEqual([{ by: 'error', code: 'refused', message: 'the modem could not connect to hub.example:8883 (TCP or TLS; SLM says ERROR)' }]);
  });

  test('not registered: the connection waits for +CEREG, then opens', () => {
    const t = scripted((line) => (line === 'AT+CEREG?' ? `\r\n+CEREG: 5,2${ok}` : line.startsWith('AT#XSSOCKET=') ? `\r\n#XSSOCKET: 0,1,258${ok}` : line.startsWith('AT#XCONNECT') ? `\r\n#XCONNECT: 1${ok}` : ok));
    t.modem.start();
    t.connect();
    t.clock.advance(1000);
    expect(t.sent.some((l) => l.startsWith('AT#XSSOCKET='))).toBe(false);
    t.urc('+CEREG: 1,"002F","0012BEEF",7');
    t.clock.advance(100);
    expect(t.events.connected).toBe(1);
  });

  test('no network within the connect timeout: timeout', () => {
    const t = scripted((line) => (line === 'AT+CEREG?' ? `\r\n+CEREG: 5,4${ok}` : ok));
    t.modem.start();
    t.connect();
    t.clock.advance(6000);
    expect(t.events.closes).toEqual([{ by: 'error', code: 'timeout', message: 'the modem found no LTE network in 5000 ms' }]);
  });

  test('a client key held in JS is refused: the modem signs with its tag', () => {
    const t = scripted(registeredModem(() => undefined));
    t.modem.start();
    t.connect({ clientKey: new Uint8Array([1]) });
    t.clock.advance(10);
    expect(t.events.closes[0]).toMatchObject({ by: 'error', code: 'tls-handshake' });
    expect(t.sent.some((l) => l.startsWith('AT#XSSOCKET='))).toBe(false);
  });

  test('closed while the modem opens the socket: onClose local, and the socket is given back', () => {
    // The modem takes its time over the open: its answer comes only after the caller closed.
    const t = scripted(registeredModem((line) => (line.startsWith('AT#XSSOCKET=') ? '' : undefined)));
    t.modem.start();
    const transport = t.connect();
    t.clock.advance(50);
    expect(t.sent).toContain('AT#XSSOCKET=1,1,0,10,2');
    transport.close();
    t.raw(`\r\n#XSSOCKET: 4,1,258${ok}`);
    t.clock.advance(100);
    expect(t.events.closes).toEqual([{ by: 'local', message: 'connection closed by this device' }]);
    expect(t.sent.filter((l) => l === 'AT#XSOCKET=0')).toHaveLength(2); // the start-up one, and this one
  });
});
