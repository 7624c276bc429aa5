// The firmware's settings, from whatever the host holds (a manifest's `config`, a JSON file, command-line flags),
// checked once at boot so a mistake is a named error before anything touches the network. Unknown fields are
// ignored because a Moddable `config` object also carries the host's own settings (Wi-Fi, SNTP, file root).
// Empty strings count as absent: the manifest ships every field with an empty default. Error messages name the
// field and the rule broken, never the value, since values here are keys and connection strings.

import { parseConnectionString } from '../azure/connection-string';
import { checkHostName, checkIdScope, checkRegistrationId, splitHostPort } from '../azure/identifiers';
import { keyBytes } from '../azure/sas-token';
import type { LogLevel } from '../ports';
import { isTagNumber, MAX_TAG } from '../storage/security-tags';
import { parseDpsEndpoint } from '../dps/dps-endpoint';
import { checkTelemetryInterval } from './interval-rules';
import type { DeviceCredential } from '../identity';
import { err, ok, type Result } from '../result';
import type { TransportKind } from '../failure/failure-policy';

export const DEFAULT_MODEL_ID = 'dtmi:azureiotxs:firmware:Thermostat;1';
export const DEFAULT_DPS_ENDPOINT = 'global.azure-devices-provisioning.net';
export const DEFAULT_TELEMETRY_INTERVAL_MS = 10_000;
export const DEFAULT_SENSOR_SEED = 1;

/**
 * A credential given in the configuration (a key), or the security tag that holds it (an X.509 certificate and its
 * key, read at boot; the registration id then defaults to the certificate's CN).
 */
export type CredentialSource = DeviceCredential | { kind: 'security-tag'; tag: number };

export type IdentityConfig =
  | {
      kind: 'connection-string';
      connectionString: string;
      /** Only with `x509=true`: the tag holding the device certificate and key. */
      securityTag?: number;
    }
  | {
      kind: 'dps';
      /** `host` or `host:port`. */
      endpoint: string;
      idScope: string;
      /** Absent only with X.509, where the certificate names the device. */
      registrationId?: string;
      credential: CredentialSource;
      /** The key is an enrollment group's (DpsIdentity.enrollmentGroup). */
      enrollmentGroup?: true;
    }
  /** Nothing configured here: use what `iot-store config set` wrote into the device's store. */
  | { kind: 'stored' };

export interface AppConfig {
  identity: IdentityConfig;
  telemetryIntervalMs: number;
  modelId: string;
  logLevel: LogLevel;
  /** Seeds the simulated sensor, so two runs with the same seed report the same readings. */
  sensorSeed: number;
  /** Reported to the twin; defaults name this project. */
  manufacturer: string;
  model: string;
  /**
   * Where to open TLS instead of the hub's own name on 8883 (a local emulator); the hub's name is still what is
   * signed. From `hubEndpoint: "host[:port]"`.
   */
  hubEndpoint?: HostPort;
  /** `transport`, `wsFallbackAfter`, `hubWsEndpoint`, `dpsWsEndpoint`. */
  transport: TransportConfig;
}

export interface TransportConfig {
  /** `mqtt` (8883, the default) or `mqtt-ws` (MQTT over WebSockets, 443). */
  kind: TransportKind;
  /** Failed attempts in a row before the other transport is tried (default 3; 0 never switches). */
  fallbackAfter: number;
  /** Where WebSockets open TLS instead of the service's own name on 443 (a local emulator). */
  hubWs?: HostPort;
  dpsWs?: HostPort;
}

export const DEFAULT_WS_FALLBACK_AFTER = 3;
export const WS_DEFAULT_PORT = 443;

export interface HostPort {
  host: string;
  port: number;
}

export const HUB_DEFAULT_PORT = 8883;

export interface ConfigError {
  /** The offending field, as spelled in the configuration. */
  field: string;
  message: string;
}

