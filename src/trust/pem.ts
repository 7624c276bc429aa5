// PEM blocks (RFC 7468) to DER. Provisioning tools receive certificates and keys as PEM files that may hold a
// whole chain; the device and the tags only ever keep DER. Messages give block numbers, never contents.

import { base64Decode } from '../encoding/base64';
import { err, ok, type Result } from '../result';

export interface PemBlock {
  /** The word(s) after BEGIN, e.g. `CERTIFICATE`, `PRIVATE KEY`, `EC PRIVATE KEY`. */
  label: string;
  der: Uint8Array;
  /** True when the block carries RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED` (a legacy encrypted key). */
  hasHeaders: boolean;
}

/** True when `bytes` look like PEM text rather than DER (DER starts with a SEQUENCE tag, PEM with text). */
export function looksLikePem(bytes: Uint8Array): boolean {
  const begin = '-----BEGIN ';
  const limit = Math.min(bytes.length, 4096);
  outer: for (let i = 0; i + begin.length <= limit; i++) {
    for (let j = 0; j < begin.length; j++) if (bytes[i + j] !== begin.charCodeAt(j)) continue outer;
    return true;
  }
  return false;
}

/** Every PEM block in `text`, in order; text between blocks (comments, `openssl x509 -text` output) is ignored. */
export function parsePem(text: string): Result<PemBlock[], string> {
  const blocks: PemBlock[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const n = blocks.length + 1;
    const label = match[1]!;
    if (match[3] !== label) return err(`PEM block ${n} begins as ${label} but ends as ${match[3]}`);
    let body = match[2]!;
    let hasHeaders = false;
    const headerEnd = /\r?\n\r?\n/.exec(body);
    if (body.indexOf(':') >= 0 && headerEnd) {
      hasHeaders = true;
      body = body.slice(headerEnd.index + headerEnd[0].length);
    }
    const decoded = base64Decode(body.replace(/\s+/g, ''));
    if (!decoded.ok) return err(`PEM block ${n} (${label}) is not valid base64 (${decoded.error.message})`);
    if (decoded.value.length === 0) return err(`PEM block ${n} (${label}) is empty`);
    blocks.push({ label, der: decoded.value, hasHeaders });
  }
  if (blocks.length === 0) return err('no PEM block found');
  return ok(blocks);
}
