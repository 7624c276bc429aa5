// DPS on top of the hub side's raw MQTT client (tests/helpers/raw-mqtt.ts): CONNECT with a DPS identity,
// request/response on the DPS topics, SAS tokens, and a test bed with a DPS server on an ephemeral port.
import type mqttPacket from 'mqtt-packet';
import { RawMqttClient } from './raw-mqtt';
import { createSasToken } from '../../emulator/src/sas-verify';
import { createCa, issueServerCertificate, type KeyAndCert } from '../../emulator/src/pki';
import { Registry } from '../../emulator/src/registry';
import { startDpsServer, type DpsServer, type DpsServerOptions } from '../../emulator/src/dps/dps-server';

export interface ReceivedPublish {
  topic: string;
  body: string;
  qos: number;
  messageId?: number;
}

/** A device's view of DPS: thin request/response helpers over a raw client. */
export class DpsRawClient {
  constructor(readonly raw: RawMqttClient) {}

  get received(): mqttPacket.Packet[] {
    return this.raw.received;
  }

  get closed(): boolean {
    return !this.raw.isOpen;
  }

  send(packet: mqttPacket.Packet): void {
    this.raw.send(packet);
  }

  next(match: (p: mqttPacket.Packet) => boolean, timeoutMs = 3000): Promise<mqttPacket.Packet> {
    return this.raw.next(match, timeoutMs);
  }

  /** CONNECT (clean session, as DPS wants) and the CONNACK return code. */
  async connect(clientId: string, username: string, password?: string, keepalive = 60): Promise<number> {
    const connack = await this.raw.mqttConnect({ clientId, username, password, clean: true, keepalive });
    return connack.returnCode ?? -1;
  }

  subscribe(topic: string, qos: 0 | 1 | 2 = 1): Promise<number[]> {
    return this.raw.subscribe([{ topic, qos }]);
  }

  publish(topic: string, body: string, qos: 0 | 1 | 2 = 1): void {
    this.raw.publish(topic, body, qos);
  }

  /** Publishes and resolves with the next response PUBLISH from the server. */
  async request(topic: string, body: string, qos: 0 | 1 | 2 = 1): Promise<ReceivedPublish> {
    this.publish(topic, body, qos);
    return toReceived((await this.raw.next('publish')) as mqttPacket.IPublishPacket);
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    await this.raw.waitClosed(timeoutMs);
  }

  end(): Promise<void> {
    return this.raw.close();
  }
}

export function toReceived(packet: mqttPacket.IPublishPacket): ReceivedPublish {
  const out: ReceivedPublish = { topic: packet.topic, body: Buffer.from(packet.payload).toString('utf8'), qos: packet.qos };
  if (packet.messageId !== undefined) out.messageId = packet.messageId;
  return out;
}

export function dpsUsername(idScope: string, registrationId: string): string {
  return `${idScope}/registrations/${registrationId}/api-version=2019-03-31`;
}

/** A DPS SAS token (`skn=registration`) valid for an hour unless `expiry` (Unix seconds) is given. */
export function dpsSasToken(idScope: string, registrationId: string, key: string, expiry = Math.floor(Date.now() / 1000) + 3600): string {
  return createSasToken({ key, resource: `${idScope}/registrations/${registrationId}`, expiry, keyName: 'registration' });
}

export const REGISTER_TOPIC = (rid: string | number): string => `$dps/registrations/PUT/iotdps-register/?$rid=${rid}`;
export const POLL_TOPIC = (rid: string | number, operationId: string): string =>
  `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${rid}&operationId=${operationId}`;

export interface DpsTestBed {
  ca: KeyAndCert;
  registry: Registry;
  dps: DpsServer;
  logs: string[];
  open(options?: { cert?: string; key?: string }): Promise<DpsRawClient>;
  /** Opens, CONNECTs with a SAS for `key`, subscribes to the response filter; throws unless accepted. */
  connectSas(registrationId: string, key: string, idScope?: string): Promise<DpsRawClient>;
  close(): Promise<void>;
}

/** One CA and server certificate per test file (RSA key generation is the slow part). */
export function testPki(): { ca: KeyAndCert; server: KeyAndCert } {
  const ca = createCa('DPS Test Root');
  return { ca, server: issueServerCertificate(ca) };
}

export async function startDpsTestBed(
  pki: { ca: KeyAndCert; server: KeyAndCert },
  overrides: Partial<DpsServerOptions> = {},
): Promise<DpsTestBed> {
  const registry = new Registry();
  const logs: string[] = [];
  const dps = await startDpsServer({
    host: '127.0.0.1',
    port: 0,
    tls: { key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.ca.certPem },
    registry,
    hubHostName: 'localhost:8883',
    log: (level, message) => logs.push(`${level} ${message}`),
    ...overrides,
  });
  const clients: DpsRawClient[] = [];
  const open = async (options: { cert?: string; key?: string } = {}): Promise<DpsRawClient> => {
    const client = new DpsRawClient(await RawMqttClient.connect({ port: dps.port, ca: pki.ca.certPem, ...options }));
    clients.push(client);
    return client;
  };
  return {
    ca: pki.ca,
    registry,
    dps,
    logs,
    open,
    async connectSas(registrationId, key, idScope = dps.idScope) {
      const client = await open();
      const code = await client.connect(registrationId, dpsUsername(idScope, registrationId), dpsSasToken(idScope, registrationId, key));
      if (code !== 0) throw new Error(`CONNACK ${code}`);
      await client.subscribe('$dps/registrations/res/#', 1);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.end()));
      await dps.close();
    },
  };
}