export type ConfigResult = Result<AppConfig, ConfigError>;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function invalid(field: string, problem: string): { ok: false; error: ConfigError } {
  return err({ field, message: `${field} ${problem}` });
}

type Read<T> = Result<T | undefined, ConfigError>;

function readString(raw: Record<string, unknown>, field: string): Read<string> {
  const value = raw[field];
  if (value === undefined || value === null || value === '') return ok(undefined);
  if (typeof value !== 'string') return invalid(field, 'must be a string');
  const trimmed = value.trim();
  return ok(trimmed === '' ? undefined : trimmed);
}

function readInteger(raw: Record<string, unknown>, field: string): Read<number> {
  const value = raw[field];
  if (value === undefined || value === null || value === '') return ok(undefined);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return invalid(field, 'must be a whole number');
  return ok(value);
}

function readBase64Key(raw: Record<string, unknown>, field: string): Read<string> {
  const text = readString(raw, field);
  if (!text.ok || text.value === undefined) return text;
  const bytes = keyBytes(text.value, field);
  if (!bytes.ok) return err({ field, message: bytes.error.message });
  return text;
}

type Reader<T> = (raw: Record<string, unknown>, field: string) => Read<T>;

/** Reads each field in the order given; the first one that is wrong is the error. */
function readFields<T extends Record<string, unknown>>(
  raw: Record<string, unknown>,
  readers: { [K in keyof T]: Reader<T[K]> },
): Result<{ [K in keyof T]: T[K] | undefined }, ConfigError> {
  const values = {} as { [K in keyof T]: T[K] | undefined };
  for (const field of Object.keys(readers) as Array<keyof T & string>) {
    const read = readers[field](raw, field);
    if (!read.ok) return read;
    values[field] = read.value;
  }
  return ok(values);
}

function readIdentity(raw: Record<string, unknown>): Result<IdentityConfig, ConfigError> {
  const read = readFields(raw, {
    connectionString: readString,
    idScope: readString,
    registrationId: readString,
    symmetricKey: readBase64Key,
    groupKey: readBase64Key,
    dpsEndpoint: readString,
  });
  if (!read.ok) return read;
  const { connectionString, idScope, registrationId, symmetricKey, groupKey, dpsEndpoint } = read.value;
  if (dpsEndpoint !== undefined) {
    const problem = checkDpsEndpointText(dpsEndpoint);
    if (problem !== undefined) return err({ field: 'dpsEndpoint', message: problem });
  }
  const tag = readInteger(raw, 'securityTag');
  if (!tag.ok) return tag;
  if (tag.value !== undefined && !isTagNumber(tag.value)) return invalid('securityTag', `must be an integer 0..${MAX_TAG}`);

  if (connectionString !== undefined) {
    for (const other of ['idScope', 'registrationId', 'symmetricKey', 'groupKey', 'dpsEndpoint'] as const) {
      const present = { idScope, registrationId, symmetricKey, groupKey, dpsEndpoint }[other] !== undefined;
      if (present) return invalid(other, 'cannot be combined with connectionString (choose a fixed hub or DPS)');
    }
    const parsed = parseConnectionString(connectionString);
    if (!parsed.ok) return err({ field: 'connectionString', message: `connectionString: ${parsed.error.message}` });
    if (parsed.value.x509 && tag.value === undefined) {
      return invalid('securityTag', 'is required when the connection string says x509=true (it holds the certificate and key)');
    }
    if (!parsed.value.x509 && tag.value !== undefined) {
      return invalid('securityTag', 'is only used with an x509=true connection string');
    }
    const identity: IdentityConfig = { kind: 'connection-string', connectionString: connectionString };
    if (tag.value !== undefined) identity.securityTag = tag.value;
    return ok(identity);
  }

  if (idScope === undefined) {
    for (const other of ['registrationId', 'symmetricKey', 'groupKey', 'dpsEndpoint'] as const) {
      const present = { registrationId, symmetricKey, groupKey, dpsEndpoint }[other] !== undefined;
      if (present) return invalid('idScope', `is required when ${other} is given`);
    }
    if (tag.value !== undefined) return invalid('securityTag', 'needs idScope (DPS) or an x509=true connectionString');
    return ok({ kind: 'stored' });
  }

  const scope = checkIdScope(idScope, 'idScope');
  if (!scope.ok) return err({ field: 'idScope', message: scope.error.message });
  const given = [
    symmetricKey !== undefined ? 'symmetricKey' : undefined,
    groupKey !== undefined ? 'groupKey' : undefined,
    tag.value !== undefined ? 'securityTag' : undefined,
  ].filter((name): name is string => name !== undefined);
  if (given.length === 0) return invalid('symmetricKey', 'or groupKey or securityTag is required with idScope');
  if (given.length > 1) return invalid(given[1]!, `cannot be combined with ${given[0]} (one attestation only)`);

  const key = symmetricKey ?? groupKey;
  const credential: CredentialSource = key !== undefined ? { kind: 'sas', key } : { kind: 'security-tag', tag: tag.value as number };

  if (registrationId === undefined && credential.kind !== 'security-tag') {
    return invalid('registrationId', 'is required with a symmetric or group key');
  }
  if (registrationId !== undefined) {
    const reg = checkRegistrationId(registrationId, 'registrationId');
    if (!reg.ok) return err({ field: 'registrationId', message: reg.error.message });
  }
  const identity: IdentityConfig = { kind: 'dps', endpoint: dpsEndpoint ?? DEFAULT_DPS_ENDPOINT, idScope: idScope, credential };
  if (registrationId !== undefined) identity.registrationId = registrationId;
  if (groupKey !== undefined) identity.enrollmentGroup = true;
  return ok(identity);
}

