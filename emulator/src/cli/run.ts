// The emulator CLI: `start` runs the emulator in the foreground with a local control API; every other command
// talks to that running instance (or, for registry commands, edits the state folder when nothing runs).
import { join, resolve } from 'node:path';
import { Emulator } from '../emulator';
import { Registry, type DeviceAuth, type DeviceRecord } from '../registry';
import { consoleLog, LogFeed } from '../log';
import { buildExplorerScript } from '../../explorer/build';
import { startControlServer, type DeviceView } from '../control/control-server';
import { ControlClient, ControlError, readControlInfo, removeControlInfo, writeControlInfo, type ControlInfo } from '../control/control-client';
import { DPS_COMMANDS_HELP, dpsCli, type DpsEnrollmentControl } from '../dps/cli-commands';
import { intValue, keyValues, parseArgs, value, type ParsedArgs } from './args';
import type { Twin } from '../hub/twin-store';
import type { MethodResult } from '../hub/methods';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  readTextFile(path: string): string;
  /** Reads a binary file (a firmware image for `fota deploy`). */
  readFile?(path: string): Uint8Array;
  /** Calls `handler` once on Ctrl-C (SIGINT/SIGTERM); returns a function that removes it. */
  onInterrupt(handler: () => void): () => void;
}

const VALUE_OPTIONS = new Set([
  'state-dir', 'hub-port', 'dps-port', 'hub-ws-port', 'dps-ws-port', 'control-port', 'host-name',
  'primary-key', 'secondary-key', 'x509-thumbprint', 'secondary-thumbprint',
  'module', 'prop', 'message-id', 'correlation-id', 'content-type', 'timeout',
  'count', 'duration-ms', 'status', 'delay-ms', 'bytes', 'code', 'inbound-ms', 'outbound-ms', 'hold-ms', 'hold', 'after', 'max-hold-ms',
  'requests', 'operation-id', 'error-code', 'error-message', 'ms', 'manifest', 'at', 'times', 'offset',
  // DPS options, passed through to its commands
  'registration-id', 'group-id', 'thumbprint', 'cert-file', 'secondary-cert-file', 'ca-cert-file',
  'device-id', 'polls', 'retry-after', 'fail-code', 'fail-message', 'initial-twin', 'assigned-hub', 'group-key',
]);

const DPS_COMMANDS = new Set(['add-enrollment', 'remove-enrollment', 'list-enrollments', 'derive-key']);

