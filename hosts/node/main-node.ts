// The firmware on Node: configuration from a JSON file and/or flags, the Node host (TLS, timers, file or memory
// store), the default roots from certs/ plus any extra CA (a local emulator's), then src/main.ts. SIGINT and
// SIGTERM close everything in order and exit 0, also under `npm run device` (the same Ctrl-C relayed by npm is
// not a second one: hosts/node/stop-signals.ts); `reboot` restarts the firmware object in place.
//
//   npx tsx hosts/node/main-node.ts --config device.json
//   npx tsx hosts/node/main-node.ts --id-scope 0ne00000001 --registration-id dev-1 --group-key ... \
//       --dps-endpoint localhost:8884 --ca .emulator-state/ca.cert.pem --store ./device-store.bin

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { HostPorts, LogLevel } from '../../src/ports';
import { TelemetryJournal } from '../../src/storage/telemetry-journal';
import { journaling } from '../../src/hub/journal-sender';
import { profileHubSettings, resolveDeviceProfile, type DeviceProfile } from '../../src/device-profile';
import { Firmware, FIRMWARE_VERSION, type FirmwareState, type PlatformHooks } from '../../src/main';
import { fotaModule } from '../../src/fota/fota-module';
import { TrustBundles } from '../../src/fota/trust-bundle';
import { looksLikePem, parsePem } from '../../src/trust/pem';
import { readCertificateInfo } from '../../src/trust/x509-validity';
import { loadDefaultRoots } from './default-roots';
import { FileSlot } from './file-slot';
import { FileStore } from './file-store';
import { webSocketTransport } from '../../src/ws/ws-transport';
import { createNodeHost } from './index';
import { createMemoryStore } from './memory-store';
import { createNodeLogger } from './node-logger';
import { handleStopSignals } from './stop-signals';
import { createDeviceSerialPort, createTcpSerialPort } from './serial-ports';
import { SlmModem } from '../../src/modem/modem-transport';
import type { SerialPortFactory } from '../../src/ports';

export const USAGE = `usage: main-node [--config FILE] [options]

  --config FILE             JSON object with any of the settings below (camelCase names, e.g. "idScope");
                            flags given as well win over the file
  --connection-string TEXT  a device connection string (fixed hub)
  --id-scope S              DPS ID scope; with --registration-id and one of:
  --registration-id R
  --symmetric-key BASE64    individual enrollment key
  --group-key BASE64        group enrollment key (the device key is derived from it)
  --security-tag N          X.509: certificate and key from security tag N of the store
  --dps-endpoint HOST[:PORT] default global.azure-devices-provisioning.net
  --hub-endpoint HOST[:PORT] open TLS here instead of the hub's own name (a local emulator)
  --transport KIND          mqtt (8883, default) or mqtt-ws (MQTT over WebSockets, 443)
  --ws-fallback-after N     failed attempts in a row before the other transport is tried (default 3; 0 never)
  --hub-ws-endpoint HOST[:PORT] / --dps-ws-endpoint HOST[:PORT]  WebSockets here instead of the name on 443
  --ca FILE                 an extra trusted CA, PEM or DER (repeatable), e.g. .emulator-state/ca.cert.pem
  --store FILE              keep the device store (assignment, tags) in FILE; in memory when omitted
  --interval-ms N           telemetry interval (default 10000)
  --model-id DTMI           IoT Plug and Play model id
  --log-level LEVEL         debug, info (default), warn or error
  --seed N                  seed of the simulated sensor
  --device-profile NAME     memory budgets: desktop (default) or esp32 (src/device-profile.ts)
  --max-packet-bytes N      largest packet taken from the hub; a bigger message is skipped and reported
  --max-pending-telemetry-bytes N  telemetry waiting or in flight, in bytes; beyond it sends get queue-full
  --modem-tcp HOST:PORT     reach Azure through an nRF91 Serial LTE Modem at this TCP stand-in for its UART (the
                            modem emulator); TLS is the modem's, X.509 keys stay in its tag (--security-tag N)
  --modem-device PATH       the same over a serial device (/dev/ttyACM0; stty -F PATH 115200 raw -echo first)
  --fota-key FILE           a vendor public key (from 'npm run iot-store -- fota keygen'; repeat for the second
                            slot): turns on firmware updates from the twin's desired \`firmware\`; needs --store,
                            the image goes to FILE.slot beside it (docs/fota.md)
  --journal-bytes N         telemetry kept until the hub acknowledges it, across restarts, in FILE.journal
                            (default 262144; 0 = RAM only; without --store the journal is in memory)

  Without an identity the store's configuration (written by 'npm run iot-store -- config set') is used.
  Keys given as flags are visible to other users of this machine (ps): prefer --config with a 0600 file.
  A --store file that cannot be read (damaged, or not a store) reads as empty and is kept aside, byte for byte,
  as FILE.unreadable-<UTC time> before the first write; the device then provisions again.
  Exit codes: 0 stopped by SIGINT/SIGTERM (also under npm run device), 1 the firmware failed, 2 bad flags or
  configuration (any field: named, its value never shown), 130 a second Ctrl-C a second or more after the first
  while stopping.`;

