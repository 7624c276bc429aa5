// What a registration takes, what it returns, and the bounds that keep it from running forever.

import type { JsonValue } from '../azure/json';
import type { DpsIdentity } from '../identity';

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

/** Defaults for what is not given; call checkLimits first. */
export function resolveLimits(given: Partial<DpsLimits> | undefined): DpsLimits {
  const limits: DpsLimits = { ...DEFAULT_DPS_LIMITS };
  if (given === undefined) return limits;
  for (const name of Object.keys(DEFAULT_DPS_LIMITS) as (keyof DpsLimits)[]) {
    const value = given[name];
    if (value !== undefined) limits[name] = value;
  }
  return limits;
}

/** Names the first limit that is out of range, or undefined when all are usable. */
export function checkLimits(given: Partial<DpsLimits> | undefined): string | undefined {
  if (given === undefined) return undefined;
  for (const name of Object.keys(given) as (keyof DpsLimits)[]) {
    if (!(name in DEFAULT_DPS_LIMITS)) return `limits.${name} is not a known limit`;
    const value = given[name];
    if (value === undefined) continue;
    const zeroAllowed = ZERO_ALLOWED.includes(name);
    if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && !zeroAllowed)) {
      return `limits.${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} whole number`;
    }
  }
  if (given.keepAliveSeconds !== undefined && given.keepAliveSeconds > 65535) return 'limits.keepAliveSeconds must be at most 65535';
  return undefined;
}