export const HELP = `Local Azure IoT Hub + DPS emulator

usage: npx tsx emulator/src/cli.ts <command> [options]      (all commands take --state-dir DIR, default ./.emulator-state)

  start [--hub-port 8883] [--dps-port 8884] [--hub-ws-port N] [--dps-ws-port N] [--control-port 0] [--host-name NAME] [--no-dps] [--verbose|--quiet]
        run the emulator in this terminal until Ctrl-C; other commands talk to it from another terminal
        (--hub-ws-port / --dps-ws-port: also MQTT over WebSockets, wss://localhost:N/$iothub/websocket; 0 = any free port)

hub registry (work with or without a running emulator):
  add-device ID [--primary-key B64 --secondary-key B64 | --x509-thumbprint HEX [--secondary-thumbprint HEX] | --x509-ca] [--disabled]
  remove-device ID
  enable ID | disable ID
  add-module DEVICE_ID MODULE_ID
  add-ca NAME PEM_FILE          trust a CA for X.509 CA-authenticated devices
  list [--json]                 devices, modules, connection state and connection strings
  connection-string ID [--module MODULE_ID]

live (need a running emulator):
  watch [DEVICE_ID]             telemetry and connection events as they happen (Ctrl-C stops)
  telemetry [DEVICE_ID]         the recent telemetry kept by the hub
  c2d DEVICE_ID BODY [--prop name=value]... [--message-id ID] [--correlation-id ID] [--content-type TYPE]
  invoke DEVICE_ID METHOD [JSON_PAYLOAD] [--timeout SECONDS] [--module MODULE_ID]
  twin get DEVICE_ID [--module MODULE_ID]
  twin patch DEVICE_ID JSON_DESIRED_PATCH [--module MODULE_ID]
  fault drop TARGET [--graceful] | drop-after-bytes TARGET --bytes N | drop-mid-packet TARGET
  fault withhold-pubacks TARGET [--count N] [--duration-ms MS]
  fault twin TARGET [--status CODE] [--delay-ms MS] [--drop] [--count N] [--duration-ms MS]
  fault method TARGET [--delay-ms MS] [--drop] [--count N] [--duration-ms MS]
  fault refuse-connect TARGET --code 1..5 [--count N] [--duration-ms MS]
  fault latency TARGET --inbound-ms MS --outbound-ms MS
  fault late-subscription TARGET --hold-ms MS [--count N] [--duration-ms MS]
        hold each SUBACK MS ms; publishes to filters not yet acknowledged are dropped
  fault out-of-order TARGET [--hold twin-response|desired-patch|method-request|c2d|any] [--after N] [--max-hold-ms MS] [--count N]
        hold one publish to the device and send it right after N later ones (default 1)
  fault clear [TARGET]
  dps-fault final --status disabled|failed [--operation-id ID] [--error-code N] [--error-message TEXT] [--requests register|poll|any] [--count N]
firmware updates (need a running emulator; the image is served over HTTPS by the emulator, with its CA):
  fota deploy DEVICE_ID IMAGE --manifest M.json
        serve IMAGE and set the device's desired \`firmware\` to M.json (from \`npm run iot-store -- fota sign\`,
        with the trust bundle it carries, if any),
        its location pointed at the emulator's image server
  fota fault drop --bytes N [--at R] | status --code N [--times N] [--at R] | truncate --bytes N
  fota fault flip --offset N | slow --bytes N --ms MS | clear
        R: only the R-th image request from now on; drop ends the connection after N body bytes
  dps-fault error --status 4xx|5xx [--retry-after S] [--requests ...] [--count N] | dps-fault drop [--requests ...] | dps-fault latency --ms MS | dps-fault clear
        TARGET is a device id, DEVICE/MODULE, or * for everyone

${DPS_COMMANDS_HELP}`;

class UsageError extends Error {}

function stateDirOf(args: ParsedArgs, io: CliIo): string {
  return resolve(io.cwd, value(args, 'state-dir') ?? '.emulator-state');
}

/** The running emulator, or undefined when none answers (a stale control.json is removed). */
async function running(stateDir: string): Promise<ControlClient | undefined> {
  const info = readControlInfo(stateDir);
  if (!info) return undefined;
  const client = new ControlClient(info);
  try {
    await client.request('GET', '/status');
    return client;
  } catch (error) {
    if (error instanceof ControlError) return client;
    removeControlInfo(stateDir);
    return undefined;
  }
}

async function requireRunning(stateDir: string): Promise<ControlClient> {
  const client = await running(stateDir);
  if (!client) throw new UsageError(`no emulator is running for ${stateDir}; start one with: npx tsx emulator/src/cli.ts start`);
  return client;
}

function authFromArgs(args: ParsedArgs): DeviceAuth | undefined {
  const primaryKey = value(args, 'primary-key');
  const secondaryKey = value(args, 'secondary-key');
  const thumbprint = value(args, 'x509-thumbprint');
  if (args.flags.has('x509-ca')) return { type: 'x509-ca' };
  if (thumbprint) {
    const secondary = value(args, 'secondary-thumbprint');
    return secondary ? { type: 'x509-thumbprint', primaryThumbprint: thumbprint, secondaryThumbprint: secondary } : { type: 'x509-thumbprint', primaryThumbprint: thumbprint };
  }
  if (primaryKey || secondaryKey) {
    if (!primaryKey || !secondaryKey) throw new UsageError('give both --primary-key and --secondary-key (or neither to generate them)');
    return { type: 'sas', primaryKey, secondaryKey };
  }
  return undefined;
}

/** Host name devices sign for when nothing runs: the default hub port 8883 means plain `localhost`. */
const OFFLINE_HOST = 'localhost';

