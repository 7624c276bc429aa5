// Checks for the identifiers that end up inside topics, usernames and SAS resources. Catching a bad id here
// gives a named error instead of a CONNACK refusal, and guarantees no id can smuggle MQTT wildcards (`#`, `+`)
// or extra topic levels (`/`) into a subscription filter.
// Rules applied (Azure identity registry and DPS documentation):
// - device and module ids: 1-128 ASCII characters from A-Z a-z 0-9 and - . % _ * ? ! ( ) , : = @ $ '
// - DPS registration ids: 1-128 characters from A-Z a-z 0-9 and - . _ :
// - ID scopes: 1-64 ASCII letters and digits
// - host names: 1-253 characters from A-Z a-z 0-9 . - (DNS names and IPv4 literals; no port)

import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

const ID_PUNCTUATION = "-.%_*?!(),:=@$'";
const REGISTRATION_PUNCTUATION = '-._:';

function isAsciiAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function check(value: string, field: string, max: number, punctuation: string, what: string): Result<string, AzureError> {
  if (value.length === 0) return fail('empty-field', field, 'must not be empty');
  if (value.length > max) return fail('invalid-value', field, `is ${value.length} characters long; the limit is ${max}`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isAsciiAlnum(c) && punctuation.indexOf(value[i]!) < 0) {
      return fail('invalid-value', field, `character at offset ${i} is not allowed (${what})`);
    }
  }
  return ok(value);
}

export function checkDeviceId(id: string, field = 'deviceId'): Result<string, AzureError> {
  return check(id, field, 128, ID_PUNCTUATION, `allowed: letters, digits and ${ID_PUNCTUATION}`);
}

export function checkModuleId(id: string, field = 'moduleId'): Result<string, AzureError> {
  return check(id, field, 128, ID_PUNCTUATION, `allowed: letters, digits and ${ID_PUNCTUATION}`);
}

export function checkRegistrationId(id: string, field = 'registrationId'): Result<string, AzureError> {
  return check(id, field, 128, REGISTRATION_PUNCTUATION, `allowed: letters, digits and ${REGISTRATION_PUNCTUATION}`);
}

export function checkIdScope(scope: string, field = 'idScope'): Result<string, AzureError> {
  return check(scope, field, 64, '', 'allowed: letters and digits');
}

/**
 * A host name, optionally followed by `:port`. Azure's hosts never carry a port, but a local emulator or a test
 * hub does (`localhost:8883`), and the Node SDK signs for the whole text, so the port is part of the name here.
 */
export function checkHostName(text: string, field = 'hostName'): Result<string, AzureError> {
  const { host, port } = splitHostPort(text);
  if (port !== undefined && !(port >= 1 && port <= 65535)) return fail('invalid-value', field, 'has a port outside 1..65535');
  const r = check(host, field, 253, '.-', 'allowed: letters, digits, . and -, then an optional :port');
  if (!r.ok) return r;
  if (host.startsWith('.') || host.endsWith('.') || host.indexOf('..') >= 0) {
    return fail('invalid-value', field, 'has an empty label');
  }
  return ok(text);
}

/** Splits `name:port`; a port that is not all digits is left in the name (the name check then refuses it). */
export function splitHostPort(text: string): { host: string; port?: number } {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text };
  const digits = text.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(digits)) return { host: text };
  return { host: text.slice(0, colon), port: Number(digits) };
}

/** A hub host name and a device id, checked together (a connection string, a DPS assignment). */
export function checkHubDevice(hostName: string, hostField: string, deviceId: string, deviceField: string): Result<true, AzureError> {
  const host = checkHostName(hostName, hostField);
  if (!host.ok) return host;
  const device = checkDeviceId(deviceId, deviceField);
  return device.ok ? ok(true) : device;
}
