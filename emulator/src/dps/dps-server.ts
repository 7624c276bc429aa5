// The local Device Provisioning Service: MQTT over TLS on one port, enrollments in memory, assignments
// written into the emulator's hub registry so the provisioned device can connect to the hub right after.
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { DeviceAuth } from '../registry';
import { decideConnect } from './attestation';
import { DpsConnection, type DpsLog } from './dps-connection';
import { dpsResponseTopic, type DpsRequest } from './dps-topics';
import { EnrollmentStore } from './enrollment-store';
import { DpsFaults, finalAnswerBody } from './faults';
import { RegistrationService, errorBody, type Assignment, type DpsResponse, type RegistrationRecord } from './registration-service';

export const DEFAULT_ID_SCOPE = '0ne00000001';

/** The part of the hub registry the DPS needs (emulator/src/registry.ts `Registry` satisfies it). */
export interface DpsRegistryPort {
  upsertDevice(input: { deviceId: string; auth: DeviceAuth }): unknown;
  /** Optional: lets X.509 CA group devices authenticate at the hub with the group's CA. */
  listCertificateAuthorities?(): { certPem: string }[];
  addCertificateAuthority?(name: string, certPem: string): unknown;
}

export interface DpsServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** PEM strings: the server's key and certificate, and the CA chain sent with it. */
  tls: { key: string; cert: string; ca?: string | string[] };
  registry: DpsRegistryPort;
  /** Host name put in `assignedHub`, e.g. `localhost:8883`... as the device must dial it. */
  hubHostName: string;
  /** Default `0ne00000001`. */
  idScope?: string;
  log?: DpsLog;
  /** Clock for SAS expiry and timestamps (tests). */
  nowMs?: () => number;
}

export interface DpsRequestEvent {
  registrationId: string;
  kind: DpsRequest['kind'];
  rid: string;
  operationId?: string;
  /** Status answered, or `dropped` for an injected connection drop. */
  status: number | 'dropped';
  retryAfterSeconds?: number;
  atMs: number;
}

export interface DpsConnectionEvent {
  registrationId?: string;
  outcome: 'accepted' | 'refused';
  returnCode: number;
  reason?: string;
}

export interface DpsAssignedEvent extends Omit<Assignment, 'attested'> {
  enrollment: RegistrationRecord['enrollment'];
}

interface DpsEvents {
  connection: DpsConnectionEvent;
  request: DpsRequestEvent;
  assigned: DpsAssignedEvent;
}

export interface DpsServer {
  readonly host: string;
  readonly port: number;
  readonly idScope: string;
  readonly hubHostName: string;
  /** `host:port` as a device (or the Azure SDK's `provisioningHost`) dials it. */
  readonly endpoint: string;
  readonly enrollments: EnrollmentStore;
  readonly faults: DpsFaults;
  registrations(): RegistrationRecord[];
  getRegistration(registrationId: string): RegistrationRecord | undefined;
  deleteRegistration(registrationId: string): boolean;
  connectionCount(): number;
  /** Takes an MQTT byte stream from another front (MQTT over WebSockets) as if from the MQTT port. */
  acceptSocket(socket: TLSSocket): void;
  /** While blocked, the MQTT port resets every new connection (a network that lets out only 443). */
  blockMqttPort(blocked: boolean): void;
  on<K extends keyof DpsEvents>(event: K, listener: (payload: DpsEvents[K]) => void): () => void;
  close(): Promise<void>;
}

function toRegistryAuth(assignment: Assignment): DeviceAuth {
  const attested = assignment.attested;
  switch (attested.method) {
    case 'symmetricKey':
      return { type: 'sas', primaryKey: attested.deviceKeys.primaryKey, secondaryKey: attested.deviceKeys.secondaryKey };
    case 'x509':
      return attested.thumbprints.secondary === undefined
        ? { type: 'x509-thumbprint', primaryThumbprint: attested.thumbprints.primary }
        : { type: 'x509-thumbprint', primaryThumbprint: attested.thumbprints.primary, secondaryThumbprint: attested.thumbprints.secondary };
    case 'x509-ca':
      return { type: 'x509-ca' };
  }
}

function normalizePem(pem: string): string {
  return pem.replace(/\s+/g, '');
}

