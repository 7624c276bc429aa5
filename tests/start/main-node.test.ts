// The Node entry: flags and config files into the firmware configuration, CA files, exit codes, and a real
// process against the emulator that SIGTERM stops cleanly.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { issueDeviceCertificate } from '../../emulator/src/pki';
import { NodeEntryError, readCaFile, readNodeSettings, runNodeMain } from '../../hosts/node/main-node';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SECRET = 'c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Q=';

let folder: string;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'main-node-'));
});

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('flags and config files', () => {
  test('flags become configuration fields; whole numbers become numbers', () => {
    const settings = readNodeSettings([
      '--id-scope', '0ne00000001', '--registration-id', 'dev-1', '--group-key', SECRET, '--dps-endpoint', 'localhost:8884',
      '--interval-ms', '2000', '--security-tag', '4', '--seed', '9', '--log-level', 'debug', '--hub-endpoint', '127.0.0.1:8883',
      '--model-id', 'dtmi:com:example:Thermostat;1', '--ca', 'ca.pem', '--store', 'store.bin',
    ]);
    expect(settings).toEqual({
      config: {
        idScope: '0ne00000001',
        registrationId: 'dev-1',
        groupKey: SECRET,
        dpsEndpoint: 'localhost:8884',
        telemetryIntervalMs: 2000,
        securityTag: 4,
        sensorSeed: 9,
        logLevel: 'debug',
        hubEndpoint: '127.0.0.1:8883',
        modelId: 'dtmi:com:example:Thermostat;1',
      },
      caFiles: [join(process.cwd(), 'ca.pem')],
      storePath: join(process.cwd(), 'store.bin'),
      help: false,
    });
  });

  test('a number flag that is not a whole number stays text, so the configuration check names it', () => {
    expect(readNodeSettings(['--interval-ms', 'fast']).config).toEqual({ telemetryIntervalMs: 'fast' });
  });

  test('the config file is read first and flags win; its ca and store are relative to the file', () => {
    const file = join(folder, 'device.json');
    writeFileSync(file, JSON.stringify({ connectionString: 'HostName=a;DeviceId=b;SharedAccessKey=cGFzcw==', telemetryIntervalMs: 5000, ca: ['certs/ca.pem'], store: 'flash.bin' }));
    const settings = readNodeSettings(['--config', file, '--interval-ms', '3000', '--ca', 'more.pem']);
    expect(settings.config).toEqual({ connectionString: 'HostName=a;DeviceId=b;SharedAccessKey=cGFzcw==', telemetryIntervalMs: 3000 });
    expect(settings.caFiles).toEqual([join(folder, 'certs/ca.pem'), join(process.cwd(), 'more.pem')]);
    expect(settings.storePath).toBe(join(folder, 'flash.bin'));
  });

  test('unusable input is a NodeEntryError that does not quote the file', () => {
    const bad = join(folder, 'bad.json');
    writeFileSync(bad, `{"groupKey": "${SECRET}",`);
    expect(() => readNodeSettings(['--config', bad])).toThrow(new NodeEntryError(`--config ${bad}: not valid JSON`));
    const list = join(folder, 'list.json');
    writeFileSync(list, '[1]');
    expect(() => readNodeSettings(['--config', list])).toThrow(`--config ${list}: must hold a JSON object`);
    expect(() => readNodeSettings(['--config', join(folder, 'missing.json')])).toThrow(/cannot read the file \(ENOENT\)/);
    expect(() => readNodeSettings(['--wat'])).toThrow(NodeEntryError);
  });

  test('CA files: every certificate of a PEM file, the one of a DER file, anything else refused', () => {
    const a = issueDeviceCertificate('ca-a');
    const b = issueDeviceCertificate('ca-b');
    const pem = join(folder, 'chain.pem');
    writeFileSync(pem, `comment\n${a.certPem}${b.certPem}`);
    expect(readCaFile(pem)).toEqual([a.certDer, b.certDer]);
    const der = join(folder, 'one.der');
    writeFileSync(der, a.certDer);
    expect(readCaFile(der)).toEqual([a.certDer]);
    const junk = join(folder, 'junk.der');
    writeFileSync(junk, 'not a certificate');
    expect(() => readCaFile(junk)).toThrow(/^--ca .*junk\.der: not an X\.509 certificate/);
  });
});

