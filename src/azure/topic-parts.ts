// Shared parsing for response topics of the form `{prefix}{head}/?{property bag}`.

import { parsePropertyBag, type Property } from './property-bag';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export interface TopicParts {
  /** The text between the prefix and `/?`, raw. */
  head: string;
  query: Property[];
}

/** `topic-mismatch` when `topic` does not start with `prefix`; `invalid-topic` when the rest is malformed. */
export function splitTopic(topic: string, prefix: string, field: string): Result<TopicParts, AzureError> {
  if (!topic.startsWith(prefix)) return fail('topic-mismatch', field, `does not start with '${prefix}'`);
  const rest = topic.slice(prefix.length);
  const q = rest.indexOf('/?');
  if (q < 0) return fail('invalid-topic', field, "has no '/?' before its parameters");
  const query = parsePropertyBag(rest.slice(q + 2));
  if (!query.ok) return fail('invalid-topic', field, query.error.message);
  return ok({ head: rest.slice(0, q), query: query.value });
}

export function parseStatus(text: string, field: string): Result<number, AzureError> {
  if (!/^[1-5][0-9]{2}$/.test(text)) return fail('invalid-topic', field, 'status is not a 3-digit HTTP status');
  return ok(Number(text));
}

/** A non-negative decimal integer within JavaScript's exact range. */
export function parseCount(text: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The one value of a required parameter: missing, null, empty or repeated is an error. */
export function requiredParam(query: readonly Property[], name: string, field: string): Result<string, AzureError> {
  let found: string | null | undefined;
  for (const p of query) {
    if (p.name !== name) continue;
    if (found !== undefined) return fail('invalid-topic', field, `repeats '${name}'`);
    found = p.value;
  }
  if (found === undefined) return fail('invalid-topic', field, `has no '${name}'`);
  if (found === null || found.length === 0) return fail('invalid-topic', field, `'${name}' has no value`);
  return ok(found);
}

/** Like requiredParam, but absence gives undefined. */
export function optionalParam(query: readonly Property[], name: string, field: string): Result<string | undefined, AzureError> {
  let count = 0;
  for (const p of query) if (p.name === name) count++;
  if (count === 0) return ok(undefined);
  return requiredParam(query, name, field);
}

/**
 * A `{prefix}{status}/?$rid=...` response topic (DPS, twin) with its one optional count parameter `countName`
 * (DPS `retry-after`, twin `$version`), returned under `countKey`.
 */
export function parseStatusTopic<K extends string>(
  topic: string,
  prefix: string,
  field: string,
  countName: string,
  countKey: K,
  countProblem: string,
): Result<{ status: number; rid: string } & { [P in K]?: number }, AzureError> {
  const parts = splitTopic(topic, prefix, field);
  if (!parts.ok) return parts;
  const status = parseStatus(parts.value.head, field);
  if (!status.ok) return status;
  const rid = requiredParam(parts.value.query, '$rid', field);
  if (!rid.ok) return rid;
  const countText = optionalParam(parts.value.query, countName, field);
  if (!countText.ok) return countText;
  const parsed: Record<string, number | string> = { status: status.value, rid: rid.value };
  if (countText.value !== undefined) {
    const count = parseCount(countText.value);
    if (count === undefined) return fail('invalid-topic', field, `${countName} ${countProblem}`);
    parsed[countKey] = count;
  }
  // The fields set above are exactly that type: status, rid and at most countKey.
  return ok(parsed as { status: number; rid: string } & { [P in K]?: number });
}
