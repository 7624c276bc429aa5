// The few DER rules a certificate reader needs: tag, definite length, content bounds. Every read is checked
// against the end of its enclosing element, so a lying length yields undefined, never an out-of-range read.

export interface DerElement {
  /** The identifier byte (class, constructed bit and low tag number). */
  tag: number;
  /** Content starts here... */
  start: number;
  /** ...and ends here (exclusive); the next sibling starts at `end`. */
  end: number;
}

export const DerTag = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
  contextConstructed0: 0xa0,
} as const;

/** The element at `at`, which must end by `limit`; undefined when malformed, indefinite or running past `limit`. */
export function readDer(bytes: Uint8Array, at: number, limit = bytes.length): DerElement | undefined {
  if (at + 2 > limit) return undefined;
  const tag = bytes[at]!;
  // High tag numbers (low five bits all set) never occur in the structures we read.
  if ((tag & 0x1f) === 0x1f) return undefined;
  const first = bytes[at + 1]!;
  let start = at + 2;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    // 0x80 is BER's indefinite length, not allowed in DER; more than 4 length bytes cannot fit in memory anyway.
    if (count === 0 || count > 4 || start + count > limit) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i]!;
    start += count;
  }
  const end = start + length;
  if (end > limit) return undefined;
  return { tag, start, end };
}

/** The children of a constructed element, in order; undefined if any child is malformed. */
export function derChildren(bytes: Uint8Array, parent: DerElement): DerElement[] | undefined {
  const children: DerElement[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const child = readDer(bytes, at, parent.end);
    if (!child) return undefined;
    children.push(child);
    at = child.end;
  }
  return children;
}

/** True when `bytes` is exactly one well-framed DER SEQUENCE (certificates and private keys all are). */
export function isSingleDerSequence(bytes: Uint8Array): boolean {
  const outer = readDer(bytes, 0);
  return outer !== undefined && outer.tag === DerTag.sequence && outer.end === bytes.length;
}
