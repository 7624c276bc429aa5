// Cloud-to-device messages are only logged by this firmware: one line with the body (text when it is UTF-8,
// a byte count otherwise, cut short so a 64 KB message cannot flood the console) and the application properties.

import { utf8Decode } from '../encoding/utf8';
import type { C2dMessage } from '../hub/hub-types';

export const C2D_LOG_BODY_CHARS = 200;

export function describeC2d(message: Pick<C2dMessage, 'payload' | 'properties' | 'messageId'>): string {
  const text = utf8Decode(message.payload);
  let body: string;
  if (text === undefined) body = `${message.payload.length} bytes of binary data`;
  else if (text.length > C2D_LOG_BODY_CHARS) body = `"${printable(text.slice(0, C2D_LOG_BODY_CHARS))}..." (${message.payload.length} bytes)`;
  else body = `"${printable(text)}"`;
  const properties = message.properties.map((p) => (p.value === null ? p.name : `${p.name}=${p.value}`)).join(', ');
  const id = message.messageId === undefined ? '' : ` id ${message.messageId}`;
  return `C2D message received${id}: ${body}${properties === '' ? '' : ` (properties: ${properties})`}`;
}

/** Control characters would break the one-line log format. */
function printable(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c < 0x20 || c === 0x7f ? ' ' : text[i];
  }
  return out;
}
