// DPS request and response bodies. A response is folded into one outcome the provisioning client can switch on:
// still pending (poll again), assigned (hub and device id to connect with), failed or disabled (final), or a
// service error. DPS error bodies carry `errorCode` such as 401002, whose first three digits are the status.

import { checkHubDevice, checkRegistrationId } from './identifiers';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from './json';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';
import { isRetryableStatus } from './status';

export type DpsRegistrationStatus = 'unassigned' | 'assigning' | 'assigned' | 'failed' | 'disabled';

const STATUSES: readonly DpsRegistrationStatus[] = ['unassigned', 'assigning', 'assigned', 'failed', 'disabled'];

export function isFinalDpsStatus(status: DpsRegistrationStatus): boolean {
  return status === 'assigned' || status === 'failed' || status === 'disabled';
}

export interface DpsRegistrationState {
  registrationId?: string;
  assignedHub?: string;
  deviceId?: string;
  status?: DpsRegistrationStatus;
  substatus?: string;
  errorCode?: number;
  errorMessage?: string;
  createdDateTimeUtc?: string;
  lastUpdatedDateTimeUtc?: string;
  etag?: string;
  /** Data returned by a custom allocation policy. */
  payload?: JsonValue;
}

/** In the final outcomes (assigned, failed, disabled) `operationId` may be '': DPS need not name the operation. */
export type DpsOutcome =
  | { kind: 'pending'; operationId: string; status: 'unassigned' | 'assigning' }
  | {
      kind: 'assigned';
      operationId: string;
      /** Always connect with these, not with the registration id: DPS may map to a different device id. */
      assignedHub: string;
      deviceId: string;
      registrationState: DpsRegistrationState;
    }
  | { kind: 'failed' | 'disabled'; operationId: string; registrationState?: DpsRegistrationState }
  | DpsServiceError;

export interface DpsServiceError {
  kind: 'error';
  /** From `errorCode` when the body has one (401002 -> 401), else the topic's status. */
  status: number;
  retryable: boolean;
  errorCode?: number;
  trackingId?: string;
  message?: string;
}

/**
 * `{"registrationId":...,"payload":...}`. A Plug and Play model id (what IoT Central picks the device template by)
 * goes in as `payload.modelId`, next to what a custom payload object holds.
 */
export function buildDpsRegisterBody(registrationId: string, payload?: JsonValue, modelId?: string): Result<string, AzureError> {
  const reg = checkRegistrationId(registrationId);
  if (!reg.ok) return reg;
  const body: JsonObject = { registrationId };
  if (modelId !== undefined) {
    if (payload !== undefined && !isJsonObject(payload)) return fail('invalid-argument', 'payload', 'must be a JSON object to carry modelId');
    payload = { ...payload, modelId };
  }
  if (payload !== undefined) body['payload'] = payload;
  try {
    return ok(JSON.stringify(body));
  } catch {
    return fail('invalid-argument', 'payload', 'cannot be serialized as JSON');
  }
}

function stringField(source: JsonObject, name: string): string | undefined {
  const v = source[name];
  return typeof v === 'string' ? v : undefined;
}

function parseStatusText(value: JsonValue | undefined): DpsRegistrationStatus | undefined {
  return typeof value === 'string' ? STATUSES.find((s) => s === value) : undefined;
}

function parseRegistrationState(source: JsonObject): DpsRegistrationState {
  const state: DpsRegistrationState = {};
  for (const name of ['registrationId', 'assignedHub', 'deviceId', 'substatus', 'errorMessage', 'createdDateTimeUtc', 'lastUpdatedDateTimeUtc', 'etag'] as const) {
    const v = stringField(source, name);
    if (v !== undefined) state[name] = v;
  }
  const status = parseStatusText(source['status']);
  if (status !== undefined) state.status = status;
  const code = source['errorCode'];
  if (typeof code === 'number' && Number.isSafeInteger(code)) state.errorCode = code;
  if (source['payload'] !== undefined) state.payload = source['payload'];
  return state;
}

function parseError(status: number, body: Uint8Array | string): DpsServiceError {
  const parsed = parseJson(body, 'dps error', { allowEmpty: true });
  const outcome: DpsServiceError = { kind: 'error', status, retryable: isRetryableStatus(status) };
  if (!parsed.ok || !isJsonObject(parsed.value)) return outcome;
  const source = parsed.value;
  const code = source['errorCode'];
  if (typeof code === 'number' && Number.isSafeInteger(code) && code > 0) {
    outcome.errorCode = code;
    const derived = Math.floor(code / 1000);
    if (derived >= 100 && derived <= 599) {
      outcome.status = derived;
      outcome.retryable = isRetryableStatus(derived);
    }
  }
  const trackingId = stringField(source, 'trackingId');
  if (trackingId !== undefined) outcome.trackingId = trackingId;
  const message = stringField(source, 'message');
  if (message !== undefined) outcome.message = message;
  return outcome;
}

/**
 * `status` is the one from the response topic. Error statuses (>= 300) always give an `error` outcome, whatever
 * the body holds, because the status alone decides what to do next; success bodies must be well-formed.
 */
export function parseDpsResponse(status: number, body: Uint8Array | string): Result<DpsOutcome, AzureError> {
  if (status >= 300) return ok(parseError(status, body));
  const parsed = parseJson(body, 'dps response');
  if (!parsed.ok) return parsed;
  const source = parsed.value;
  if (!isJsonObject(source)) return fail('invalid-payload', 'dps response', 'is not a JSON object');
  const rawOperationId = source['operationId'];
  if (rawOperationId !== undefined && typeof rawOperationId !== 'string') {
    return fail('invalid-payload', 'dps response.operationId', 'is not a string');
  }
  // Only a pending answer needs the operation id (it is what the device polls). DPS sends a final answer with
  // an empty one, `disabled` in particular: refusing that body would make a final answer look like a service
  // fault and the device would register again and again.
  const operationId = rawOperationId ?? '';
  const opStatus = parseStatusText(source['status']);
  if (opStatus === undefined) {
    return fail('invalid-payload', 'dps response.status', `is not one of ${STATUSES.join(', ')}`);
  }
  const rawState = source['registrationState'];
  const state = isJsonObject(rawState) ? parseRegistrationState(rawState) : undefined;
  if (opStatus === 'unassigned' || opStatus === 'assigning') {
    if (operationId.length === 0) {
      return fail('invalid-payload', 'dps response.operationId', `is missing or empty while the status is ${opStatus}: there is nothing to poll`);
    }
    return ok({ kind: 'pending', operationId, status: opStatus });
  }
  if (opStatus === 'assigned') {
    if (state === undefined) return fail('invalid-payload', 'dps response.registrationState', 'is missing');
    if (state.assignedHub === undefined) return fail('invalid-payload', 'registrationState.assignedHub', 'is missing');
    if (state.deviceId === undefined) return fail('invalid-payload', 'registrationState.deviceId', 'is missing');
    const ids = checkHubDevice(state.assignedHub, 'registrationState.assignedHub', state.deviceId, 'registrationState.deviceId');
    if (!ids.ok) return ids;
    return ok({ kind: 'assigned', operationId, assignedHub: state.assignedHub, deviceId: state.deviceId, registrationState: state });
  }
  const final: DpsOutcome = { kind: opStatus, operationId };
  if (state !== undefined) final.registrationState = state;
  return ok(final);
}
