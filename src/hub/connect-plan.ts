// Everything one connection attempt sends, computed from the identity, the settings and the time: the TLS
// target (the gateway when there is one, the hub otherwise), client id and username (with model id and user
// agent), and for SAS a fresh token signed for the hub itself. Pure: the caller supplies the clock reading and
// the HMAC, so the result can be checked byte for byte.

import type { CryptoPort, TlsConnectOptions } from '../ports';
import type { MqttConnectOptions } from '../mqtt/session-types';
import { hubMqttIdentity } from '../azure/mqtt-identity';
import { splitHostPort } from '../azure/identifiers';
import { buildHubSasToken, expiryFromClock, type HubSasTokenInput } from '../azure/sas-token';
import { utf8Encode } from '../encoding/utf8';
import { err, ok, type Result } from '../result';
import { HubError } from './hub-error';
import type { HubIdentity } from '../identity';

export const HUB_PORT = 8883;

export interface ConnectSettings {
  trustedCAs: Uint8Array[];
  /** Overrides where the TLS connection goes (a local emulator, a test broker); the names signed stay the hub's. */
  endpoint?: { host?: string; port?: number; serverName?: string };
  modelId?: string;
  userAgent?: string;
  keepAliveSeconds: number;
  connectTimeoutMs: number;
  sasTtlSeconds: number;
}

export interface ConnectPlan {
  options: MqttConnectOptions;
  /** SAS only: when the token was signed and when it expires. */
  token?: { signedAtUnixMs: number; expiryUnixSeconds: number };
}

export function tlsTarget(identity: HubIdentity, settings: ConnectSettings): TlsConnectOptions {
  // A `host:port` name (a local emulator) says where to dial; the whole text stays the name that is signed.
  const named = splitHostPort(identity.gatewayHostName ?? identity.hostName);
  const host = settings.endpoint?.host ?? named.host;
  const tls: TlsConnectOptions = {
    host,
    port: settings.endpoint?.port ?? named.port ?? HUB_PORT,
    serverName: settings.endpoint?.serverName ?? host,
    trustedCAs: settings.trustedCAs,
    connectTimeoutMs: settings.connectTimeoutMs,
  };
  if (identity.credential.kind === 'x509') {
    tls.clientCertificates = identity.credential.chain;
    if (identity.credential.privateKey !== undefined) tls.clientKey = identity.credential.privateKey;
    if (identity.credential.secTag !== undefined) tls.secTag = identity.credential.secTag;
  }
  return tls;
}

export function buildConnectPlan(
  identity: HubIdentity,
  settings: ConnectSettings,
  nowUnixMs: number | undefined,
  hmac: CryptoPort['hmacSha256'],
): Result<ConnectPlan, HubError> {
  const { hostName, deviceId, moduleId } = identity;
  // Absent optional names stay undefined: the azure builders leave them out.
  const mqttId = hubMqttIdentity({ hostName, deviceId, moduleId, userAgent: settings.userAgent, modelId: settings.modelId });
  if (!mqttId.ok) {
    return err(new HubError('invalid-config', mqttId.error.message, { field: mqttId.error.field, cause: mqttId.error }));
  }
  const options: MqttConnectOptions = {
    tls: tlsTarget(identity, settings),
    clientId: mqttId.value.clientId,
    username: mqttId.value.username,
    cleanSession: false,
    keepAlive: settings.keepAliveSeconds,
    connectTimeoutMs: settings.connectTimeoutMs,
  };
  const credential = identity.credential;
  if (credential.kind === 'x509') return ok({ options });

  const expiry = expiryFromClock(nowUnixMs, settings.sasTtlSeconds);
  if (!expiry.ok) {
    const code = expiry.error.code === 'clock-not-set' ? 'clock-not-set' : 'invalid-config';
    const message =
      code === 'clock-not-set' ? 'the wall clock is not set (no SNTP yet): refusing to sign a SAS token' : expiry.error.message;
    return err(new HubError(code, message, { cause: expiry.error }));
  }
  const tokenInput: HubSasTokenInput = { hostName, deviceId, moduleId, keyName: identity.keyName, key: credential.key, expiryUnixSeconds: expiry.value };
  const token = buildHubSasToken(tokenInput, hmac);
  if (!token.ok) {
    return err(new HubError('invalid-config', token.error.message, { field: token.error.field, cause: token.error }));
  }
  options.password = utf8Encode(token.value);
  return ok({ options, token: { signedAtUnixMs: nowUnixMs as number, expiryUnixSeconds: expiry.value } });
}
