// Shared set-up for the hub tests: an in-memory emulator on an ephemeral port, SAS tokens, raw clients.
import { Emulator } from '../../emulator/src/emulator';
import { createSasToken } from '../../emulator/src/sas-verify';
import { createTlsMaterial, type TlsMaterial } from '../../emulator/src/tls-material';
import type { FaultEvent } from '../../emulator/src/hub/faults';
import { RawMqttClient } from '../helpers/raw-mqtt';

let sharedTls: TlsMaterial | undefined;

/** One CA and server certificate for the whole test file (RSA key generation is the slow part). */
export function testTls(): TlsMaterial {
  sharedTls ??= createTlsMaterial();
  return sharedTls;
}

export async function startTestEmulator(): Promise<Emulator> {
  return Emulator.start({ persist: false, dps: false, tls: testTls() });
}

export const KEY_A = Buffer.alloc(32, 1).toString('base64');
export const KEY_B = Buffer.alloc(32, 2).toString('base64');

export function addSasDevice(emulator: Emulator, deviceId: string): void {
  emulator.registry.upsertDevice({ deviceId, auth: { type: 'sas', primaryKey: KEY_A, secondaryKey: KEY_B } });
}

export function sasFor(emulator: Emulator, deviceId: string, options: { moduleId?: string; key?: string; expiry?: number; host?: string } = {}): string {
  const host = options.host ?? emulator.hubHostName;
  const resource = options.moduleId ? `${host}/devices/${deviceId}/modules/${options.moduleId}` : `${host}/devices/${deviceId}`;
  return createSasToken({ key: options.key ?? KEY_A, resource, expiry: options.expiry ?? Math.floor(Date.now() / 1000) + 3600 });
}

export function usernameFor(emulator: Emulator, clientId: string): string {
  return `${emulator.hubHostName}/${clientId}/?api-version=2021-04-12`;
}

export function openRaw(emulator: Emulator): Promise<RawMqttClient> {
  return RawMqttClient.connect({ port: emulator.hubPort, ca: emulator.caPem });
}

/** A raw client connected (CONNACK 0) as a SAS device. */
export async function connectDevice(
  emulator: Emulator,
  deviceId: string,
  options: { clean?: boolean; keepalive?: number; subscribe?: string[] } = {},
): Promise<RawMqttClient> {
  const client = await openRaw(emulator);
  const connack = await client.mqttConnect({
    clientId: deviceId,
    username: usernameFor(emulator, deviceId),
    password: sasFor(emulator, deviceId),
    clean: options.clean ?? false,
    keepalive: options.keepalive ?? 60,
  });
  if (connack.returnCode !== 0) throw new Error(`CONNACK ${connack.returnCode}`);
  if (options.subscribe?.length) await client.subscribe(options.subscribe.map((topic) => ({ topic, qos: 1 })));
  return client;
}

/** A fresh emulator per test with one SAS device, and the raw clients a test opened as that device. */
export interface SasDeviceTestBed {
  /** The running test's emulator (set by the bed's beforeEach). */
  readonly emulator: Emulator;
  /** The fault events the running test's emulator reported, in order. */
  readonly faults: FaultEvent[];
  /** A raw client connected as the device (CONNACK 0), closed after the test. */
  connect(options?: { clean?: boolean; subscribe?: string[] }): Promise<RawMqttClient>;
  /** The CONNACK return code a new connection as the device gets (-1 when it has none); closed after the test. */
  connackCode(): Promise<number>;
}

/**
 * Registers the hooks: before each test an emulator with `deviceId` as a SAS device; after it every client the
 * bed opened is closed, then the emulator is stopped. Call at the top of a test file.
 */
export function sasDeviceEachTest(deviceId: string): SasDeviceTestBed {
  let emulator: Emulator | undefined;
  let faults: FaultEvent[] = [];
  const open: RawMqttClient[] = [];
  const current = (): Emulator => {
    if (!emulator) throw new Error('no emulator outside a test');
    return emulator;
  };
  beforeEach(async () => {
    emulator = await startTestEmulator();
    addSasDevice(emulator, deviceId);
    const seen: FaultEvent[] = [];
    faults = seen;
    emulator.on('fault', (event) => seen.push(event));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await emulator?.stop();
    emulator = undefined;
  });
  return {
    get emulator() {
      return current();
    },
    get faults() {
      return faults;
    },
    async connect(options = {}) {
      const client = await connectDevice(current(), deviceId, options);
      open.push(client);
      return client;
    },
    async connackCode() {
      const client = await openRaw(current());
      open.push(client);
      const connack = await client.mqttConnect({ clientId: deviceId, username: usernameFor(current(), deviceId), password: sasFor(current(), deviceId) });
      return connack.returnCode ?? -1;
    },
  };
}
