// The head of an HTTP/1.1 response (status line and header fields), read incrementally from a byte stream into a
// fixed budget: a head longer than `maxBytes` is refused before more of it is kept, so a hostile server cannot make
// the device buffer without bound. Header names are lowercased; repeated fields keep the last value.

import { err, ok, type Result } from '../result';

export interface HttpHead {
  status: number;
  headers: Map<string, string>;
}

export type HeadStep = Result<{ head: HttpHead; rest: Uint8Array } | undefined, string>;

export class HttpHeadReader {
  private readonly buffer: Uint8Array;
  private used = 0;

  constructor(maxBytes: number) {
    this.buffer = new Uint8Array(maxBytes);
  }

  /** Feeds bytes; ok(undefined) while the head is incomplete, then the head and the bytes after it. */
  push(chunk: Uint8Array): HeadStep {
    // Look for CRLF CRLF across the end of what is buffered and the new chunk.
    const start = Math.max(0, this.used - 3);
    const room = this.buffer.length - this.used;
    const take = Math.min(room, chunk.length);
    this.buffer.set(chunk.subarray(0, take), this.used);
    const end = this.used + take;
    for (let i = start; i + 3 < end; i++) {
      if (this.buffer[i] === 13 && this.buffer[i + 1] === 10 && this.buffer[i + 2] === 13 && this.buffer[i + 3] === 10) {
        const head = parseHead(this.buffer.subarray(0, i));
        if (!head.ok) return head;
        const consumed = i + 4 - this.used;
        this.used = 0;
        return ok({ head: head.value, rest: chunk.subarray(consumed) });
      }
    }
    if (take < chunk.length) return err(`response head is over ${this.buffer.length} bytes`);
    this.used = end;
    return ok(undefined);
  }
}

function parseHead(bytes: Uint8Array): Result<HttpHead, string> {
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c > 126 || (c < 32 && c !== 13 && c !== 10 && c !== 9)) return err('response head has a byte HTTP does not allow');
    text += String.fromCharCode(c);
  }
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] ([1-5][0-9][0-9])(?: .*)?$/.exec(lines[0]!);
  if (status === null) return err('response has no HTTP/1.x status line');
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return err('response has a header line without a name');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return ok({ status: Number(status[1]), headers });
}
