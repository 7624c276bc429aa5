// Shared access signature verification, written independently of the device code in src/ so the emulator
// cannot share the device's bugs. A token is `SharedAccessSignature sr=..&sig=..&se=..[&skn=..]` in any order.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SasFailureReason = 'malformed' | 'expired' | 'wrong-resource' | 'bad-signature' | 'wrong-key-name';

export interface ParsedSasToken {
  /** `sr` exactly as it appears in the token (still URL-encoded): this is what was signed. */
  rawResource: string;
  /** `sr` URL-decoded. */
  resource: string;
  /** The signature bytes (base64-decoded after URL-decoding). */
  signature: Uint8Array;
  /** Expiry, Unix seconds. */
  expiry: number;
  keyName?: string;
}

export type SasParseResult = { ok: true; token: ParsedSasToken } | { ok: false; reason: 'malformed'; message: string };

export type SasVerifyResult =
  | { ok: true; token: ParsedSasToken; keyIndex: number }
  | { ok: false; reason: SasFailureReason; message: string };

export interface SasVerifyOptions {
  /** Candidate keys (base64), e.g. primary then secondary. The first that verifies wins. */
  keys: string[];
  /** Expected resource, decoded, e.g. `localhost:8883/devices/d1`. Compared case-insensitively, as the hub does. */
  resource: string;
  /** When set, the token must carry exactly this `skn` (DPS uses `registration`); when unset, any `skn` is tolerated. */
  keyName?: string;
  /** Current time in ms; defaults to Date.now(). */
  nowMs?: number;
}

const PREFIX = 'SharedAccessSignature ';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function malformed(message: string): { ok: false; reason: 'malformed'; message: string } {
  return { ok: false, reason: 'malformed', message };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

export function parseSasToken(token: string): SasParseResult {
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) {
    return malformed('token must start with "SharedAccessSignature "');
  }
  const fields = new Map<string, string>();
  for (const part of token.slice(PREFIX.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return malformed('every token field must be name=value');
    const name = part.slice(0, eq);
    if (fields.has(name)) return malformed(`field ${name} appears twice`);
    fields.set(name, part.slice(eq + 1));
  }
  for (const name of fields.keys()) {
    if (!['sr', 'sig', 'se', 'skn'].includes(name)) return malformed(`unknown field ${name}`);
  }
  const rawResource = fields.get('sr');
  const rawSig = fields.get('sig');
  const rawExpiry = fields.get('se');
  if (!rawResource) return malformed('sr is missing');
  if (!rawSig) return malformed('sig is missing');
  if (!rawExpiry) return malformed('se is missing');
  if (!/^\d{1,12}$/.test(rawExpiry)) return malformed('se must be Unix seconds');
  const resource = safeDecode(rawResource);
  if (resource === undefined) return malformed('sr is not valid URL encoding');
  const sigBase64 = safeDecode(rawSig);
  if (sigBase64 === undefined || !BASE64.test(sigBase64) || sigBase64.length % 4 !== 0) {
    return malformed('sig is not URL-encoded base64');
  }
  const signature = new Uint8Array(Buffer.from(sigBase64, 'base64'));
  if (signature.length !== 32) return malformed('sig is not an HMAC-SHA256');
  const rawKeyName = fields.get('skn');
  const keyName = rawKeyName === undefined ? undefined : safeDecode(rawKeyName);
  if (rawKeyName !== undefined && keyName === undefined) return malformed('skn is not valid URL encoding');
  const parsed: ParsedSasToken = { rawResource, resource, signature, expiry: Number(rawExpiry) };
  if (keyName !== undefined) parsed.keyName = keyName;
  return { ok: true, token: parsed };
}

/** HMAC-SHA256 of `sr + "\n" + se` under the base64-decoded key. */
export function computeSasSignature(key: string, rawResource: string, expiry: number): Uint8Array {
  const mac = createHmac('sha256', Buffer.from(key, 'base64'));
  mac.update(`${rawResource}\n${expiry}`, 'utf8');
  return new Uint8Array(mac.digest());
}

export function verifySasToken(token: string, options: SasVerifyOptions): SasVerifyResult {
  const parsed = parseSasToken(token);
  if (!parsed.ok) return parsed;
  const t = parsed.token;
  if (t.resource.toLowerCase() !== options.resource.toLowerCase()) {
    return { ok: false, reason: 'wrong-resource', message: `token is for ${t.resource}, expected ${options.resource}` };
  }
  if (options.keyName !== undefined && t.keyName !== options.keyName) {
    return { ok: false, reason: 'wrong-key-name', message: `token skn must be ${options.keyName}` };
  }
  const nowSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (t.expiry <= nowSeconds) {
    return { ok: false, reason: 'expired', message: `token expired at ${new Date(t.expiry * 1000).toISOString()}` };
  }
  for (let i = 0; i < options.keys.length; i++) {
    const expected = computeSasSignature(options.keys[i], t.rawResource, t.expiry);
    if (timingSafeEqual(expected, t.signature)) return { ok: true, token: t, keyIndex: i };
  }
  return { ok: false, reason: 'bad-signature', message: 'signature does not match any key of the identity' };
}

/** Builds a token; for the emulator's own tools and tests (independent of the device's builder). */
export function createSasToken(options: { key: string; resource: string; expiry: number; keyName?: string }): string {
  const rawResource = encodeURIComponent(options.resource);
  const sig = Buffer.from(computeSasSignature(options.key, rawResource, options.expiry)).toString('base64');
  let token = `SharedAccessSignature sr=${rawResource}&sig=${encodeURIComponent(sig)}&se=${options.expiry}`;
  if (options.keyName !== undefined) token += `&skn=${encodeURIComponent(options.keyName)}`;
  return token;
}
