// The hub's side of SAS tokens: reading one into its fields and checking its signature. The device only builds
// tokens (sas-token.ts), so this stays out of the device image; the soak fake hub, the fuzzers and tests use it.

import { percentDecode } from '../encoding/percent';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';
import { hmacBase64, SAS_TOKEN_PREFIX as PREFIX, type HmacSha256, type SymmetricKey } from './sas-token';

export interface ParsedSasToken {
  /** Texts exactly as they appear in the token (still URL-encoded). */
  sr: string;
  sig: string;
  se: number;
  skn?: string;
}

export function parseSasToken(text: string): Result<ParsedSasToken, AzureError> {
  if (!text.startsWith(PREFIX)) return fail('malformed', 'token', `must start with '${PREFIX}'`);
  const fields: { sr?: string; sig?: string; se?: string; skn?: string } = {};
  const parts = text.slice(PREFIX.length).split('&');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    if (eq < 0) return fail('malformed', 'token', `field ${i + 1} has no '='`);
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (name !== 'sr' && name !== 'sig' && name !== 'se' && name !== 'skn') {
      return fail('unknown-field', 'token', `field ${i + 1} is not one of sr, sig, se, skn`);
    }
    if (fields[name] !== undefined) return fail('duplicate-field', name, 'appears more than once');
    if (value.length === 0) return fail('empty-field', name, 'has an empty value');
    fields[name] = value;
  }
  if (fields.sr === undefined) return fail('missing-field', 'sr', 'is required');
  if (fields.sig === undefined) return fail('missing-field', 'sig', 'is required');
  if (fields.se === undefined) return fail('missing-field', 'se', 'is required');
  if (!/^(?:0|[1-9][0-9]{0,14})$/.test(fields.se)) return fail('invalid-value', 'se', 'must be an integer number of seconds without leading zeros');
  const parsed: ParsedSasToken = { sr: fields.sr, sig: fields.sig, se: Number(fields.se) };
  if (fields.skn !== undefined) parsed.skn = fields.skn;
  return ok(parsed);
}

/** True when the token's signature is the one `key` gives over its own sr and se. */
export function sasSignatureMatches(token: ParsedSasToken, key: SymmetricKey, hmac: HmacSha256): Result<boolean, AzureError> {
  const expected = hmacBase64(key, `${token.sr}\n${token.se}`, hmac);
  if (!expected.ok) return expected;
  const given = percentDecode(token.sig);
  if (!given.ok) return fail('invalid-percent-encoding', 'sig', given.error.message);
  const a = expected.value;
  const b = given.value;
  // Compare every character so the time taken does not reveal how much of a forged signature was right.
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ (i < b.length ? b.charCodeAt(i) : 0);
  return ok(diff === 0);
}