const OPTIONS = {
  config: { type: 'string' },
  'connection-string': { type: 'string' },
  'id-scope': { type: 'string' },
  'registration-id': { type: 'string' },
  'symmetric-key': { type: 'string' },
  'group-key': { type: 'string' },
  'security-tag': { type: 'string' },
  'dps-endpoint': { type: 'string' },
  'hub-endpoint': { type: 'string' },
  transport: { type: 'string' },
  'ws-fallback-after': { type: 'string' },
  'hub-ws-endpoint': { type: 'string' },
  'dps-ws-endpoint': { type: 'string' },
  ca: { type: 'string', multiple: true },
  store: { type: 'string' },
  'interval-ms': { type: 'string' },
  'model-id': { type: 'string' },
  'log-level': { type: 'string' },
  seed: { type: 'string' },
  'device-profile': { type: 'string' },
  'max-packet-bytes': { type: 'string' },
  'max-pending-telemetry-bytes': { type: 'string' },
  'modem-tcp': { type: 'string' },
  'modem-device': { type: 'string' },
  'fota-key': { type: 'string', multiple: true },
  'journal-bytes': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flag name -> configuration field, and whether the value is a number. */
const FLAG_FIELDS: ReadonlyArray<[keyof typeof OPTIONS, string, boolean]> = [
  ['connection-string', 'connectionString', false],
  ['id-scope', 'idScope', false],
  ['registration-id', 'registrationId', false],
  ['symmetric-key', 'symmetricKey', false],
  ['group-key', 'groupKey', false],
  ['security-tag', 'securityTag', true],
  ['dps-endpoint', 'dpsEndpoint', false],
  ['hub-endpoint', 'hubEndpoint', false],
  ['transport', 'transport', false],
  ['ws-fallback-after', 'wsFallbackAfter', true],
  ['hub-ws-endpoint', 'hubWsEndpoint', false],
  ['dps-ws-endpoint', 'dpsWsEndpoint', false],
  ['interval-ms', 'telemetryIntervalMs', true],
  ['model-id', 'modelId', false],
  ['log-level', 'logLevel', false],
  ['seed', 'sensorSeed', true],
  ['device-profile', 'deviceProfile', false],
  ['max-packet-bytes', 'maxIncomingPacketBytes', true],
  ['max-pending-telemetry-bytes', 'maxPendingTelemetryBytes', true],
  ['modem-tcp', 'modemTcp', false],
  ['modem-device', 'modemDevice', false],
  ['journal-bytes', 'telemetryJournalBytes', true],
];

export class NodeEntryError extends Error {
  override readonly name = 'NodeEntryError';
}

export interface NodeSettings {
  /** The firmware configuration (checked by src/app/config.ts, not here). */
  config: Record<string, unknown>;
  caFiles: string[];
  storePath?: string;
  /** Vendor public key files: FOTA on (src/fota). */
  fotaKeyFiles?: string[];
  help: boolean;
}

/** Whole numbers become numbers; anything else stays text so the configuration check names the field. */
function numeric(text: string): number | string {
  return /^-?[0-9]+$/.test(text) ? Number(text) : text;
}

/** Flags and the optional config file merged (flags win). Throws NodeEntryError for unusable input. */
export function readNodeSettings(argv: string[]): NodeSettings {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (error) {
    throw new NodeEntryError((error as Error).message);
  }
  const values = parsed.values;
  if (values.help) return { config: {}, caFiles: [], help: true };

  let config: Record<string, unknown> = {};
  let caFiles: string[] = [];
  let storePath: string | undefined;
  if (values.config !== undefined) {
    const file = readConfigFile(values.config);
    config = file.config;
    caFiles = file.caFiles;
    storePath = file.storePath;
  }
  for (const [flag, field, isNumber] of FLAG_FIELDS) {
    const value = values[flag];
    if (typeof value === 'string') config[field] = isNumber ? numeric(value) : value;
  }
  if (values.ca !== undefined) caFiles = [...caFiles, ...values.ca.map((f) => resolve(f))];
  if (values.store !== undefined) storePath = resolve(values.store);
  const fotaKeyFiles = (values['fota-key'] ?? []).map((f) => resolve(f));
  if (fotaKeyFiles.length > 2) throw new NodeEntryError('--fota-key: at most two key slots');
  if (fotaKeyFiles.length > 0 && storePath === undefined) throw new NodeEntryError('--fota-key needs --store (the update slot is a file beside it)');
  const settings: NodeSettings = { config, caFiles, help: false };
  if (storePath !== undefined) settings.storePath = storePath;
  if (fotaKeyFiles.length > 0) settings.fotaKeyFiles = fotaKeyFiles;
  return settings;
}

/**
 * A JSON object of firmware settings; `ca` (a path or a list) and `store` (a path) are Node-only and resolved
 * against the file's folder.
 */
export function readConfigFile(path: string): { config: Record<string, unknown>; caFiles: string[]; storePath?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new NodeEntryError(`--config ${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse messages can quote the text, which may hold keys.
    throw new NodeEntryError(`--config ${path}: not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new NodeEntryError(`--config ${path}: must hold a JSON object`);
  const { ca, store, ...config } = value as Record<string, unknown>;
  const base = dirname(resolve(path));
  const list = ca === undefined ? [] : Array.isArray(ca) ? ca : [ca];
  if (list.some((entry) => typeof entry !== 'string')) throw new NodeEntryError(`--config ${path}: "ca" must be a path or a list of paths`);
  if (store !== undefined && typeof store !== 'string') throw new NodeEntryError(`--config ${path}: "store" must be a path`);
  const result: { config: Record<string, unknown>; caFiles: string[]; storePath?: string } = {
    config,
    caFiles: (list as string[]).map((entry) => resolve(base, entry)),
  };
  if (store !== undefined) result.storePath = resolve(base, store);
  return result;
}

/** Every certificate of a PEM file, or the one of a DER file. */
export function readCaFile(path: string): Uint8Array[] {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new NodeEntryError(`--ca ${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let ders = [bytes];
  if (looksLikePem(bytes)) {
    const pem = parsePem(Buffer.from(bytes).toString('latin1'));
    if (!pem.ok) throw new NodeEntryError(`--ca ${path}: ${pem.error}`);
    ders = pem.value.filter((b) => b.label === 'CERTIFICATE').map((b) => b.der);
    if (ders.length === 0) throw new NodeEntryError(`--ca ${path}: holds no CERTIFICATE block`);
  }
  for (const der of ders) {
    const read = readCertificateInfo(der);
    if (!read.ok) throw new NodeEntryError(`--ca ${path}: not an X.509 certificate (${read.error.message})`);
  }
  return ders;
}

export interface NodeFirmwareOptions {
  config: Record<string, unknown>;
  extraCAs?: Uint8Array[];
  /** File store path; an in-memory store when omitted (nothing survives the process). */
  storePath?: string;
  logger?: { prefix?: string; write?: (line: string) => void; timestamps?: boolean };
  hubClient?: PlatformHooks['hubClient'];
  /** Firmware updates: vendor public keys (one or two slots) and the fragment buffer's size; needs storePath. */
  fota?: { keys: Uint8Array[]; maxFragmentBytes: number; maxTrustBundleBytes?: number };
  /** Keeps telemetry on flash until acknowledged, in `<storePath>.journal` (in memory without a store path); 0 = RAM only. */
  journalBytes?: number;
}

/** A vendor public key file: 32 bytes in base64 (what `iot-store fota keygen` writes). */
export function readFotaKey(path: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    throw new NodeEntryError(`--fota-key ${path}: cannot read it`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== text) throw new NodeEntryError(`--fota-key ${path}: not an Ed25519 public key (32 bytes in base64)`);
  return new Uint8Array(bytes);
}

export interface NodeFirmware {
  readonly firmware: Firmware;
  readonly host: HostPorts;
  /** Resolves once booted: 'running' or 'failed'. */
  readonly started: Promise<FirmwareState>;
  stop(): Promise<void>;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Builds the Node host and starts the firmware on it. */
export function startNodeFirmware(options: NodeFirmwareOptions): NodeFirmware {
  const level = options.config['logLevel'];
  const logLevel = LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info';
  const logger = createNodeLogger({ ...(options.logger ?? {}), minLevel: logLevel });
  const store = options.storePath === undefined ? createMemoryStore() : new FileStore({ path: options.storePath, logger });
  const host = createNodeHost({ store, logLevel, logger: options.logger ?? {} });
  const platform: PlatformHooks = { hostKind: 'node', defaultRoots: loadDefaultRoots(), extraCAs: options.extraCAs ?? [], webSocket: webSocketTransport };
  if (options.hubClient !== undefined) platform.hubClient = options.hubClient;
  const modem = modemFor(options.config, host);
  if (modem !== undefined) platform.keysInModem = true;
  if (options.journalBytes !== undefined && options.journalBytes > 0) {
    const journalStore = options.storePath === undefined ? createMemoryStore() : new FileStore({ path: `${options.storePath}.journal`, logger });
    platform.journal = journaling(new TelemetryJournal({
      store: journalStore,
      budgetBytes: options.journalBytes,
      newId: () => new DataView(host.crypto.randomBytes(4).buffer).getUint32(0),
      unixSeconds: () => {
        const ms = host.clock.unixMs();
        return ms === undefined ? undefined : ms / 1000;
      },
      log: (level, message) => logger.log(level, message),
    }));
  }
  let booting: (() => void) | undefined;
  if (options.fota !== undefined && options.storePath !== undefined) {
    // The update slot beside the store; each boot asks it what runs (a new image is on trial until it confirms).
    const slot = new FileSlot(options.storePath, FIRMWARE_VERSION);
    let running = FIRMWARE_VERSION;
    booting = () => {
      running = slot.startVersion();
    };
    // Signed root-certificate updates: bundles kept in the store beside the built-in certs/ roots.
    const trust = new TrustBundles({ store, maxBytes: options.fota.maxTrustBundleBytes ?? 16 * 1024, log: (message) => host.logger.log('info', `fota: ${message}`) });
    platform.modules = [fotaModule({ slot, keys: [options.fota.keys[0], options.fota.keys[1]], runningVersion: () => running, maxFragmentBytes: options.fota.maxFragmentBytes, trust })];
    platform.firmwareVersion = () => running;
  }
  const firmware = new Firmware(host, options.config, platform);
  if (booting !== undefined) {
    const onBoot = booting;
    firmware.on('state', ({ state }) => {
      if (state === 'waiting-for-clock') onBoot();
    });
  }
  modem?.start();
  const started = firmware.start();
  return {
    firmware,
    host,
    started,
    stop: async () => {
      await firmware.stop();
      modem?.stop();
    },
  };
}

/** The nRF91 modem named by modemTcp or modemDevice, put in place of node:tls; undefined without one. */
function modemFor(config: Record<string, unknown>, host: HostPorts): SlmModem | undefined {
  const tcp = config['modemTcp'];
  const device = config['modemDevice'];
  if (tcp === undefined && device === undefined) return undefined;
  let serial: SerialPortFactory;
  if (typeof device === 'string' && tcp === undefined) serial = createDeviceSerialPort(device);
  else {
    const match = typeof tcp === 'string' && device === undefined ? /^([^:]+):([0-9]{1,5})$/.exec(tcp) : null;
    if (match === null) throw new NodeEntryError('give the modem as --modem-tcp HOST:PORT or --modem-device PATH, not both');
    serial = createTcpSerialPort(match[1]!, Number(match[2]));
  }
  const tag = config['securityTag'];
  const modem = new SlmModem(serial, host.timers, { tags: { primary: typeof tag === 'number' ? tag : 0 } }, (m) => host.logger.log('error', `modem: ${m}`));
  modem.on('registration', (r) => host.logger.log('info', `modem: LTE ${r.registered ? 'registered' : 'not registered'} (+CEREG: ${r.stat})`));
  modem.on('signal', (s) => host.logger.log('info', `modem: RSRP ${s.rsrpDbm} dBm`));
  modem.on('refused', (r) => host.logger.log('warn', `modem: refused UART input (${r.reason})`));
  host.transport = modem.transportFactory();
  return modem;
}

export interface NodeMainIo {
  stdout(line: string): void;
  stderr(line: string): void;
  /** Where firmware log lines go; stderr by default. */
  log?: (line: string) => void;
}

const PROCESS_IO: NodeMainIo = {
  stdout: (line) => void process.stdout.write(`${line}\n`),
  stderr: (line) => void process.stderr.write(`${line}\n`),
};

/** The command line: resolves with the exit code once stopped by a signal, or at once when booting fails. */
export async function runNodeMain(argv: string[], io: NodeMainIo = PROCESS_IO): Promise<number> {
  let settings: NodeSettings;
  let extraCAs: Uint8Array[];
  let profile: DeviceProfile;
  let fotaKeys: Uint8Array[];
  try {
    settings = readNodeSettings(argv);
    if (settings.help) {
      io.stdout(USAGE);
      return 0;
    }
    extraCAs = settings.caFiles.flatMap(readCaFile);
    fotaKeys = (settings.fotaKeyFiles ?? []).map(readFotaKey);
    const resolved = resolveDeviceProfile('node', settings.config);
    if (!resolved.ok) throw new NodeEntryError(resolved.error);
    profile = resolved.value;
  } catch (error) {
    io.stderr(`main-node: ${(error as Error).message}`);
    io.stderr('(--help for usage)');
    return 2;
  }

  const options: NodeFirmwareOptions = { config: settings.config, extraCAs, logger: { timestamps: true, ...(io.log ? { write: io.log } : {}) } };
  if (settings.storePath !== undefined) options.storePath = settings.storePath;
  options.hubClient = profileHubSettings(profile);
  if (fotaKeys.length > 0) {
    options.fota = { keys: fotaKeys, maxFragmentBytes: Math.min(profile.maxC2dPayloadBytes, 64 * 1024), maxTrustBundleBytes: Math.min(profile.maxC2dPayloadBytes, 16 * 1024) };
  }
  options.journalBytes = profile.telemetryJournalBytes;
  let node: NodeFirmware;
  try {
    node = startNodeFirmware(options);
  } catch (error) {
    if (!(error instanceof NodeEntryError)) throw error;
    io.stderr(`main-node: ${error.message}`);
    return 2;
  }

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const dispose = handleStopSignals({
      stop: (signal) => {
        if (stopping) return;
        stopping = true;
        io.stderr(`main-node: ${signal} received, stopping`);
        void node.stop().then(() => {
          dispose();
          resolveExit(0);
        });
      },
      force: (signal) => {
        io.stderr(`main-node: ${signal} again, exiting without waiting`);
        process.exit(130);
      },
    });
    void node.started.then((state) => {
      if (state !== 'failed' || stopping) return;
      // A device would wait for a new configuration; a command line says what is wrong and ends.
      stopping = true;
      const configError = node.firmware.failure?.startsWith('configuration error') ?? false;
      void node.stop().then(() => {
        dispose();
        resolveExit(configError ? 2 : 1);
      });
    });
  });
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  void runNodeMain(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // A relayed copy of the Ctrl-C that stopped us may still arrive: it must not turn exit 0 into death by SIGINT.
    process.on('SIGINT', () => {});
    process.on('SIGTERM', () => {});
    // Sockets close within their grace period; anything still open after that must not keep us alive.
    setTimeout(() => process.exit(code), 3000).unref();
  });
}
