// Looks for secrets in everything a device lets out: log lines, error messages, event payloads. A secret is
// searched in the forms it could leak in: as given, percent-encoded (either hex case), URL-safe base64, the hex
// of its bytes, and any window of it long enough to be unmistakable (a leaked half key is still a leak).

import { base64Decode } from '../../src/encoding/base64';
import { percentEncode } from '../../src/encoding/percent';

export interface Secret {
  name: string;
  value: string;
}

export interface Leak {
  secret: string;
  form: string;
  /** Where it was found, cut around the hit. */
  excerpt: string;
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function windows(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const out: string[] = [];
  for (let i = 0; i + size <= text.length; i++) out.push(text.slice(i, i + size));
  return out;
}

/** Every form of `secret` worth searching for, each with a label. */
export function secretForms(secret: Secret, windowSize = 12): Array<{ form: string; text: string }> {
  const forms: Array<{ form: string; text: string }> = [];
  const add = (form: string, text: string): void => {
    if (text.length >= 6 && !forms.some((f) => f.text === text)) forms.push({ form, text });
  };
  const v = secret.value;
  add('as is', v);
  const encoded = percentEncode(v);
  add('percent-encoded', encoded);
  add('percent-encoded, lower-case hex', encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  const decoded = base64Decode(v);
  if (decoded.ok && decoded.value.length > 0) {
    add('base64url', v.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
    const h = hex(decoded.value);
    add('hex of the bytes', h);
    add('hex of the bytes, upper-case', h.toUpperCase());
    for (const w of windows(h, windowSize * 2)) add('hex window', w);
  }
  for (const w of windows(v, windowSize)) add('window', w);
  for (const w of windows(encoded, windowSize + 4)) add('percent-encoded window', w);
  return forms;
}

export function findLeaks(texts: readonly string[], secrets: readonly Secret[], windowSize = 12): Leak[] {
  const leaks: Leak[] = [];
  for (const secret of secrets) {
    const forms = secretForms(secret, windowSize);
    for (const text of texts) {
      for (const { form, text: needle } of forms) {
        const at = text.indexOf(needle);
        if (at < 0) continue;
        leaks.push({ secret: secret.name, form, excerpt: text.slice(Math.max(0, at - 40), at + needle.length + 40) });
        break;
      }
    }
  }
  return leaks;
}

/**
 * Text for any value a device hands out: errors with their name, message, own fields and causes (JSON.stringify
 * would drop an Error's message), bytes as their latin-1 text, everything else as JSON.
 */
export function textOf(value: unknown, depth = 0): string {
  if (depth > 8) return '';
  if (value instanceof Error) {
    const own: Record<string, unknown> = {};
    for (const key of Object.keys(value)) own[key] = (value as unknown as Record<string, unknown>)[key];
    const cause = (value as { cause?: unknown }).cause;
    return `${value.name}: ${value.message} ${textOf(own, depth + 1)}${cause === undefined ? '' : ` cause: ${textOf(cause, depth + 1)}`}`;
  }
  if (value instanceof Uint8Array) return String.fromCharCode(...value.subarray(0, 4096));
  if (typeof value === 'object' && value !== null) {
    const parts: string[] = [];
    for (const [key, inner] of Object.entries(value)) parts.push(`${key}=${textOf(inner, depth + 1)}`);
    return `{${parts.join(', ')}}`;
  }
  return String(value);
}