export async function startDpsServer(options: DpsServerOptions): Promise<DpsServer> {
  const host = options.host ?? '127.0.0.1';
  const idScope = options.idScope ?? DEFAULT_ID_SCOPE;
  const log: DpsLog = options.log ?? (() => {});
  const nowMs = options.nowMs ?? Date.now;
  const store = new EnrollmentStore();
  const faults = new DpsFaults();
  const emitter = new EventEmitter();
  const connections = new Set<DpsConnection>();
  const byRegistrationId = new Map<string, DpsConnection>();

  const emit = <K extends keyof DpsEvents>(event: K, payload: DpsEvents[K]): void => {
    try {
      emitter.emit(event, payload);
    } catch (error) {
      log('error', `DPS: a ${event} listener threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const service = new RegistrationService({
    store,
    hubHostName: options.hubHostName,
    nowMs,
    assign(assignment) {
      options.registry.upsertDevice({ deviceId: assignment.deviceId, auth: toRegistryAuth(assignment) });
      const attested = assignment.attested;
      if (attested.method === 'x509-ca' && options.registry.addCertificateAuthority) {
        const known = options.registry.listCertificateAuthorities?.() ?? [];
        if (!known.some((ca) => normalizePem(ca.certPem) === normalizePem(attested.caCertPem))) {
          options.registry.addCertificateAuthority(`dps-group-${attested.enrollment.enrollmentGroupId}`, attested.caCertPem);
        }
      }
      const e = attested.enrollment;
      const { attested: _omit, ...rest } = assignment;
      emit('assigned', {
        ...rest,
        enrollment: e.kind === 'individual' ? { kind: 'individual', registrationId: e.registrationId } : { kind: 'group', enrollmentGroupId: e.enrollmentGroupId },
      });
      log('info', `DPS: assigned ${assignment.registrationId} as ${assignment.deviceId} on ${assignment.assignedHub} (${assignment.substatus})`);
    },
  });

  const answer = (connection: DpsConnection, request: DpsRequest, response: DpsResponse): void => {
    const registrationId = connection.registrationId ?? '';
    const event: DpsRequestEvent = { registrationId, kind: request.kind, rid: request.rid, status: response.status, atMs: nowMs() };
    if (request.kind === 'poll') event.operationId = request.operationId;
    if (response.retryAfterSeconds !== undefined) event.retryAfterSeconds = response.retryAfterSeconds;
    connection.later(faults.latencyMs, () => {
      connection.respond(dpsResponseTopic(response.status, request.rid, response.retryAfterSeconds), response.body);
      emit('request', event);
    });
  };

  const onRequest = (connection: DpsConnection, request: DpsRequest, payload: Uint8Array): void => {
    const decision = connection.decision;
    if (!decision) return;
    const fault = faults.take(request.kind);
    if (fault?.type === 'drop') {
      emit('request', { registrationId: decision.registrationId, kind: request.kind, rid: request.rid, status: 'dropped', atMs: nowMs() });
      connection.close(`injected fault: drop on ${request.kind}`, 'info', true);
      return;
    }
    if (fault?.type === 'answer') {
      const response: DpsResponse = { status: fault.status, body: errorBody(fault.errorCode, fault.message, randomUUID(), new Date(nowMs()).toISOString()) };
      if (fault.retryAfterSeconds !== undefined) response.retryAfterSeconds = fault.retryAfterSeconds;
      return answer(connection, request, response);
    }
    if (fault?.type === 'final') {
      const body = finalAnswerBody(fault, { registrationId: decision.registrationId, nowIso: new Date(nowMs()).toISOString(), newId: randomUUID });
      return answer(connection, request, { status: 200, body });
    }
    if (request.rid === '') {
      const body = errorBody(400000, 'The request topic lacks $rid.', randomUUID(), new Date(nowMs()).toISOString());
      return answer(connection, request, { status: 400, body });
    }
    const session = { registrationId: decision.registrationId, attested: decision.attested, unauthorizedReason: decision.unauthorizedReason };
    let response: DpsResponse;
    if (request.kind === 'register') {
      response = service.register(session, payload);
    } else if (request.operationId === '') {
      response = { status: 400, body: errorBody(400000, 'The poll topic lacks operationId.', randomUUID(), new Date(nowMs()).toISOString()) };
    } else {
      response = service.poll(session, request.operationId);
    }
    answer(connection, request, response);
  };

  const server: Server = createServer(
    {
      key: options.tls.key,
      cert: options.tls.cert,
      ...(options.tls.ca !== undefined ? { ca: options.tls.ca } : {}),
      minVersion: 'TLSv1.2',
      // Devices may present self-signed certificates: the handshake accepts any, attestation decides.
      requestCert: true,
      rejectUnauthorized: false,
    },
    (socket: TLSSocket) => acceptSocket(socket),
  );
  let mqttBlocked = false;
  function acceptSocket(socket: TLSSocket): void {
    const connection = new DpsConnection(socket, {
      log,
      decide(credentials) {
        const decision = decideConnect(credentials, { idScope, store, nowMs: nowMs() });
        emit(
          'connection',
          decision.kind === 'accept'
            ? { registrationId: decision.registrationId, outcome: 'accepted', returnCode: 0, ...(decision.unauthorizedReason ? { reason: decision.unauthorizedReason } : {}) }
            : { registrationId: credentials.clientId, outcome: 'refused', returnCode: decision.returnCode, reason: decision.reason },
        );
        return decision;
      },
      onAccepted(accepted) {
        const key = (accepted.registrationId ?? '').toLowerCase();
        const previous = byRegistrationId.get(key);
        byRegistrationId.set(key, accepted);
        // One connection per identity, as on Azure: the newer CONNECT wins.
        if (previous && previous !== accepted) previous.close('another connection with the same registration id', 'info');
      },
      onRequest,
      onClosed(closed) {
        connections.delete(closed);
        const key = (closed.registrationId ?? '').toLowerCase();
        if (byRegistrationId.get(key) === closed) byRegistrationId.delete(key);
      },
    });
    connections.add(connection);
  }
  // Nagle's algorithm would hold small answers for the client's delayed ACK (~40 ms), which DPS does not add.
  server.on('connection', (socket) => {
    if (mqttBlocked) socket.destroy();
    else socket.setNoDelay(true);
  });
  server.on('tlsClientError', (error) => log('debug', `DPS: TLS handshake failed: ${error.message}`));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log('error', `DPS server error: ${error.message}`));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  log('info', `DPS listening on ${host}:${port}, id scope ${idScope}`);

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    idScope,
    hubHostName: options.hubHostName,
    endpoint: `${host}:${port}`,
    enrollments: store,
    faults,
    registrations: () => service.registrations(),
    getRegistration: (registrationId) => service.getRegistration(registrationId),
    deleteRegistration: (registrationId) => service.deleteRegistration(registrationId),
    connectionCount: () => connections.size,
    acceptSocket,
    blockMqttPort(blocked) {
      mqttBlocked = blocked;
    },
    on(event, listener) {
      const wrapped = listener as (payload: unknown) => void;
      emitter.on(event, wrapped);
      return () => emitter.off(event, wrapped);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const connection of [...connections]) connection.close('server closing', 'debug', true);
      });
      return closing;
    },
  };
}
