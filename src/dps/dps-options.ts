// What a registration takes, what it returns, and the bounds that keep it from running forever.

import type { JsonValue } from '../azure/json';
import type { DpsIdentity } from '../identity';
import { err, ok, type Result } from '../result';

export interface DpsLimits {
  /** Wait before polling when a 202 carries no retry-after. */
  pollFallbackMs: number;
  /** Wait before retrying a 429/5xx answer that carries no retry-after (throttling deserves a longer floor). */
  retryFallbackMs: number;
  /** Register and poll PUBLISHes, retries included, at most. */
  maxRequests: number;
  /** From register() to a final answer, connection included. A wait that would end past it fails at once. */
  totalTimeoutMs: number;
  /** How long one request may go unanswered. */
  responseTimeoutMs: number;
  /** TCP + TLS + CONNACK. */
  connectTimeoutMs: number;
  /** How long to wait for the transport to report it closed after DISCONNECT. */
  closeTimeoutMs: number;
  keepAliveSeconds: number;
  /** Lifetime of the SAS token used for the DPS connection. */
  sasTtlSeconds: number;
  /** Largest DPS answer accepted; a bigger one is skipped unread and the registration fails (retryable). */
  maxPacketBytes: number;
}

export const DEFAULT_DPS_LIMITS: DpsLimits = {
  pollFallbackMs: 3_000,
  retryFallbackMs: 10_000,
  maxRequests: 30,
  totalTimeoutMs: 180_000,
  responseTimeoutMs: 30_000,
  connectTimeoutMs: 30_000,
  closeTimeoutMs: 5_000,
  keepAliveSeconds: 60,
  sasTtlSeconds: 3_600,
  maxPacketBytes: 16 * 1024,
};

export interface DpsRegisterOptions {
  /** The enrollment: id scope, registration id and the credential it attests with. */
  identity: DpsIdentity;
  /** Roots the DPS server certificate must chain to (DER). */
  trustedCAs: Uint8Array[];
  /** `host` or `host:port`; default `global.azure-devices-provisioning.net` on 8883. */
  endpoint?: string;
  /** TLS server name when it differs from the endpoint host. */
  serverName?: string;
  /** Custom JSON sent as `payload` in the register request (custom allocation policies read it). */
  payload?: JsonValue;
  /** Plug and Play model id, sent as `payload.modelId` (IoT Central assigns the device template by it). */
  modelId?: string;
  /** Sent as ClientVersion in the username. */
  clientVersion?: string;
  limits?: Partial<DpsLimits>;
}

export interface DpsRegistrationResult {
  /** The hub host exactly as DPS wrote it; connect and sign with it. */
  assignedHub: string;
  /** The hub device id; may differ from the registration id. */
  deviceId: string;
  registrationId: string;
  /** e.g. initialAssignment, deviceDataMigrated, deviceDataReset, reprovisionedToInitialAssignment. */
  substatus?: string;
  /** Data returned by a custom allocation policy, or the request payload echoed. */
  payload?: JsonValue;
}

const ZERO_ALLOWED: readonly (keyof DpsLimits)[] = ['pollFallbackMs', 'retryFallbackMs', 'keepAliveSeconds'];

/** The limits with defaults for what is not given, or the first one out of range, named. */
export function resolveLimits(given: Partial<DpsLimits> | undefined): Result<DpsLimits, string> {
  const limits: DpsLimits = { ...DEFAULT_DPS_LIMITS };
  if (given === undefined) return ok(limits);
  for (const name of Object.keys(given) as (keyof DpsLimits)[]) {
    if (!(name in DEFAULT_DPS_LIMITS)) return err(`limits.${name} is not a known limit`);
    const value = given[name];
    if (value === undefined) continue;
    const zeroAllowed = ZERO_ALLOWED.includes(name);
    if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && !zeroAllowed)) {
      return err(`limits.${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} whole number`);
    }
    limits[name] = value;
  }
  if (limits.keepAliveSeconds > 65535) return err('limits.keepAliveSeconds must be at most 65535');
  return ok(limits);
}