/** Checks `raw` and fills in defaults. */
export function parseAppConfig(raw: unknown): ConfigResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid('config', 'must be an object');
  const input = raw as Record<string, unknown>;

  const identity = readIdentity(input);
  if (!identity.ok) return identity;

  const interval = readInteger(input, 'telemetryIntervalMs');
  if (!interval.ok) return interval;
  const telemetryIntervalMs = interval.value ?? DEFAULT_TELEMETRY_INTERVAL_MS;
  const intervalProblem = checkTelemetryInterval(telemetryIntervalMs);
  if (intervalProblem !== undefined) return invalid('telemetryIntervalMs', intervalProblem);

  const modelId = readString(input, 'modelId');
  if (!modelId.ok) return modelId;
  if (modelId.value !== undefined && !isModelId(modelId.value)) {
    return invalid('modelId', "must look like 'dtmi:segment:segment;version'");
  }

  const logLevel = readString(input, 'logLevel');
  if (!logLevel.ok) return logLevel;
  if (logLevel.value !== undefined && !LOG_LEVELS.includes(logLevel.value as LogLevel)) {
    return invalid('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const seed = readInteger(input, 'sensorSeed');
  if (!seed.ok) return seed;

  const names = readFields(input, { manufacturer: readString, model: readString });
  if (!names.ok) return names;

  const endpointText = readString(input, 'hubEndpoint');
  if (!endpointText.ok) return endpointText;
  let hubEndpoint: HostPort | undefined;
  if (endpointText.value !== undefined) {
    const parsed = parseHostPort(endpointText.value, HUB_DEFAULT_PORT);
    if (!parsed.ok) return invalid('hubEndpoint', parsed.error);
    hubEndpoint = parsed.value;
  }

  const transport = readTransport(input);
  if (!transport.ok) return transport;

  const config: AppConfig = {
    transport: transport.value,
    identity: identity.value,
    telemetryIntervalMs,
    modelId: modelId.value ?? DEFAULT_MODEL_ID,
    logLevel: (logLevel.value as LogLevel | undefined) ?? 'info',
    sensorSeed: seed.value ?? DEFAULT_SENSOR_SEED,
    manufacturer: names.value.manufacturer ?? 'azure-iot-xs',
    model: names.value.model ?? 'xs-thermostat',
  };
  if (hubEndpoint !== undefined) config.hubEndpoint = hubEndpoint;
  return ok(config);
}

function readTransport(input: Record<string, unknown>): Result<TransportConfig, ConfigError> {
  const kind = readString(input, 'transport');
  if (!kind.ok) return kind;
  if (kind.value !== undefined && kind.value !== 'mqtt' && kind.value !== 'mqtt-ws') return invalid('transport', 'must be mqtt or mqtt-ws');
  const after = readInteger(input, 'wsFallbackAfter');
  if (!after.ok) return after;
  if (after.value !== undefined && (after.value < 0 || after.value > 1000)) return invalid('wsFallbackAfter', 'must be 0..1000');
  const config: TransportConfig = { kind: kind.value ?? 'mqtt', fallbackAfter: after.value ?? DEFAULT_WS_FALLBACK_AFTER };
  for (const [field, key] of [['hubWsEndpoint', 'hubWs'], ['dpsWsEndpoint', 'dpsWs']] as const) {
    const text = readString(input, field);
    if (!text.ok) return text;
    if (text.value === undefined) continue;
    const parsed = parseHostPort(text.value, WS_DEFAULT_PORT);
    if (!parsed.ok) return invalid(field, parsed.error);
    config[key] = parsed.value;
  }
  return ok(config);
}

/**
 * What is wrong with a DPS endpoint, by the rules the DPS client applies when it dials (so a mistake is a
 * configuration error at boot, naming this field, not a failed registration later); undefined when usable.
 */
function checkDpsEndpointText(text: string): string | undefined {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) return 'dpsEndpoint: must be a host name or host:port, not a URL (drop the scheme and any path)';
  const host = checkHostName(text, 'dpsEndpoint');
  if (!host.ok) return host.error.message;
  return !parseDpsEndpoint(text).ok ? 'dpsEndpoint: the port must be a number 1..65535 without leading zeros' : undefined;
}

