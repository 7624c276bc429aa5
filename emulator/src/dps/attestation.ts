// Decides what a DPS CONNECT gets, from its username, client id, password and client certificates.
//
// Azure documents no CONNACK codes for DPS, so the emulator decides like its hub side does:
//   2  client id differs from the username's registration id, or the id is not a valid registration id;
//   4  malformed username or SAS token, a token for another resource or key name, a signature that matches
//      none of the candidate keys, no credentials at all, an X.509 leaf whose CN is not the registration id,
//      or a certificate that none of the candidate X.509 enrollments accepts;
//   5  a well-formed SAS token that has expired.
// "Candidates" are the individual enrollment for the registration id (which overrides groups), or else every
// group with the attestation type the device used. When there is no candidate at all (wrong id scope,
// unknown registration, or an individual enrollment of the other attestation type), the CONNECT is accepted
// and every request is answered 401 with errorCode 401002, as DPS does for devices it cannot match.
import { X509Certificate } from 'node:crypto';
import { verifySasToken } from '../sas-verify';
import { isValidRegistrationId, parseDpsUsername } from './dps-topics';
import { deriveDeviceKey, type EnrollmentStore } from './enrollment-store';
import type { GroupEnrollment, IndividualEnrollment } from './enrollment-types';
import { chainsTo, commonName, matchesThumbprint } from './x509-chain';

export interface ConnectCredentials {
  clientId: string;
  username?: string;
  password?: Uint8Array;
  /** Client certificates as presented in the TLS handshake, leaf first; empty when none. */
  certificates: X509Certificate[];
}

/** How a registration is attested: the enrollment, and the hub credentials the device will use. */
export type Attested =
  | { enrollment: IndividualEnrollment | GroupEnrollment; method: 'symmetricKey'; deviceKeys: { primaryKey: string; secondaryKey: string } }
  | { enrollment: IndividualEnrollment; method: 'x509'; thumbprints: { primary: string; secondary?: string } }
  | { enrollment: GroupEnrollment; method: 'x509-ca'; caCertPem: string };

export type ConnectDecision =
  | { kind: 'refuse'; returnCode: 2 | 4 | 5; reason: string }
  | { kind: 'accept'; registrationId: string; idScope: string; attested?: Attested; unauthorizedReason?: string };

function refuse(returnCode: 2 | 4 | 5, reason: string): ConnectDecision {
  return { kind: 'refuse', returnCode, reason };
}

function unauthorized(registrationId: string, idScope: string, reason: string): ConnectDecision {
  return { kind: 'accept', registrationId, idScope, unauthorizedReason: reason };
}

export function decideConnect(
  credentials: ConnectCredentials,
  context: { idScope: string; store: EnrollmentStore; nowMs: number },
): ConnectDecision {
  const parsed = parseDpsUsername(credentials.username);
  if (!parsed.ok) return refuse(4, parsed.message);
  const { idScope, registrationId } = parsed.value;
  if (credentials.clientId !== registrationId) return refuse(2, 'client id must equal the registration id of the username');
  if (!isValidRegistrationId(registrationId)) return refuse(2, 'registration id has characters DPS does not allow');

  if (credentials.password !== undefined && credentials.password.length > 0) {
    return decideSas(Buffer.from(credentials.password).toString('utf8'), registrationId, idScope, context);
  }
  if (credentials.certificates.length > 0) return decideX509(credentials.certificates, registrationId, idScope, context);
  return refuse(4, 'neither a SAS token nor a client certificate was presented');
}

function decideSas(
  token: string,
  registrationId: string,
  idScope: string,
  context: { idScope: string; store: EnrollmentStore; nowMs: number },
): ConnectDecision {
  const resource = `${idScope}/registrations/${registrationId}`;
  // Shape first, against no key: a malformed token is refused whatever the enrollments are.
  const shape = verifySasToken(token, { keys: [], resource, keyName: 'registration', nowMs: context.nowMs });
  if (!shape.ok && shape.reason !== 'bad-signature') return refuse(shape.reason === 'expired' ? 5 : 4, shape.message);
  if (idScope !== context.idScope) return unauthorized(registrationId, idScope, `id scope ${idScope} is not this DPS's`);

  const candidates: { enrollment: IndividualEnrollment | GroupEnrollment; primaryKey: string; secondaryKey: string }[] = [];
  const individual = context.store.getIndividual(registrationId);
  if (individual) {
    if (individual.attestation.type !== 'symmetricKey') {
      return unauthorized(registrationId, idScope, 'the individual enrollment uses X.509, not a symmetric key');
    }
    candidates.push({ enrollment: individual, ...individual.attestation });
  } else {
    for (const group of context.store.groupsOfType('symmetricKey')) {
      candidates.push({
        enrollment: group,
        primaryKey: deriveDeviceKey(group.attestation.primaryKey, registrationId),
        secondaryKey: deriveDeviceKey(group.attestation.secondaryKey, registrationId),
      });
    }
  }
  if (candidates.length === 0) return unauthorized(registrationId, idScope, 'no enrollment matches this registration id');

  const keys = candidates.flatMap((c) => [c.primaryKey, c.secondaryKey]);
  const verdict = verifySasToken(token, { keys, resource, keyName: 'registration', nowMs: context.nowMs });
  if (!verdict.ok) return refuse(verdict.reason === 'expired' ? 5 : 4, verdict.message);
  const match = candidates[Math.floor(verdict.keyIndex / 2)];
  return {
    kind: 'accept',
    registrationId,
    idScope,
    attested: { enrollment: match.enrollment, method: 'symmetricKey', deviceKeys: { primaryKey: match.primaryKey, secondaryKey: match.secondaryKey } },
  };
}

function decideX509(
  certificates: X509Certificate[],
  registrationId: string,
  idScope: string,
  context: { idScope: string; store: EnrollmentStore; nowMs: number },
): ConnectDecision {
  const leaf = certificates[0];
  const cn = commonName(leaf);
  if (cn === undefined || cn.toLowerCase() !== registrationId.toLowerCase()) {
    return refuse(4, 'the client certificate CN must be the registration id');
  }
  if (idScope !== context.idScope) return unauthorized(registrationId, idScope, `id scope ${idScope} is not this DPS's`);

  const individual = context.store.getIndividual(registrationId);
  if (individual) {
    if (individual.attestation.type !== 'x509') {
      return unauthorized(registrationId, idScope, 'the individual enrollment uses a symmetric key, not X.509');
    }
    const { primaryThumbprint, secondaryThumbprint } = individual.attestation;
    if (!matchesThumbprint(leaf, [primaryThumbprint, secondaryThumbprint])) {
      return refuse(4, 'the client certificate thumbprint matches neither enrollment thumbprint');
    }
    const thumbprints = secondaryThumbprint === undefined ? { primary: primaryThumbprint } : { primary: primaryThumbprint, secondary: secondaryThumbprint };
    return { kind: 'accept', registrationId, idScope, attested: { enrollment: individual, method: 'x509', thumbprints } };
  }

  const groups = context.store.groupsOfType('x509-ca');
  if (groups.length === 0) return unauthorized(registrationId, idScope, 'no enrollment matches this registration id');
  let lastFailure = 'certificate is not signed by any enrollment group CA';
  for (const group of groups) {
    const check = chainsTo(certificates, new X509Certificate(group.attestation.caCertPem), context.nowMs);
    if (check.ok) {
      return { kind: 'accept', registrationId, idScope, attested: { enrollment: group, method: 'x509-ca', caCertPem: group.attestation.caCertPem } };
    }
    lastFailure = check.message;
  }
  return refuse(4, lastFailure);
}
