// Property bags as IoT Hub writes them after a topic: `name=value&name&name=`.
// A name without `=` carries a null value and `name=` an empty one; the two are distinct to the hub.
// Names and values are URL-encoded on the way out; on the way in, decoding tolerates raw characters (the hub
// leaves `/` unescaped in some values). A bag is a list, not a map, so order and repeated names survive.

import { percentDecode, percentEncode } from '../encoding/percent';
import { isWellFormedUtf16 } from '../encoding/utf8';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export interface Property {
  name: string;
  value: string | null;
}

/** Properties as a list, or as a record for the common case of unique names. */
export type PropertyInput = readonly Property[] | Readonly<Record<string, string | null>>;

export function toPropertyList(input: PropertyInput): Property[] {
  if (Array.isArray(input)) return (input as readonly Property[]).slice();
  const record = input as Readonly<Record<string, string | null>>;
  return Object.keys(record).map((name) => ({ name, value: record[name] ?? null }));
}

export function buildPropertyBag(properties: readonly Property[]): Result<string, AzureError> {
  const parts: string[] = [];
  for (let i = 0; i < properties.length; i++) {
    const { name, value } = properties[i]!;
    if (name.length === 0) return fail('invalid-name', `property ${i + 1}`, 'has an empty name');
    if (!isWellFormedUtf16(name)) return fail('invalid-name', `property ${i + 1}`, 'name is not well-formed Unicode');
    if (value !== null && !isWellFormedUtf16(value)) {
      return fail('invalid-value', `property ${i + 1}`, 'value is not well-formed Unicode');
    }
    parts.push(value === null ? percentEncode(name) : `${percentEncode(name)}=${percentEncode(value)}`);
  }
  return ok(parts.join('&'));
}

export function parsePropertyBag(text: string): Result<Property[], AzureError> {
  const properties: Property[] = [];
  if (text.length === 0) return ok(properties);
  const segments = text.split('&');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.length === 0) continue;
    const eq = segment.indexOf('=');
    const name = percentDecode(eq < 0 ? segment : segment.slice(0, eq));
    if (!name.ok) return fail(name.error.code, `property ${i + 1}`, `name: ${name.error.message}`);
    if (name.value.length === 0) return fail('malformed', `property ${i + 1}`, 'has an empty name');
    let value: string | null = null;
    if (eq >= 0) {
      const decoded = percentDecode(segment.slice(eq + 1));
      if (!decoded.ok) return fail(decoded.error.code, name.value, `value: ${decoded.error.message}`);
      value = decoded.value;
    }
    properties.push({ name: name.value, value });
  }
  return ok(properties);
}

/** The value of the first property called `name`: undefined when absent, null when present without a value. */
export function findProperty(properties: readonly Property[], name: string): string | null | undefined {
  for (const p of properties) if (p.name === name) return p.value;
  return undefined;
}
