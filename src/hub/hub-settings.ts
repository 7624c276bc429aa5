// The client's tuning with its defaults, checked once at construction so a bad value is a named
// 'invalid-config' error at start-up rather than odd behaviour hours later.

import { checkBackoffPolicy, DEFAULT_BACKOFF, type BackoffPolicy, type RandomSource } from '../failure/backoff';
import { checkRenewFraction, checkSasTtl, DEFAULT_RENEW_FRACTION, DEFAULT_SAS_TTL_SECONDS } from './renewal';
import { err, ok, type Result } from '../result';
import { HubError } from './hub-error';
import type { HubCredentials } from './credentials';
import type { ConnectSettings } from './connect-plan';
import type { Journaling } from './hub-types';
import { MAX_TELEMETRY_BYTES } from '../azure/limits';
import { DEFAULT_MAX_PACKET_SIZE } from '../mqtt/stream-parser';

/** A QoS 1 PUBLISH adds at most 9 bytes to the hub's 256 KB of payload and topic; rounded up. */
const PUBLISH_OVERHEAD_BYTES = 16;
/** MQTT's largest remaining length plus its 5 header bytes. */
const MQTT_MAX_PACKET_BYTES = 268_435_455 + 5;

/** The slow retry after a stop: 15 minutes. */
export const DEFAULT_STOPPED_RETRY_MS = 900_000;

export interface HubClientConfig {
  credentials: HubCredentials;
  /** Trusted root certificates (DER) for the hub's (or gateway's) server certificate. */
  trustedCAs: Uint8Array[];
  /** Where to open TLS instead of the hub (or gateway) on 8883: a local emulator or test broker. */
  endpoint?: { host?: string; port?: number; serverName?: string };
  /** IoT Plug and Play model id, sent in the username. */
  modelId?: string;
  /** Sent as DeviceClientType. */
  userAgent?: string;
  /** MQTT keep-alive, seconds. Default 240. */
  keepAliveSeconds?: number;
  /** TCP + TLS + CONNACK time limit per attempt. Default 30 000 ms. */
  connectTimeoutMs?: number;
  /** Life of each SAS token. Default 3600 s. */
  sasTtlSeconds?: number;
  /** Renew when this fraction of the token's life has passed. Default 0.8. */
  renewAtFraction?: number;
  /** Twin requests: time from the call to the answer, offline time included. Default 60 000 ms. */
  operationTimeoutMs?: number;
  /** Direct method handlers must finish within this, or a 504 is sent. Default 30 000 ms (the hub's default wait). */
  methodTimeoutMs?: number;
  /** Telemetry accepted and not yet acknowledged, at most; beyond it sendTelemetry rejects 'queue-full'. Default 64. */
  maxPendingTelemetry?: number;
  /** Telemetry handed to MQTT at once (QoS 1 in flight). Default 16. */
  maxInflightTelemetry?: number;
  /**
   * Bytes of encoded telemetry pending (waiting plus in flight), at most; beyond it sendTelemetry rejects
   * 'queue-full', or 'too-large' for one message bigger than the whole budget. Default: maxPendingTelemetry
   * messages of the hub's largest size, so only the count binds.
   */
  maxPendingTelemetryBytes?: number;
  /** Largest packet accepted from the hub; a PUBLISH over it is skipped and reported ('message-refused'). Default 263,168. */
  maxIncomingPacketBytes?: number;
  /** Largest C2D body accepted; a larger one is completed unread and reported. Default: no limit below the packet's. */
  maxC2dPayloadBytes?: number;
  /** Largest direct-method request body accepted; a larger one is answered 413 and reported. Default: the packet's. */
  maxMethodPayloadBytes?: number;
  /** Twin requests pending, at most. Default 16. */
  maxPendingTwinRequests?: number;
  /** A QoS 1 telemetry message unacknowledged this long means a stuck connection: reconnect (0 disables). Default 60 000 ms. */
  ackTimeoutMs?: number;
  /** Renewal waits at most this long for in-flight work before disconnecting. Default 10 000 ms. */
  renewalDrainTimeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /**
   * After refused credentials or a configuration the hub rejects, the next attempt comes this long later (plus up
   * to a quarter more), or at once on updateCredentials(). Such refusals can clear by themselves (a key rotated
   * back, a re-enabled device), so nothing stops for good. Default 900 000 ms (15 min).
   */
  stoppedRetryMs?: number;
  /** Random numbers in [0, 1) for jitter; default from the crypto port. */
  random?: RandomSource;
  /**
   * Keeps telemetry on flash until the hub acknowledges it, across outages and reboots (src/storage/
   * telemetry-journal.ts, through src/hub/journal-sender.ts's `journaling`). Without it telemetry waits in RAM
   * only, bounded by the settings above.
   */
  journal?: Journaling;
  /** Journal writes are batched: appends and acknowledgements are written this long after the first. Default 1000 ms. */
  journalFlushMs?: number;
}