/** `host` or `host:port` as TLS target; what is wrong as text when it does not parse. */
function parseHostPort(text: string, defaultPort: number): Result<HostPort, string> {
  const checked = checkHostName(text, 'host');
  if (!checked.ok) return err(checked.error.message);
  const { host, port } = splitHostPort(text);
  return ok({ host, port: port ?? defaultPort });
}

/** DTMI shape: `dtmi:` + colon-separated segments (letter first; letters, digits, `_`) + `;` + a version number. */
export function isModelId(text: string): boolean {
  if (text.length > 2048 || !text.startsWith('dtmi:')) return false;
  const semicolon = text.lastIndexOf(';');
  if (semicolon < 0) return false;
  const version = text.slice(semicolon + 1);
  if (!/^[1-9][0-9]{0,8}(\.[0-9]{1,6})?$/.test(version)) return false;
  const segments = text.slice(5, semicolon).split(':');
  return segments.length > 0 && segments.every((s) => /^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$/.test(s));
}

/** One line saying how the device will connect, for the boot log; no secrets. */
export function describeIdentity(identity: IdentityConfig): string {
  switch (identity.kind) {
    case 'connection-string':
      return identity.securityTag === undefined ? 'a connection string (SAS)' : `a connection string (X.509 from tag ${identity.securityTag})`;
    case 'dps': {
      const how =
        identity.credential.kind === 'security-tag'
          ? `an X.509 certificate from tag ${identity.credential.tag}`
          : identity.enrollmentGroup
            ? 'a key derived from a group enrollment key'
            : 'a symmetric key';
      return `DPS at ${identity.endpoint}, scope ${identity.idScope}${identity.registrationId === undefined ? '' : `, registration ${identity.registrationId}`}, with ${how}`;
    }
    case 'stored':
      return "the configuration stored on the device (written by 'iot-store config set')";
  }
}
