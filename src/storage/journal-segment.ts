// One segment of the telemetry journal as it sits in the store: a CRC-framed record (record.ts, kind 'J') whose
// body is a header, then the messages in append order. docs/storage.md draws the layout.
//
// Body (big-endian): journal id u32 | segment number u32 | writes u32 | first seq u32 | acked-below u32 |
//   dropped u32 | mark count u8 | marks u32 x count | message count u32 |
//   per message: qos u8 | unix seconds u32 (0 = clock unset) | topic property bag (u32 length + UTF-8) |
//   payload (u32 length + bytes)
// The ack state (acked-below, marks, dropped) is the journal's as it was when this segment was written, so the
// newest readable segment says which older messages are already acknowledged.

import { BodyReader } from './body-codec';
import { decodeRecord, encodeRecordWith, recordFault, RecordKind, RECORD_OVERHEAD, writeU32, type RecordFault } from './record';
import { utf8Length, utf8Write } from '../encoding/utf8';
import { ok, type Result } from '../result';

export const SEGMENT_VERSION = 1;
const EXPECT = { kind: RecordKind.journalSegment, versions: [SEGMENT_VERSION] };

/** At most this many acknowledgements above the low-water mark are kept (out-of-order PUBACKs in the window). */
export const MAX_MARKS = 16;
/** Frame plus the fixed header, with room for MAX_MARKS marks: what a segment holds besides its messages. */
export const SEGMENT_OVERHEAD = RECORD_OVERHEAD + 6 * 4 + 1 + MAX_MARKS * 4 + 4;

export interface JournalEntry {
  seq: number;
  qos: 0 | 1;
  /** Unix seconds at append, 0 when the clock was not set. */
  time: number;
  /** The telemetry topic after `.../messages/events/`: system properties ($.mid among them) and application ones. */
  bag: string;
  payload: Uint8Array;
}

export interface SegmentHeader {
  journalId: number;
  segNo: number;
  /** How many times this slot has been written, this write included: the wear figure. */
  writes: number;
  firstSeq: number;
  ackedBelow: number;
  dropped: number;
  marks: number[];
}

export interface Segment extends SegmentHeader {
  entries: JournalEntry[];
}

/** Bytes one message takes inside a segment. */
export function entrySize(bag: string, payloadLength: number): number {
  return 1 + 4 + 4 + utf8Length(bag) + 4 + payloadLength;
}

/** The segment as one record, built in place in a buffer of its final size (no growing, no copy). */
export function encodeSegment(segment: Segment): Uint8Array {
  const bags = segment.entries.map((e) => utf8Length(e.bag));
  let length = 6 * 4 + 1 + segment.marks.length * 4 + 4;
  segment.entries.forEach((e, i) => (length += 13 + bags[i]! + e.payload.length));
  return encodeRecordWith(RecordKind.journalSegment, SEGMENT_VERSION, length, (out, start) => {
    let at = start;
    const u32 = (value: number): void => {
      writeU32(out, at, value);
      at += 4;
    };
    u32(segment.journalId);
    u32(segment.segNo);
    u32(segment.writes);
    u32(segment.firstSeq);
    u32(segment.ackedBelow);
    u32(segment.dropped);
    out[at++] = segment.marks.length;
    for (const mark of segment.marks) u32(mark);
    u32(segment.entries.length);
    segment.entries.forEach((e, i) => {
      out[at++] = e.qos;
      u32(e.time);
      u32(bags[i]!);
      at = utf8Write(e.bag, out, at);
      u32(e.payload.length);
      out.set(e.payload, at);
      at += e.payload.length;
    });
  });
}

/** The segment, or why it must be skipped (damaged frame, or a body that does not add up). */
export function decodeSegment(bytes: Uint8Array | undefined): Result<Segment, RecordFault> {
  const record = decodeRecord(bytes, EXPECT);
  if (!record.ok) return record;
  const r = new BodyReader(record.value.body);
  const journalId = r.u32();
  const segNo = r.u32();
  const writes = r.u32();
  const firstSeq = r.u32();
  const ackedBelow = r.u32();
  const dropped = r.u32();
  const markCount = r.u8() ?? 0;
  const marks: number[] = [];
  for (let i = 0; i < markCount && !r.failed; i++) marks.push(r.u32() ?? 0);
  const count = r.u32() ?? 0;
  const entries: JournalEntry[] = [];
  // Each message takes at least 13 bytes: a count the body cannot hold is refused before any allocation.
  if (count * 13 > r.remaining) return recordFault('bad-body', `segment claims ${count} messages in ${r.remaining} bytes`);
  for (let i = 0; i < count && !r.failed; i++) {
    const qos = r.u8();
    const time = r.u32() ?? 0;
    const bag = r.text();
    const payload = r.blob();
    if (bag === undefined || payload === undefined || (qos !== 0 && qos !== 1)) break;
    entries.push({ seq: (firstSeq ?? 0) + i, qos, time, bag, payload });
  }
  if (r.failed || !r.done || entries.length !== count || segNo === undefined || dropped === undefined) {
    return recordFault('bad-body', 'segment messages do not match their count or lengths');
  }
  return ok({ journalId: journalId!, segNo, writes: writes!, firstSeq: firstSeq!, ackedBelow: ackedBelow!, dropped, marks, entries });
}