function offlineConnectionString(device: DeviceRecord, moduleId?: string): string {
  const auth = moduleId ? device.modules[moduleId]?.auth : device.auth;
  if (!auth) throw new UsageError(`module ${device.deviceId}/${moduleId} does not exist`);
  const base = `HostName=${OFFLINE_HOST};DeviceId=${device.deviceId}${moduleId ? `;ModuleId=${moduleId}` : ''}`;
  return auth.type === 'sas' ? `${base};SharedAccessKey=${auth.primaryKey}` : `${base};x509=true`;
}

function describeDevice(view: DeviceView): string {
  const lines = [`${view.deviceId}  ${view.status}  ${view.authType}  ${view.connected ? 'connected' : 'offline'}`];
  if (view.connectionString) lines.push(`  ${view.connectionString}`);
  for (const m of view.modules) {
    lines.push(`  module ${m.moduleId}  ${m.authType}  ${m.connected ? 'connected' : 'offline'}`);
    if (m.connectionString) lines.push(`    ${m.connectionString}`);
  }
  return lines.join('\n');
}

function offlineView(device: DeviceRecord): DeviceView {
  return {
    deviceId: device.deviceId,
    status: device.status,
    authType: device.auth.type,
    connected: false,
    connectionString: offlineConnectionString(device),
    modules: Object.values(device.modules).map((m) => ({
      moduleId: m.moduleId,
      authType: m.auth.type,
      connected: false,
      connectionString: offlineConnectionString(device, m.moduleId),
    })),
  };
}

