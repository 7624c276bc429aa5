// The Azure IoT Hub device client and the pieces it is built from.
export { HubClient } from './hub-client';
export { HubError } from './hub-error';
export type { HubErrorCode, HubErrorDetails } from './hub-error';
export type { HubClientConfig, HubSettings } from './hub-settings';
export type { HubCredentials, ConnectionStringCredentials, X509Credential } from './credentials';
export type { HubState } from './hub-state';
export type {
  C2dHandler,
  C2dMessage,
  DesiredHandler,
  DesiredInfo,
  HubClientEvents,
  HubClientPorts,
  HubDisconnectCode,
  HubDisconnectReason,
  TelemetryOptions,
  TelemetrySystemProperties,
} from './hub-types';
export type { MethodCall, MethodHandler, MethodResult } from './method-dispatcher';
export type { TwinDocument } from './twin-channel';
export { DEFAULT_BACKOFF, backoffDelay } from '../failure/backoff';
export type { BackoffPolicy, RandomSource } from '../failure/backoff';
export { DEFAULT_SAS_TTL_SECONDS, renewalDelayMs } from './renewal';
