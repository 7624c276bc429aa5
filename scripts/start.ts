// `npm start`: the whole story on one machine. Starts the local emulator (hub + DPS) in this process, enrolls a
// demo device in a symmetric-key group enrollment, boots the firmware on the Node host trusting the emulator's
// CA, and shows both sides live: provisioning, connection, telemetry, then a desired-property change, a direct
// method and a C2D message sent from the emulator, with the device's reactions. Runs until Ctrl-C, which stops the
// device and the emulator and exits 0 (also as `npm start`: the package script execs node, so no shell is left
// to die of the signal, and the same Ctrl-C relayed by npm is not taken for a second one).
//
//   npx tsx scripts/start.ts [--state-dir DIR] [--hub-port N] [--dps-port N] [--interval-ms N] [--demo-once] [--demo-update]
//
// --demo-once (or DEMO_ONCE=1) ends with exit 0 as soon as every scripted step was observed (1 if one was not).
// --demo-update adds a firmware update (docs/fota.md) after the other steps, with a vendor key made for the run.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator, type Emulator } from '../emulator/src/emulator';
import { LogFeed, type EmulatorLogLevel } from '../emulator/src/log';
import { startControlServer, type ControlServer } from '../emulator/src/control/control-server';
import { buildExplorerScript } from '../emulator/explorer/build';
import { startNodeFirmware, type NodeFirmware } from '../hosts/node/main-node';
import { handleStopSignals } from '../hosts/node/stop-signals';
import { runDemoFlow } from './start/demo-flow';
import { demoVendor, runUpdateDemo, type DemoVendor } from './start/demo-update';

const USAGE = `usage: npm start -- [--state-dir DIR] [--hub-port N] [--dps-port N] [--interval-ms N] [--demo-once] [--demo-update] [--verbose]

  --state-dir DIR   emulator state (CA, registry, twins); default .emulator-state/ in the current folder
  --hub-port N      hub port (default: any free port); --dps-port N likewise for DPS
  --interval-ms N   the device's telemetry interval before the demo changes it (default 5000)
  --demo-once       exit 0 once every demo step was observed (also DEMO_ONCE=1)
  --demo-update     then update the device's firmware over the air (a signed image served by the emulator)
  --verbose         debug lines from the device and the emulator`;

export const DEMO_GROUP_ID = 'demo-group';
export const DEMO_REGISTRATION_ID = 'demo-thermostat-001';