describe('exit codes', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (l: string) => void out.push(l), stderr: (l: string) => void err.push(l), log: (l: string) => void err.push(l) } };
  };

  test('--help prints the usage and exits 0', async () => {
    const { out, io: streams } = io();
    expect(await runNodeMain(['--help'], streams)).toBe(0);
    expect(out[0]).toMatch(/^usage: main-node/);
  });

  test('bad flags exit 2', async () => {
    const { err, io: streams } = io();
    expect(await runNodeMain(['--interval'], streams)).toBe(2);
    expect(err[0]).toMatch(/^main-node: /);
  });

  test('a configuration error exits 2, naming the field and not the key', async () => {
    const { err, io: streams } = io();
    expect(await runNodeMain(['--id-scope', '0ne1', '--registration-id', 'r', '--group-key', 'not base64!', '--log-level', 'error'], streams)).toBe(2);
    expect(err.join('\n')).toContain('configuration error: groupKey: is not valid base64');
    expect(err.join('\n')).not.toContain('not base64!');
  });

  test('a DPS endpoint given as a URL exits 2 at boot, naming dpsEndpoint, before any network use', async () => {
    const { err, io: streams } = io();
    const argv = ['--id-scope', '0ne00000001', '--registration-id', 'dev-1', '--symmetric-key', SECRET, '--dps-endpoint', 'https://global.azure-devices-provisioning.net'];
    expect(await runNodeMain([...argv, '--log-level', 'error'], streams)).toBe(2);
    expect(err.join('\n')).toContain('configuration error: dpsEndpoint: must be a host name or host:port, not a URL');
    expect(err.join('\n')).not.toContain(SECRET);
  });
});

/** True once no process of the group is left (polled: the group's last process may exit after its leader). */
async function groupGone(pgid: number, withinMs: number): Promise<boolean> {
  const alive = (): boolean => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  for (const started = Date.now(); Date.now() - started < withinMs; ) {
    if (!alive()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive();
}

/** `npm run device -- ...` in its own process group, as a terminal runs it. */
function npmRunDevice(args: string[]) {
  const child = spawn('npm', ['run', '-s', 'device', '--', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

describe('the documented exit codes hold under `npm run device`', () => {
  test('a DPS endpoint given as a URL: exit 2, naming dpsEndpoint and not the key', async () => {
    const run = npmRunDevice(['--id-scope', '0ne00000001', '--registration-id', 'dev-1', '--symmetric-key', SECRET, '--dps-endpoint', 'https://global.azure-devices-provisioning.net']);
    try {
      expect(await run.exited).toEqual({ code: 2, signal: null });
      expect(run.output()).toContain('[error] firmware: configuration error: dpsEndpoint: must be a host name or host:port, not a URL');
      expect(run.output()).not.toContain(SECRET);
    } finally {
      if (!(await groupGone(run.child.pid!, 3000))) process.kill(-run.child.pid!, 'SIGKILL');
    }
  }, 30_000);

  test('Ctrl-C (SIGINT to the whole process group) while provisioning: exit 0, nothing left running', async () => {
    // Port 1 on loopback refuses at once: the device keeps waiting to retry DPS until it is stopped.
    const run = npmRunDevice(['--id-scope', '0ne00000001', '--registration-id', 'dev-1', '--symmetric-key', SECRET, '--dps-endpoint', '127.0.0.1:1']);
    try {
      for (const started = Date.now(); !/boot: provisioning failed/.test(run.output()) && Date.now() - started < 20_000; ) await new Promise((r) => setTimeout(r, 50));
      expect(run.output()).toMatch(/boot: provisioning failed/);
      process.kill(-run.child.pid!, 'SIGINT');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(run.output()).toMatch(/main-node: SIGINT received, stopping/);
      expect(run.output()).not.toMatch(/again, exiting without waiting/);
      expect(run.output()).toMatch(/\[info\] firmware: stopped/);
      expect(await groupGone(run.child.pid!, 3000)).toBe(true);
    } finally {
      if (!(await groupGone(run.child.pid!, 0))) process.kill(-run.child.pid!, 'SIGKILL');
    }
  }, 30_000);
});

describe('a real process against the emulator', () => {
  test('connects with a connection string and a --ca file, sends telemetry, and SIGTERM stops it with exit 0', async () => {
    const emulator = await Emulator.start({ persist: false, tls: createTlsMaterial() });
    try {
      emulator.addDevice('node-entry-dev');
      const ca = join(folder, 'emulator-ca.pem');
      writeFileSync(ca, emulator.caPem);
      const config = join(folder, 'node-entry.json');
      writeFileSync(config, JSON.stringify({ connectionString: emulator.connectionString('node-entry-dev'), telemetryIntervalMs: 1000, ca: 'emulator-ca.pem', store: 'node-entry.bin' }), { mode: 0o600 });
      const child = spawn(TSX, ['hosts/node/main-node.ts', '--config', config], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      try {
        const second = emulator.waitFor('telemetry', (m) => m.deviceId === 'node-entry-dev' && emulator.telemetry('node-entry-dev').length >= 2, 20_000);
        await second;
        const gone = emulator.waitFor('connection', (e) => e.type === 'disconnected' && e.deviceId === 'node-entry-dev', 10_000);
        process.kill(child.pid!, 'SIGTERM');
        expect(await exited).toEqual({ code: 0, signal: null });
        expect(await gone).toMatchObject({ reason: 'client-disconnect' });
        expect(output).toMatch(/\[info\] firmware: connected to the hub as device node-entry-dev/);
        expect(output).toMatch(/main-node: SIGTERM received, stopping/);
        expect(output).toMatch(/\[info\] firmware: stopped/);
        // tsx's own helpers may take a moment longer than the process we waited for.
        expect(await groupGone(child.pid!, 3000)).toBe(true);
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    } finally {
      await emulator.stop();
    }
  }, 40_000);
});
