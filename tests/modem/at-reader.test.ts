// The AT reader's bounds and the pure SLM parsers: lines, #XRECV blocks, refused noise, registration with PSM
// timers, signal, and the PSM keepalive rule.
import { describe, expect, test } from '@jest/globals';
import { AtReader, type AtRefusal } from '../../src/modem/at-reader';
import * as slm from '../../src/modem/slm';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

function read(chunks: (string | Uint8Array)[], limits = { maxLineBytes: 32, maxDataBytes: 16 }): { lines: string[]; data: string; refused: AtRefusal[] } {
  const out = { lines: [] as string[], data: '', refused: [] as AtRefusal[] };
  const reader = new AtReader(limits, {
    line: (t) => void out.lines.push(t),
    data: (bytes) => void (out.data += String.fromCharCode(...bytes)),
    refused: (r) => void out.refused.push(r),
  });
  for (const c of chunks) reader.push(typeof c === 'string' ? ascii(c) : c);
  return out;
}

describe('lines', () => {
  test('CR, LF and CRLF end lines; empty lines are skipped', () => {
    expect(read(['\r\nOK\r\n\r\n+CEREG: 1\rERROR\n']).lines).toEqual(['OK', '+CEREG: 1', 'ERROR']);
  });

  test('a line split across chunks reads the same', () => {
    expect(read(['\r\n#XSSOC', 'KET: 2,1,', '258\r', '\n']).lines).toEqual(['#XSSOCKET: 2,1,258']);
  });
});

describe('#XRECV blocks', () => {
  test('exactly <size> raw bytes after the header, CR and LF included, then lines again', () => {
    const out = read(['\r\n#XRECV: 6\r\n', new Uint8Array([0x30, 0x0d, 0x0a, 0x00]), new Uint8Array([0xff, 0x10]), '\r\nOK\r\n']);
    expect(out.lines).toEqual(['#XRECV: 6', 'OK']);
    expect([...out.data].map((c) => c.charCodeAt(0))).toEqual([0x30, 0x0d, 0x0a, 0x00, 0xff, 0x10]);
  });

  test('a header split between its CR and LF still starts the block after the LF', () => {
    const out = read(['#XRECV: 2\r', '\nab\r\nOK\r\n']);
    expect(out.data).toBe('ab');
    expect(out.lines).toEqual(['#XRECV: 2', 'OK']);
  });

  test('a block over maxDataBytes is skipped unread and refused', () => {
    const out = read([`#XRECV: 20\r\n${'x'.repeat(20)}\r\nOK\r\n`]);
    expect(out.data).toBe('');
    expect(out.refused).toEqual(['too-large']);
    expect(out.lines).toEqual(['#XRECV: 20', 'OK']);
  });

  test('a size that is not a number is garbage', () => {
    expect(read(['#XRECV: 7x\r\nOK\r\n'])).toEqual({ lines: ['OK'], data: '', refused: ['garbage'] });
  });
});

describe('noise is refused, never buffered past the limit', () => {
  test('control and non-ASCII bytes drop their line only', () => {
    const out = read([new Uint8Array([0x0d, 0x0a, 0x00, 0xff, 0x1b, 0x80, 0x0d, 0x0a]), '\r\nOK\r\n']);
    expect(out).toEqual({ lines: ['OK'], data: '', refused: ['garbage'] });
  });

  test('a line over maxLineBytes is dropped up to its end', () => {
    const out = read([`${'A'.repeat(100)}\r\nOK\r\n`]);
    expect(out).toEqual({ lines: ['OK'], data: '', refused: ['too-long'] });
  });
});

describe('+CEREG, +CESQ and the PSM rule', () => {
  test('URC and read answer, with the PSM timers of a level-5 line', () => {
    expect(slm.parseCereg('+CEREG: 5,1,"002F","0012BEEF",7,,,"00100001","00000110"')).toEqual({ stat: 1, activeTimeS: 60, periodicTauS: 3600 });
    expect(slm.parseCereg('+CEREG: 1,"002F","0012BEEF",7,,,"11100000","11100000"')).toEqual({ stat: 1 });
    expect(slm.parseCereg('+CEREG: 4')).toEqual({ stat: 4 });
    expect(slm.parseCereg('+CEREG: x')).toBeUndefined();
  });

  test('RSRP from +CESQ (index - 140 dBm; 255 unknown)', () => {
    expect(slm.parseCesq(['+CESQ: 99,99,255,255,31,62'])).toBe(-78);
    expect(slm.parseCesq(['+CESQ: 99,99,255,255,255,255'])).toBeUndefined();
  });

  test('PSM off: the configured keepalive', () => {
    expect(slm.psmPlan(240, { stat: 1 })).toEqual({ mode: 'stay-connected', keepAliveSeconds: 240 });
  });

  test('PSM with a TAU the hub keepalive can outlast: keepalive longer than the TAU period', () => {
    expect(slm.psmPlan(240, { stat: 1, activeTimeS: 60, periodicTauS: 1200 })).toEqual({ mode: 'stay-connected', keepAliveSeconds: 1230 });
  });

  test('PSM with a TAU beyond the hub limit (1767 s): close before sleeping, reconnect after waking', () => {
    expect(slm.psmPlan(240, { stat: 1, activeTimeS: 60, periodicTauS: 3600 })).toEqual({ mode: 'reconnect-after-wake', sleepSeconds: 3600 });
  });
});
