// DPS MQTT names as pure functions: the CONNECT username, the two request topics a device may publish to,
// and the response topic. Everything returns a typed result instead of throwing, so a malformed packet
// from a device becomes a refusal with a reason, never a crash of the emulator.

export const DPS_RESPONSE_FILTER = '$dps/registrations/res/#';
const REGISTER_PREFIX = '$dps/registrations/PUT/iotdps-register/';
const POLL_PREFIX = '$dps/registrations/GET/iotdps-get-operationstatus/';

/** Azure: up to 128 of letters, digits, `- . _ :`; case-insensitive; ends with a letter, digit or dash. */
const REGISTRATION_ID = /^[A-Za-z0-9\-._:]{0,127}[A-Za-z0-9-]$/;

export function isValidRegistrationId(id: string): boolean {
  return REGISTRATION_ID.test(id);
}

export interface DpsUsername {
  idScope: string;
  registrationId: string;
  apiVersion: string;
  /** Parameters after `api-version`, e.g. `ClientVersion`, URL-decoded. */
  extra: Record<string, string>;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** `name=value&name=value` (either side URL-encoded); undefined when a part does not decode. */
export function parseQuery(query: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  if (query === '') return params;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    const value = decode(eq < 0 ? '' : part.slice(eq + 1));
    if (name === undefined || value === undefined) return undefined;
    params.set(name, value);
  }
  return params;
}

/** `{idScope}/registrations/{registrationId}/api-version={v}[&name=value...]`; no `?` before api-version on DPS. */
export function parseDpsUsername(username: string | undefined): Parsed<DpsUsername> {
  if (typeof username !== 'string' || username.length === 0) return { ok: false, message: 'username is missing' };
  const parts = username.split('/');
  if (parts.length !== 4 || parts[1] !== 'registrations') {
    return { ok: false, message: 'username must be {idScope}/registrations/{registrationId}/api-version=...' };
  }
  const [idScope, , registrationId, tail] = parts;
  if (idScope.length === 0) return { ok: false, message: 'username has an empty id scope' };
  if (registrationId.length === 0) return { ok: false, message: 'username has an empty registration id' };
  if (tail.startsWith('?')) return { ok: false, message: 'DPS usernames take no "?" before api-version (that is the hub form)' };
  const params = parseQuery(tail);
  if (!params) return { ok: false, message: 'username parameters are not valid URL encoding' };
  const apiVersion = params.get('api-version');
  if (!apiVersion) return { ok: false, message: 'username lacks api-version' };
  params.delete('api-version');
  return { ok: true, value: { idScope, registrationId, apiVersion, extra: Object.fromEntries(params) } };
}

export type DpsRequest =
  | { kind: 'register'; rid: string }
  | { kind: 'poll'; rid: string; operationId: string };

/**
 * Classifies a device PUBLISH topic. `undefined` means the topic is not one a device may publish to;
 * a request missing `$rid` (or a poll missing `operationId`) still parses, with an empty string, so the
 * server can answer it with a 400 on the response topic instead of dropping the device.
 */
export function parseDpsRequestTopic(topic: string): DpsRequest | undefined {
  let kind: 'register' | 'poll';
  let rest: string;
  if (topic.startsWith(REGISTER_PREFIX)) {
    kind = 'register';
    rest = topic.slice(REGISTER_PREFIX.length);
  } else if (topic.startsWith(POLL_PREFIX)) {
    kind = 'poll';
    rest = topic.slice(POLL_PREFIX.length);
  } else {
    return undefined;
  }
  if (rest !== '' && !rest.startsWith('?')) return undefined;
  const params = parseQuery(rest.slice(1)) ?? new Map<string, string>();
  const rid = params.get('$rid') ?? '';
  if (kind === 'register') return { kind, rid };
  return { kind, rid, operationId: params.get('operationId') ?? '' };
}

/** `$dps/registrations/res/{status}/?$rid={rid}[&retry-after={seconds}]`. */
export function dpsResponseTopic(status: number, rid: string, retryAfterSeconds?: number): string {
  let topic = `$dps/registrations/res/${status}/?$rid=${encodeURIComponent(rid)}`;
  if (retryAfterSeconds !== undefined) topic += `&retry-after=${retryAfterSeconds}`;
  return topic;
}