/** Registry commands: through the running emulator, or straight on registry.json when none runs. */
async function registryCommand(command: string, args: ParsedArgs, io: CliIo, stateDir: string): Promise<number> {
  const [first, second] = args.positional;
  const client = await running(stateDir);
  const registry = new Registry();
  if (!client) registry.load(stateDir);
  const save = (): void => registry.save(stateDir);
  const enc = encodeURIComponent;
  switch (command) {
    case 'add-device': {
      if (!first) throw new UsageError('usage: add-device ID [options]');
      const auth = authFromArgs(args);
      const status = args.flags.has('disabled') ? 'disabled' : undefined;
      const view = client
        ? await client.request<DeviceView>('POST', '/devices', { deviceId: first, auth, status })
        : offlineView(registry.addDevice({ deviceId: first, auth, status }));
      if (!client) save();
      io.out(`added ${describeDevice(view)}`);
      return 0;
    }
    case 'remove-device':
      if (!first) throw new UsageError('usage: remove-device ID');
      if (client) await client.request('DELETE', `/devices/${enc(first)}`);
      else if (!registry.removeDevice(first)) throw new UsageError(`device ${first} does not exist`);
      else save();
      io.out(`removed ${first}`);
      return 0;
    case 'enable':
    case 'disable': {
      if (!first) throw new UsageError(`usage: ${command} ID`);
      const status = command === 'enable' ? 'enabled' : 'disabled';
      if (client) await client.request('POST', `/devices/${enc(first)}/status`, { status });
      else {
        registry.setStatus(first, status);
        save();
      }
      io.out(`${first} ${status}`);
      return 0;
    }
    case 'add-module': {
      if (!first || !second) throw new UsageError('usage: add-module DEVICE_ID MODULE_ID');
      const auth = authFromArgs(args);
      if (client) await client.request('POST', `/devices/${enc(first)}/modules`, { moduleId: second, auth });
      else {
        registry.addModule(first, second, auth);
        save();
      }
      io.out(`added module ${first}/${second}`);
      return 0;
    }
    case 'add-ca': {
      if (!first || !second) throw new UsageError('usage: add-ca NAME PEM_FILE');
      const certPem = io.readTextFile(second);
      if (client) await client.request('POST', '/certificate-authorities', { name: first, certPem });
      else {
        registry.addCertificateAuthority(first, certPem);
        save();
      }
      io.out(`trusting CA ${first} for X.509 CA devices`);
      return 0;
    }
    case 'list': {
      const views = client ? await client.request<DeviceView[]>('GET', '/devices') : registry.listDevices().map(offlineView);
      if (args.flags.has('json')) io.out(JSON.stringify(views, null, 2));
      else io.out(views.length === 0 ? 'no devices (add one with: add-device ID)' : views.map(describeDevice).join('\n'));
      return 0;
    }
    case 'connection-string': {
      if (!first) throw new UsageError('usage: connection-string ID [--module MODULE_ID]');
      const moduleId = value(args, 'module');
      if (client) {
        const view = (await client.request<DeviceView[]>('GET', '/devices')).find((d) => d.deviceId === first);
        if (!view) throw new UsageError(`device ${first} does not exist`);
        const found = moduleId ? view.modules.find((m) => m.moduleId === moduleId)?.connectionString : view.connectionString;
        if (!found) throw new UsageError(`module ${first}/${moduleId} does not exist`);
        io.out(found);
      } else {
        const device = registry.getDevice(first);
        if (!device) throw new UsageError(`device ${first} does not exist`);
        io.out(offlineConnectionString(device, moduleId));
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

function parseJsonArg(text: string | undefined, what: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} must be JSON, got: ${text}`);
  }
}

function formatEvent(event: Record<string, unknown>): string {
  const kind = String(event.event);
  if (kind === 'telemetry') {
    const who = event.moduleId ? `${event.deviceId}/${event.moduleId}` : event.deviceId;
    const body = event.body ?? `(base64) ${event.bodyBase64}`;
    return `${event.receivedAt} telemetry ${who} ${body} properties=${JSON.stringify(event.properties)} system=${JSON.stringify(event.systemProperties)}`;
  }
  if (kind === 'connection') {
    const who = event.clientId ?? (event.moduleId ? `${event.deviceId}/${event.moduleId}` : event.deviceId);
    const extra = event.type === 'disconnected' ? ` ${event.reason}: ${event.detail}` : event.type === 'refused' ? ` CONNACK ${event.returnCode}: ${event.detail}` : '';
    return `${event.at} ${event.type} ${who}${extra}`;
  }
  const { event: _type, ...rest } = event;
  return `${new Date().toISOString()} ${kind} ${JSON.stringify(rest)}`;
}

async function liveCommand(command: string, args: ParsedArgs, io: CliIo, stateDir: string): Promise<number> {
  const client = await requireRunning(stateDir);
  const [first, second, third] = args.positional;
  const enc = encodeURIComponent;
  const moduleId = value(args, 'module');
  const moduleQuery = moduleId ? `?moduleId=${enc(moduleId)}` : '';
  switch (command) {
    case 'watch': {
      const stream = await client.events((event) => {
        if (first && event.deviceId !== first && event.clientId !== first && event.target !== first) return;
        io.out(formatEvent(event));
      });
      io.err('watching hub events (Ctrl-C stops)');
      const off = io.onInterrupt(() => stream.close());
      await stream.done;
      off();
      return 0;
    }
    case 'telemetry': {
      const list = await client.request<Array<Record<string, unknown>>>('GET', `/telemetry${first ? `?deviceId=${enc(first)}` : ''}`);
      io.out(list.length === 0 ? 'no telemetry yet' : list.map(formatEvent).join('\n'));
      return 0;
    }
    case 'c2d': {
      if (!first || second === undefined) throw new UsageError('usage: c2d DEVICE_ID BODY [--prop name=value]...');
      const options: Record<string, string> = {};
      for (const [flag, key] of [['message-id', 'messageId'], ['correlation-id', 'correlationId'], ['content-type', 'contentType']] as const) {
        const v = value(args, flag);
        if (v !== undefined) options[key] = v;
      }
      const result = await client.request<{ messageId: string }>('POST', `/devices/${enc(first)}/c2d`, { body: second, properties: keyValues(args, 'prop'), options });
      io.out(`queued C2D message ${result.messageId} for ${first}`);
      return 0;
    }
    case 'invoke': {
      if (!first || !second) throw new UsageError('usage: invoke DEVICE_ID METHOD [JSON_PAYLOAD] [--timeout SECONDS]');
      const timeout = intValue(args, 'timeout', 5, 300) ?? 30;
      const result = await client.request<MethodResult>('POST', `/devices/${enc(first)}/methods/${enc(second)}`, {
        payload: parseJsonArg(third, 'the payload') ?? null,
        timeoutMs: timeout * 1000,
        ...(moduleId ? { moduleId } : {}),
      });
      io.out(`status ${result.status}\n${JSON.stringify(result.payload, null, 2)}`);
      return result.status < 300 ? 0 : 1;
    }
    case 'twin': {
      if ((first !== 'get' && first !== 'patch') || !second) throw new UsageError('usage: twin get DEVICE_ID | twin patch DEVICE_ID JSON');
      const twin =
        first === 'get'
          ? await client.request<Twin>('GET', `/devices/${enc(second)}/twin${moduleQuery}`)
          : await client.request<Twin>('PATCH', `/devices/${enc(second)}/twin${moduleQuery}`, { desired: parseJsonArg(third, 'the desired patch') });
      io.out(JSON.stringify(twin, null, 2));
      return 0;
    }
    case 'fault': {
      if (!first) throw new UsageError('usage: fault KIND TARGET [options] (see help)');
      const body: Record<string, unknown> = { kind: first, target: second ?? '*' };
      const numbers: Array<[string, string]> = [
        ['count', 'count'], ['duration-ms', 'durationMs'], ['status', 'status'], ['delay-ms', 'delayMs'], ['bytes', 'bytes'],
        ['code', 'returnCode'], ['inbound-ms', 'inboundMs'], ['outbound-ms', 'outboundMs'], ['hold-ms', 'holdMs'], ['after', 'after'], ['max-hold-ms', 'maxHoldMs'],
      ];
      for (const [flag, key] of numbers) {
        const n = intValue(args, flag, 0, 2 ** 31);
        if (n !== undefined) body[key] = n;
      }
      const hold = value(args, 'hold');
      if (hold !== undefined) body.hold = hold;
      if (args.flags.has('drop')) body.drop = true;
      if (args.flags.has('graceful')) body.graceful = true;
      const result = await client.request<Record<string, unknown>>('POST', '/faults', body);
      io.out(`fault ${first} set for ${body.target}${Object.keys(result).length ? ` ${JSON.stringify(result)}` : ''}`);
      return 0;
    }
    case 'dps-fault': {
      if (!first) throw new UsageError('usage: dps-fault error|final|drop|latency|clear [options] (see help)');
      const body: Record<string, unknown> = { kind: first };
      const statusText = value(args, 'status');
      if (statusText !== undefined) body.status = /^\d+$/.test(statusText) ? Number(statusText) : statusText;
      for (const [flag, key] of [['count', 'count'], ['retry-after', 'retryAfterSeconds'], ['error-code', 'errorCode'], ['ms', 'ms']] as const) {
        const n = intValue(args, flag, 0, 2 ** 31);
        if (n !== undefined) body[key] = n;
      }
      for (const [flag, key] of [['requests', 'requests'], ['operation-id', 'operationId'], ['error-message', 'errorMessage']] as const) {
        const text = value(args, flag);
        if (text !== undefined) body[key] = text;
      }
      await client.request<Record<string, unknown>>('POST', '/dps/faults', body);
      io.out(`DPS fault ${first} set`);
      return 0;
    }
    case 'fota':
      return fotaCommand(client, args, io);
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

async function fotaCommand(client: ControlClient, args: ParsedArgs, io: CliIo): Promise<number> {
  const [what, first, second] = args.positional;
  if (what === 'deploy') {
    const manifestPath = value(args, 'manifest');
    if (!first || !second || manifestPath === undefined) throw new UsageError('usage: fota deploy DEVICE_ID IMAGE --manifest M.json');
    if (io.readFile === undefined) throw new UsageError('this CLI cannot read binary files');
    const firmware = parseJsonArg(io.readTextFile(resolve(io.cwd, manifestPath)), 'the manifest');
    const image = io.readFile(resolve(io.cwd, second));
    const result = await client.request<{ firmware: Record<string, unknown> }>('POST', `/devices/${encodeURIComponent(first)}/fota`, {
      firmware,
      imageBase64: Buffer.from(image).toString('base64'),
    });
    const location = result.firmware['fwLocation'] as { port: number; path: string };
    const bundle = result.firmware['trustBundle'];
    const roots = Array.isArray(bundle) ? `, with a trust bundle of ${bundle.length} root(s) (trustSha256 ${String(result.firmware['trustSha256']).slice(0, 16)}...)` : '';
    io.out(`serving ${image.length} bytes at https://127.0.0.1:${location.port}${location.path}; desired firmware ${String(result.firmware['fwVersion'])}${roots} set for ${first}`);
    return 0;
  }
  if (what === 'fault') {
    if (!first) throw new UsageError('usage: fota fault drop|status|truncate|flip|slow|clear [options]');
    const body: Record<string, unknown> = { kind: first };
    const numbers: Record<string, Array<[string, string]>> = {
      drop: [['bytes', 'afterBytes'], ['at', 'at']],
      status: [['code', 'status'], ['times', 'times'], ['at', 'at']],
      truncate: [['bytes', 'bytes']],
      flip: [['offset', 'offset']],
      slow: [['bytes', 'chunkBytes'], ['ms', 'delayMs']],
      clear: [],
    };
    const fields = numbers[first];
    if (fields === undefined) throw new UsageError('usage: fota fault drop|status|truncate|flip|slow|clear [options]');
    for (const [flag, key] of fields) {
      const n = intValue(args, flag, 0, 2 ** 31);
      if (n !== undefined) body[key] = n;
    }
    await client.request<Record<string, unknown>>('POST', '/fota/faults', body);
    io.out(`image server fault ${first} set`);
    return 0;
  }
  throw new UsageError('usage: fota deploy DEVICE_ID IMAGE --manifest M.json | fota fault KIND [options]');
}

async function startCommand(args: ParsedArgs, io: CliIo, stateDir: string): Promise<number> {
  if (await running(stateDir)) throw new UsageError(`an emulator is already running for ${stateDir}`);
  const hubPort = intValue(args, 'hub-port', 0, 65535) ?? 8883;
  const dpsPort = intValue(args, 'dps-port', 0, 65535) ?? 8884;
  const controlPort = intValue(args, 'control-port', 0, 65535) ?? 0;
  const logFeed = new LogFeed();
  const script = await buildExplorerScript();
  const hubWsPort = intValue(args, 'hub-ws-port', 0, 65535);
  const dpsWsPort = intValue(args, 'dps-ws-port', 0, 65535);
  const emulator = await Emulator.start({
    stateDir,
    hubPort,
    dpsPort,
    ...(hubWsPort === undefined ? {} : { hubWsPort }),
    ...(dpsWsPort === undefined ? {} : { dpsWsPort }),
    dps: !args.flags.has('no-dps'),
    hubHostName: value(args, 'host-name'),
    log: logFeed.tee(consoleLog(args.flags.has('verbose') ? 'debug' : args.flags.has('quiet') ? 'error' : 'info')),
  });
  let control;
  try {
    control = await startControlServer(emulator, { port: controlPort, explorer: { script }, logFeed });
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  const info: ControlInfo = {
    port: control.port,
    token: control.token,
    pid: process.pid,
    hubHostName: emulator.hubHostName,
    hubPort: emulator.hubPort,
    ...(emulator.dpsPort === undefined ? {} : { dpsPort: emulator.dpsPort }),
    ...(emulator.dps ? { idScope: emulator.dps.idScope } : {}),
    ...(emulator.caFile ? { caFile: emulator.caFile } : {}),
  };
  writeControlInfo(stateDir, info);
  const cli = 'npx tsx emulator/src/cli.ts';
  io.out(
    [
      'Azure IoT Hub emulator running',
      `  hub      mqtts://localhost:${emulator.hubPort}   devices use host name "${emulator.hubHostName}" (connection string HostName, SAS sr)`,
      emulator.dps
        ? `  DPS      mqtts://localhost:${emulator.dpsPort}   id scope ${emulator.dps.idScope} (assignedHub ${emulator.hubHostName})`
        : '  DPS      not started',
      ...(emulator.hubWsPort === undefined ? [] : [`  hub      wss://localhost:${emulator.hubWsPort}/$iothub/websocket   MQTT over WebSockets (subprotocol mqtt)`]),
      ...(emulator.dpsWsPort === undefined ? [] : [`  DPS      wss://localhost:${emulator.dpsWsPort}/$iothub/websocket   MQTT over WebSockets (subprotocol mqtt)`]),
      `  CA       ${emulator.caFile ?? '(in memory)'}   devices must trust this certificate`,
      `  state    ${stateDir}`,
      `  control  http://127.0.0.1:${control.port} (for the commands below, token in ${join(stateDir, 'control.json')})`,
      `  explorer ${control.explorerUrl ?? ''}   (the hub explorer page; the part after # is the control token)`,
      '',
      'Next, in another terminal:',
      `  ${cli} add-device my-device      prints the device's connection string`,
      `  ${cli} watch                     shows telemetry as it arrives`,
      'Ctrl-C stops the emulator.',
    ].join('\n'),
  );
  await new Promise<void>((resolveStop) => {
    const off = io.onInterrupt(() => {
      off();
      resolveStop();
    });
  });
  io.err('stopping...');
  await control.close();
  await emulator.stop();
  removeControlInfo(stateDir);
  io.err('stopped');
  return 0;
}

/** `--state-dir` is ours, not the DPS commands'. */
function withoutStateDir(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--state-dir') i++;
    else if (!argv[i].startsWith('--state-dir=')) out.push(argv[i]);
  }
  return out;
}

/** For DPS commands that need no running DPS (derive-key). */
const NO_DPS: DpsEnrollmentControl = {
  addIndividual: () => Promise.reject(new Error('DPS is not running')),
  addGroup: () => Promise.reject(new Error('DPS is not running')),
  removeIndividual: () => Promise.reject(new Error('DPS is not running')),
  removeGroup: () => Promise.reject(new Error('DPS is not running')),
  list: () => Promise.reject(new Error('DPS is not running')),
};

/** Runs one CLI invocation; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(HELP);
    return 0;
  }
  const parsed = parseArgs(rest, VALUE_OPTIONS);
  if (!parsed.ok) {
    io.err(`${parsed.message}\n(run with help for usage)`);
    return 2;
  }
  const args = parsed.args;
  const stateDir = stateDirOf(args, io);
  try {
    if (command === 'start') return await startCommand(args, io, stateDir);
    if (['add-device', 'remove-device', 'enable', 'disable', 'add-module', 'add-ca', 'list', 'connection-string'].includes(command)) {
      return await registryCommand(command, args, io, stateDir);
    }
    if (['watch', 'telemetry', 'c2d', 'invoke', 'twin', 'fault', 'dps-fault', 'fota'].includes(command)) return await liveCommand(command, args, io, stateDir);
    if (DPS_COMMANDS.has(command)) {
      // The DPS side owns these commands; they run against the live DPS through the control API.
      const dpsArgv = [command, ...withoutStateDir(rest)];
      const client = command === 'derive-key' ? undefined : await requireRunning(stateDir);
      const outcome = await dpsCli(dpsArgv, client ? client.dpsControl() : NO_DPS, {
        idScope: client?.info.idScope ?? '',
        ...(client?.info.dpsPort ? { endpoint: `localhost:${client.info.dpsPort}` } : {}),
        readTextFile: io.readTextFile,
      });
      (outcome.exitCode === 0 ? io.out : io.err)(outcome.output);
      return outcome.exitCode;
    }
    io.err(`unknown command ${command}\n(run with help for usage)`);
    return 2;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(error.message);
      return 2;
    }
    io.err(error instanceof Error ? error.message : String(error));
    return 1;
  }
}