const RANK: Record<EmulatorLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function port(text: string | undefined, flag: string): number {
  if (text === undefined) return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port number`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string' },
      'hub-port': { type: 'string' },
      'dps-port': { type: 'string' },
      'interval-ms': { type: 'string' },
      'demo-once': { type: 'boolean' },
      'demo-update': { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const demoOnce = values['demo-once'] === true || process.env['DEMO_ONCE'] === '1';
  // The update slot is a file beside the device store: both live in a folder of this run, removed at the end.
  const update: { vendor: DemoVendor; folder: string } | undefined =
    values['demo-update'] === true ? { vendor: demoVendor(), folder: mkdtempSync(join(tmpdir(), 'demo-device-')) } : undefined;
  const verbose = values.verbose === true;
  const stateDir = resolve(values['state-dir'] ?? '.emulator-state');
  const intervalMs = values['interval-ms'] === undefined ? 5000 : Number(values['interval-ms']);
  const say = (line: string): void => out(`[emulator] ${line}`);

  say(`starting the local IoT Hub and DPS (state in ${stateDir})`);
  // The explorer page's log pane shows the emulator's lines and the device's.
  const logFeed = new LogFeed();
  let emulator: Emulator;
  let control: ControlServer;
  try {
    const script = await buildExplorerScript();
    emulator = await startEmulator({
      stateDir,
      hubPort: port(values['hub-port'], '--hub-port'),
      dpsPort: port(values['dps-port'], '--dps-port'),
      log: logFeed.tee((level, message) => {
        if (RANK[level] >= RANK[verbose ? 'debug' : 'info']) say(`[${level}] ${message}`);
      }),
    });
    try {
      control = await startControlServer(emulator, { explorer: { script }, logFeed });
    } catch (error) {
      await emulator.stop();
      throw error;
    }
  } catch (error) {
    say(`cannot start: ${(error as Error).message}`);
    return 1;
  }
  const dps = emulator.dps;
  if (dps === undefined) {
    say('DPS did not start');
    await control.close();
    await emulator.stop();
    return 1;
  }
  say(`hub on 127.0.0.1:${emulator.hubPort} (named ${emulator.hubHostName}), DPS on 127.0.0.1:${dps.port} (ID scope ${dps.idScope})`);
  say(`explorer page: ${control.explorerUrl ?? ''}  (open it in a browser on this machine; the token after # is the control token)`);

  // A fresh group key every run, replacing the one saved in the state folder: the device derives its key anew.
  const groupKey = randomBytes(32).toString('base64');
  dps.enrollments.addGroup(
    {
      enrollmentGroupId: DEMO_GROUP_ID,
      attestation: { type: 'symmetricKey', primaryKey: groupKey, secondaryKey: randomBytes(32).toString('base64') },
      pollsBeforeAssigned: 1,
      retryAfterSeconds: 1,
    },
    { replace: true },
  );
  say(`enrolled group '${DEMO_GROUP_ID}' (symmetric key); the device registers as '${DEMO_REGISTRATION_ID}'`);

  emulator.on('connection', (event) => {
    if (event.type === 'connected') say(`device ${event.deviceId} connected (${event.authMethod})`);
    else if (event.type === 'disconnected') say(`device ${event.deviceId} disconnected (${event.reason})`);
    else say(`connection refused for ${event.clientId}: ${event.detail}`);
  });
  dps.on('assigned', (event) => say(`DPS assigned ${event.registrationId} to ${event.assignedHub} as device ${event.deviceId}`));
  emulator.on('telemetry', (message) => say(`telemetry from ${message.deviceId}: ${Buffer.from(message.body).toString('utf8')}`));

  const device: NodeFirmware = startNodeFirmware({
    config: {
      idScope: dps.idScope,
      registrationId: DEMO_REGISTRATION_ID,
      groupKey,
      dpsEndpoint: `127.0.0.1:${dps.port}`,
      telemetryIntervalMs: intervalMs,
      logLevel: verbose ? 'debug' : 'info',
    },
    extraCAs: [emulator.caDer],
    logger: {
      prefix: '[device]',
      write: (line) => {
        out(line);
        logFeed.push('info', line);
      },
    },
    ...(update === undefined ? {} : { storePath: join(update.folder, 'device.bin'), fota: { keys: [update.vendor.publicKey], maxFragmentBytes: 4096 } }),
  });

  const abort = { aborted: false };
  let finished = false;
  const shutdown = async (code: number): Promise<number> => {
    if (finished) return code;
    finished = true;
    abort.aborted = true;
    // The device's DISCONNECT reaches the hub a moment after its side has closed: let the hub see it go.
    const gone = emulator.isConnected(DEMO_REGISTRATION_ID)
      ? emulator.waitFor('connection', (e) => e.type === 'disconnected' && e.deviceId === DEMO_REGISTRATION_ID, 2000).catch(() => undefined)
      : Promise.resolve(undefined);
    await device.stop();
    await gone;
    await control.close();
    await emulator.stop();
    if (update !== undefined) rmSync(update.folder, { recursive: true, force: true });
    say('stopped');
    return code;
  };

  return new Promise<number>((resolveExit) => {
    // Installed for the rest of the process: main() ends in process.exit.
    handleStopSignals({
      stop: (signal) => {
        out(`[demo] ${signal}: stopping the device and the emulator`);
        void shutdown(0).then(resolveExit);
      },
      force: (signal) => {
        out(`[demo] ${signal} again: exiting without waiting`);
        process.exit(130);
      },
    });

    void device.started.then((state) => {
      if (state === 'failed' && !finished) {
        out(`[demo] the device did not start: ${device.firmware.failure ?? 'unknown reason'}`);
        void shutdown(1).then(resolveExit);
      }
    });

    const flow = runDemoFlow({ emulator, deviceId: DEMO_REGISTRATION_ID, say, signal: abort }).then(async () => {
      if (update !== undefined) await runUpdateDemo({ emulator, deviceId: DEMO_REGISTRATION_ID, vendor: update.vendor, say });
    });
    flow.then(
      () => {
        out(`[demo] all steps observed: provisioning, connection, telemetry, twin change acknowledged, method answered, C2D received${update === undefined ? '' : ', firmware updated to 1.2.0'}`);
        if (demoOnce) void shutdown(0).then(resolveExit);
        else out('[demo] the device keeps sending telemetry; Ctrl-C stops everything');
      },
      (error: unknown) => {
        if (finished) return;
        out(`[demo] a step was not observed: ${(error as Error).message}`);
        if (demoOnce) void shutdown(1).then(resolveExit);
      },
    );
  });
}

main().then(
  (code) => {
    // Demo waits still pending after a stop must not hold the process open.
    process.exit(code);
  },
  (error: unknown) => {
    out(`[demo] ${(error as Error).message}`);
    process.exit(2);
  },
);
