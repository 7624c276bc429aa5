// Decides a hub CONNECT the way the real hub does: which identity it is, and the CONNACK code when refused.
// 2 = unknown client id, 4 = bad username or credentials, 5 = not authorized (expired token, disabled identity).
import { X509Certificate, createHash } from 'node:crypto';
import type { DeviceAuth, Registry } from '../registry';
import { verifySasToken } from '../sas-verify';
import { identityKey, telemetryTopicPrefix, type Identity } from './topics';

export interface ConnectAttempt {
  clientId: string;
  username?: string;
  password?: Uint8Array;
  /** The presented client certificate chain, leaf first (empty when none). */
  peerCertificates: X509Certificate[];
  will?: { topic: string; qos: number };
}

export type AuthMethod = 'sas' | 'x509-thumbprint' | 'x509-ca';

export type ConnectDecision =
  | { ok: true; identity: Identity; method: AuthMethod; tokenExpiresAt?: number }
  | { ok: false; returnCode: 2 | 4 | 5; reason: string; identity?: Identity };

export interface ParsedUsername {
  host: string;
  deviceId: string;
  moduleId?: string;
  query: Map<string, string>;
}

/** `{host}/{deviceId}[/{moduleId}]/?api-version=...[&...]`; undefined when it does not have that shape. */
export function parseHubUsername(username: string): ParsedUsername | undefined {
  const q = username.indexOf('/?');
  if (q < 0) return undefined;
  const parts = username.slice(0, q).split('/');
  if (parts.length !== 2 && parts.length !== 3) return undefined;
  if (parts.some((p) => p.length === 0)) return undefined;
  const query = new Map<string, string>();
  for (const pair of username.slice(q + 2).split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (!query.has(name)) query.set(name, eq < 0 ? '' : pair.slice(eq + 1));
  }
  const parsed: ParsedUsername = { host: parts[0], deviceId: parts[1], query };
  if (parts.length === 3) parsed.moduleId = parts[2];
  return parsed;
}

function splitClientId(clientId: string): Identity | undefined {
  const parts = clientId.split('/');
  if (parts.length === 1 && parts[0].length > 0) return { deviceId: parts[0] };
  if (parts.length === 2 && parts[0].length > 0 && parts[1].length > 0) return { deviceId: parts[0], moduleId: parts[1] };
  return undefined;
}

function commonName(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3);
  }
  return undefined;
}

