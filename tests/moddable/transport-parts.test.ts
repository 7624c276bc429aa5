// The Moddable transport's pure parts: the write queue that respects SecureSocket's room, the failure table,
// and the subjectAltName check used to tell tls-hostname from tls-verify.
import { MAX_RECORD_BYTES, MAX_RECORD_PARTS, WriteQueue } from '../../hosts/moddable/write-queue';
import { classifyFailure, describeAlert, type FailureFacts } from '../../hosts/moddable/tls-failure';
import { altNamesCover } from '../../hosts/moddable/server-name';

function bytes(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i + seed) & 0xff);
}

/** The bytes of one record, from the parts drain hands over. */
const joined = (parts: Uint8Array[]): number[] => parts.flatMap((part) => [...part]);
const lengthOf = (parts: Uint8Array[]): number => parts.reduce((n, part) => n + part.length, 0);

describe('WriteQueue', () => {
  test('sends no more than the socket has room for, in order, coalescing small writes', () => {
    const queue = new WriteQueue();
    queue.push(bytes(3, 0));
    queue.push(bytes(4, 3));
    queue.push(bytes(5, 7));
    const sent: number[][] = [];
    let room = 5;
    const n = queue.drain(
      () => room,
      (parts) => {
        sent.push(joined(parts));
        room -= lengthOf(parts);
      },
    );
    expect(n).toBe(5);
    expect(sent).toEqual([[0, 1, 2, 3, 4]]);
    expect(queue.size).toBe(7);
    room = 100;
    queue.drain(() => room, (parts) => sent.push(joined(parts)));
    expect(sent[1]).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(queue.size).toBe(0);
  });

  test('never builds a record above the TLS maximum and stops at the turn budget', () => {
    const queue = new WriteQueue();
    queue.push(bytes(40_000));
    const sizes: number[] = [];
    queue.drain(() => 1_000_000, (parts) => sizes.push(lengthOf(parts)), 20_000);
    expect(sizes).toEqual([MAX_RECORD_BYTES, 20_000 - MAX_RECORD_BYTES]);
    expect(queue.size).toBe(20_000);
  });

  test('keeps the caller\'s bytes without a copy: a whole chunk goes out as itself, a partly sent one as views', () => {
    const queue = new WriteQueue();
    const whole = bytes(4);
    const split = bytes(10, 4);
    queue.push(whole);
    queue.push(split);
    const records: Uint8Array[][] = [];
    queue.drain(() => 7, (parts) => records.push(parts), 7);
    queue.drain(() => 100, (parts) => records.push(parts));
    expect(records.map((parts) => parts.map((part) => [...part]))).toEqual([[[0, 1, 2, 3], [4, 5, 6]], [[7, 8, 9, 10, 11, 12, 13]]]);
    expect(records[0][0]).toBe(whole);
    expect(records[0][1].buffer).toBe(split.buffer);
    expect(records[0][1].byteOffset).toBe(0);
    expect(records[1][0].buffer).toBe(split.buffer);
    expect(records[1][0].byteOffset).toBe(3);
  });

  test('a record joins at most MAX_RECORD_PARTS writes (each part is an argument on the XS stack)', () => {
    const queue = new WriteQueue();
    for (let i = 0; i < MAX_RECORD_PARTS + 2; i++) queue.push(Uint8Array.of(i));
    const counts: number[] = [];
    queue.drain(() => 100, (parts) => counts.push(parts.length));
    expect(counts).toEqual([MAX_RECORD_PARTS, 2]);
  });

  test('no room means nothing sent; empty pushes are ignored', () => {
    const queue = new WriteQueue();
    queue.push(new Uint8Array(0));
    expect(queue.size).toBe(0);
    queue.push(bytes(2));
    expect(queue.drain(() => 0, () => undefined)).toBe(0);
    expect(queue.size).toBe(2);
  });
});

describe('classifyFailure', () => {
  const base: FailureFacts = { stage: 'handshaking', serverSpoke: true, socketMessage: -2, target: 'hub:8883', serverName: 'hub.example' };

  test.each<[string, Partial<FailureFacts>, string | undefined]>([
    ['name mismatch from the certificate check', { certificate: 'name-mismatch' }, 'tls-hostname'],
    ['untrusted chain from the certificate check', { certificate: 'untrusted' }, 'tls-verify'],
    ['the stack threw "certificate: auth err"', { thrown: 'certificate: auth err' }, 'tls-verify'],
    ['a date validation error', { thrown: 'date validation failed' }, 'tls-verify'],
    ['an alert during the handshake', { alert: 48 }, 'tls-handshake'],
    ['an error before TCP was up', { stage: 'connecting' }, 'refused'],
    ['a write failing before the server said anything', { serverSpoke: false, thrown: 'write failed' }, 'refused'],
    ['a write failing after the server spoke', { thrown: 'write failed' }, 'tls-handshake'],
    ['the peer closing mid-handshake', { socketMessage: -1 }, 'tls-handshake'],
    ['anything else mid-handshake', { thrown: 'invalid buffer' }, 'tls-handshake'],
    ['an error once secured', { stage: 'secured' }, 'reset'],
    ['an orderly peer close once secured', { stage: 'secured', socketMessage: -1 }, undefined],
  ])('%s', (_, facts, code) => {
    expect(classifyFailure({ ...base, ...facts })?.code).toBe(code);
  });

  test('messages name the target and the server name, and alerts by name', () => {
    expect(classifyFailure({ ...base, certificate: 'name-mismatch' })?.message).toBe('server certificate of hub:8883 does not name "hub.example"');
    expect(classifyFailure({ ...base, alert: 48 })?.message).toBe('TLS handshake with hub:8883 failed: TLS alert 48 (unknown_ca)');
    expect(describeAlert(99)).toBe('TLS alert 99 (unknown)');
  });
});

describe('altNamesCover', () => {
  const ip = (...octets: number[]) => ({ tag: 7, value: Uint8Array.from(octets).buffer });

  test('exact DNS names, case-insensitive', () => {
    expect(altNamesCover([{ tag: 2, value: 'Hub.Azure-Devices.net' }], 'hub.azure-devices.net')).toBe(true);
    expect(altNamesCover([{ tag: 2, value: 'other.net' }], 'hub.azure-devices.net')).toBe(false);
  });

  test('a wildcard covers exactly one left-most label', () => {
    const names = [{ tag: 2, value: '*.azure-devices.net' }];
    expect(altNamesCover(names, 'hub.azure-devices.net')).toBe(true);
    expect(altNamesCover(names, 'a.hub.azure-devices.net')).toBe(false);
    expect(altNamesCover(names, 'azure-devices.net')).toBe(false);
    expect(altNamesCover([{ tag: 2, value: 'h*.azure-devices.net' }], 'hub.azure-devices.net')).toBe(false);
  });

  test('IPv4 addresses; no subjectAltName covers nothing', () => {
    expect(altNamesCover([ip(127, 0, 0, 1)], '127.0.0.1')).toBe(true);
    expect(altNamesCover([ip(127, 0, 0, 2)], '127.0.0.1')).toBe(false);
    expect(altNamesCover(undefined, 'localhost')).toBe(false);
  });
});