export interface HubSettings {
  keepAliveSeconds: number;
  connectTimeoutMs: number;
  sasTtlSeconds: number;
  renewAtFraction: number;
  operationTimeoutMs: number;
  methodTimeoutMs: number;
  maxPendingTelemetry: number;
  maxInflightTelemetry: number;
  maxPendingTelemetryBytes: number;
  maxIncomingPacketBytes: number;
  maxC2dPayloadBytes: number;
  maxMethodPayloadBytes: number;
  maxPendingTwinRequests: number;
  ackTimeoutMs: number;
  renewalDrainTimeoutMs: number;
  stoppedRetryMs: number;
  journalFlushMs: number;
  backoff: BackoffPolicy;
}

function integer(config: HubClientConfig, field: keyof HubClientConfig, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): Result<number, HubError> {
  const value = config[field];
  if (value === undefined) return ok(fallback);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    return err(new HubError('invalid-config', `${field} must be an integer from ${min} to ${max}`, { field }));
  }
  return ok(value);
}

export function resolveSettings(config: HubClientConfig): Result<HubSettings, HubError> {
  const checks: Array<[keyof HubSettings, Result<number, HubError>]> = [
    ['keepAliveSeconds', integer(config, 'keepAliveSeconds', 240, 0, 1177)],
    ['connectTimeoutMs', integer(config, 'connectTimeoutMs', 30_000, 1)],
    ['sasTtlSeconds', integer(config, 'sasTtlSeconds', DEFAULT_SAS_TTL_SECONDS, 1)],
    ['operationTimeoutMs', integer(config, 'operationTimeoutMs', 60_000, 1)],
    ['methodTimeoutMs', integer(config, 'methodTimeoutMs', 30_000, 1)],
    ['maxPendingTelemetry', integer(config, 'maxPendingTelemetry', 64, 1)],
    ['maxInflightTelemetry', integer(config, 'maxInflightTelemetry', 16, 1, 65535)],
    ['maxIncomingPacketBytes', integer(config, 'maxIncomingPacketBytes', DEFAULT_MAX_PACKET_SIZE, 1024, MQTT_MAX_PACKET_BYTES)],
    ['maxPendingTwinRequests', integer(config, 'maxPendingTwinRequests', 16, 1)],
    ['ackTimeoutMs', integer(config, 'ackTimeoutMs', 60_000, 0)],
    ['renewalDrainTimeoutMs', integer(config, 'renewalDrainTimeoutMs', 10_000, 0)],
    ['stoppedRetryMs', integer(config, 'stoppedRetryMs', DEFAULT_STOPPED_RETRY_MS, 1)],
    ['journalFlushMs', integer(config, 'journalFlushMs', 1000, 0)],
  ];
  const values: Partial<Record<keyof HubSettings, number>> = {};
  for (const [field, result] of checks) {
    if (!result.ok) return result;
    values[field] = result.value;
  }
  // Defaults that follow other settings.
  const packet = values.maxIncomingPacketBytes as number;
  const budgets: Array<[keyof HubSettings, Result<number, HubError>]> = [
    ['maxPendingTelemetryBytes', integer(config, 'maxPendingTelemetryBytes', (values.maxPendingTelemetry as number) * (MAX_TELEMETRY_BYTES + PUBLISH_OVERHEAD_BYTES), 1)],
    ['maxC2dPayloadBytes', integer(config, 'maxC2dPayloadBytes', packet, 0)],
    ['maxMethodPayloadBytes', integer(config, 'maxMethodPayloadBytes', packet, 0)],
  ];
  for (const [field, result] of budgets) {
    if (!result.ok) return result;
    values[field] = result.value;
  }
  const ttlProblem = checkSasTtl(values.sasTtlSeconds as number);
  if (ttlProblem !== undefined) return err(new HubError('invalid-config', ttlProblem, { field: 'sasTtlSeconds' }));
  const renewAtFraction = config.renewAtFraction ?? DEFAULT_RENEW_FRACTION;
  const fractionProblem = checkRenewFraction(renewAtFraction);
  if (fractionProblem !== undefined) {
    return err(new HubError('invalid-config', fractionProblem, { field: 'renewAtFraction' }));
  }
  const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...(config.backoff ?? {}) };
  const backoffProblem = checkBackoffPolicy(backoff);
  if (backoffProblem !== undefined) {
    return err(new HubError('invalid-config', `backoff: ${backoffProblem}`, { field: 'backoff' }));
  }
  if (!Array.isArray(config.trustedCAs) || config.trustedCAs.some((ca) => !(ca instanceof Uint8Array))) {
    return err(new HubError('invalid-config', 'trustedCAs must be an array of DER certificates', { field: 'trustedCAs' }));
  }
  const endpointProblem = checkEndpoint(config.endpoint);
  if (endpointProblem !== undefined) return err(endpointProblem);
  return ok({
    keepAliveSeconds: values.keepAliveSeconds as number,
    connectTimeoutMs: values.connectTimeoutMs as number,
    sasTtlSeconds: values.sasTtlSeconds as number,
    renewAtFraction,
    operationTimeoutMs: values.operationTimeoutMs as number,
    methodTimeoutMs: values.methodTimeoutMs as number,
    maxPendingTelemetry: values.maxPendingTelemetry as number,
    maxInflightTelemetry: values.maxInflightTelemetry as number,
    maxPendingTelemetryBytes: values.maxPendingTelemetryBytes as number,
    maxIncomingPacketBytes: packet,
    maxC2dPayloadBytes: values.maxC2dPayloadBytes as number,
    maxMethodPayloadBytes: values.maxMethodPayloadBytes as number,
    maxPendingTwinRequests: values.maxPendingTwinRequests as number,
    ackTimeoutMs: values.ackTimeoutMs as number,
    renewalDrainTimeoutMs: values.renewalDrainTimeoutMs as number,
    stoppedRetryMs: values.stoppedRetryMs as number,
    journalFlushMs: values.journalFlushMs as number,
    backoff,
  });
}

function checkEndpoint(endpoint: HubClientConfig['endpoint']): HubError | undefined {
  if (endpoint === undefined) return undefined;
  const port = endpoint.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    return new HubError('invalid-config', 'endpoint.port must be an integer from 1 to 65535', { field: 'endpoint.port' });
  }
  for (const name of ['host', 'serverName'] as const) {
    const value = endpoint[name];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      return new HubError('invalid-config', `endpoint.${name} must be a non-empty string`, { field: `endpoint.${name}` });
    }
  }
  return undefined;
}

/** What every connection attempt's plan is built from (src/hub/connect-plan.ts). */
export function connectSettingsFor(config: HubClientConfig, settings: HubSettings): ConnectSettings {
  const { trustedCAs, endpoint, modelId, userAgent } = config;
  const { keepAliveSeconds, connectTimeoutMs, sasTtlSeconds } = settings;
  return { trustedCAs, endpoint, modelId, userAgent, keepAliveSeconds, connectTimeoutMs, sasTtlSeconds };
}