function withinValidity(cert: X509Certificate, nowMs: number): boolean {
  return Date.parse(cert.validFrom) <= nowMs && nowMs <= Date.parse(cert.validTo);
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

/** True when the leaf chains (through presented intermediates) to one of the registered CAs. */
export function chainsToRegisteredCa(chain: X509Certificate[], roots: X509Certificate[], nowMs: number): boolean {
  let current = chain[0];
  const intermediates = chain.slice(1);
  for (let depth = 0; depth < 6; depth++) {
    if (!withinValidity(current, nowMs)) return false;
    if (roots.some((root) => withinValidity(root, nowMs) && issuedBy(current, root))) return true;
    const next = intermediates.find((candidate) => candidate !== current && candidate.ca && issuedBy(current, candidate));
    if (!next) return false;
    current = next;
  }
  return false;
}

function thumbprintMatches(leaf: X509Certificate, auth: Extract<DeviceAuth, { type: 'x509-thumbprint' }>): boolean {
  const sha1 = createHash('sha1').update(leaf.raw).digest('hex').toUpperCase();
  const sha256 = createHash('sha256').update(leaf.raw).digest('hex').toUpperCase();
  return [auth.primaryThumbprint, auth.secondaryThumbprint].some((t) => t !== undefined && (t === sha1 || t === sha256));
}

export function decideConnect(
  attempt: ConnectAttempt,
  context: { registry: Registry; hubHostName: string; nowMs: number },
): ConnectDecision {
  const identity = splitClientId(attempt.clientId);
  if (!identity) return { ok: false, returnCode: 2, reason: 'client id must be {deviceId} or {deviceId}/{moduleId}' };
  const device = context.registry.getDevice(identity.deviceId);
  const module = identity.moduleId === undefined ? undefined : device?.modules[identity.moduleId];
  if (!device || (identity.moduleId !== undefined && !module)) {
    return { ok: false, returnCode: 2, reason: `identity ${attempt.clientId} is not registered` };
  }
  const key = identityKey(identity);

  if (attempt.username === undefined) return { ok: false, returnCode: 4, reason: 'username is missing', identity };
  const user = parseHubUsername(attempt.username);
  if (!user) return { ok: false, returnCode: 4, reason: 'username must be {host}/{deviceId}[/{moduleId}]/?api-version=...', identity };
  if (!user.query.get('api-version')) return { ok: false, returnCode: 4, reason: 'username has no api-version', identity };
  if (user.host.toLowerCase() !== context.hubHostName.toLowerCase()) {
    return { ok: false, returnCode: 4, reason: `username host ${user.host} is not ${context.hubHostName}`, identity };
  }
  if (identityKey(user) !== key) {
    return { ok: false, returnCode: 4, reason: `username identity ${identityKey(user)} does not match client id ${key}`, identity };
  }

  const auth = module ? module.auth : device.auth;
  let decision: ConnectDecision;
  if (auth.type === 'sas') {
    if (!attempt.password || attempt.password.length === 0) {
      return { ok: false, returnCode: 4, reason: 'a SAS identity needs a SAS token as password', identity };
    }
    const resource = identity.moduleId === undefined
      ? `${context.hubHostName}/devices/${identity.deviceId}`
      : `${context.hubHostName}/devices/${identity.deviceId}/modules/${identity.moduleId}`;
    const token = new TextDecoder('utf-8', { fatal: false }).decode(attempt.password);
    const verdict = verifySasToken(token, { keys: [auth.primaryKey, auth.secondaryKey], resource, nowMs: context.nowMs });
    if (!verdict.ok) {
      return { ok: false, returnCode: verdict.reason === 'expired' ? 5 : 4, reason: `SAS token ${verdict.reason}: ${verdict.message}`, identity };
    }
    decision = { ok: true, identity, method: 'sas', tokenExpiresAt: verdict.token.expiry * 1000 };
  } else {
    if (attempt.password && attempt.password.length > 0) {
      return { ok: false, returnCode: 4, reason: 'an X.509 identity must not send a password', identity };
    }
    const leaf = attempt.peerCertificates[0];
    if (!leaf) return { ok: false, returnCode: 4, reason: 'an X.509 identity must present a client certificate', identity };
    if (commonName(leaf) !== key) {
      return { ok: false, returnCode: 4, reason: `certificate CN ${commonName(leaf) ?? '(none)'} is not ${key}`, identity };
    }
    if (!withinValidity(leaf, context.nowMs)) return { ok: false, returnCode: 4, reason: 'client certificate is expired or not yet valid', identity };
    if (auth.type === 'x509-thumbprint') {
      if (!thumbprintMatches(leaf, auth)) return { ok: false, returnCode: 4, reason: 'client certificate thumbprint does not match', identity };
      decision = { ok: true, identity, method: 'x509-thumbprint' };
    } else {
      const roots = context.registry.listCertificateAuthorities().map((ca) => new X509Certificate(ca.certPem));
      if (!chainsToRegisteredCa(attempt.peerCertificates, roots, context.nowMs)) {
        return { ok: false, returnCode: 4, reason: 'client certificate does not chain to a registered CA', identity };
      }
      decision = { ok: true, identity, method: 'x509-ca' };
    }
  }

  if (device.status === 'disabled') return { ok: false, returnCode: 5, reason: `device ${identity.deviceId} is disabled`, identity };
  if (attempt.will) {
    const telemetry = telemetryTopicPrefix(identity);
    if (!(attempt.will.topic === telemetry || attempt.will.topic.startsWith(`${telemetry}/`)) || attempt.will.qos > 1) {
      return { ok: false, returnCode: 5, reason: 'a will message is allowed only on the telemetry topic, QoS 0 or 1', identity };
    }
  }
  return decision;
}
