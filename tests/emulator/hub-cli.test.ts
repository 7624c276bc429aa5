// The emulator CLI run in-process: registry commands on the state folder, `start` with its control API, and
// the live commands a second terminal uses against it (c2d, twin, invoke, fault, watch).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../emulator/src/cli/run';
import { readControlInfo } from '../../emulator/src/control/control-client';
import { createSasToken } from '../../emulator/src/sas-verify';
import { RawMqttClient } from '../helpers/raw-mqtt';

let dir: string;

function io(): CliIo & { stdout: string[]; stderr: string[]; interrupt: () => void } {
  const handlers = new Set<() => void>();
  const result = {
    stdout: [] as string[],
    stderr: [] as string[],
    out: (text: string) => result.stdout.push(text),
    err: (text: string) => result.stderr.push(text),
    cwd: '',
    readTextFile: (path: string) => readFileSync(path, 'utf8'),
    onInterrupt: (handler: () => void) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    interrupt: () => {
      for (const handler of [...handlers]) handler();
    },
  };
  result.cwd = dir;
  return result;
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const streams = io();
  const code = await runCli(argv, streams);
  return { code, out: streams.stdout.join('\n'), err: streams.stderr.join('\n') };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'emu-cli-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('without a running emulator', () => {
  it('prints help with every command', async () => {
    const { code, out } = await cli('help');
    expect(code).toBe(0);
    for (const command of ['start', 'add-device', 'list', 'watch', 'c2d', 'invoke', 'twin get', 'fault', 'add-enrollment']) expect(out).toContain(command);
  });

  it('adds devices and modules to registry.json and prints their connection strings', async () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    expect((await cli('add-device', 'dev1', '--primary-key', key, '--secondary-key', key)).code).toBe(0);
    expect((await cli('add-module', 'dev1', 'mod1')).code).toBe(0);
    expect((await cli('connection-string', 'dev1')).out).toBe(`HostName=localhost;DeviceId=dev1;SharedAccessKey=${key}`);
    const registry = JSON.parse(readFileSync(join(dir, '.emulator-state', 'registry.json'), 'utf8'));
    expect(registry.devices[0]).toEqual(expect.objectContaining({ deviceId: 'dev1', modules: { mod1: expect.objectContaining({ moduleId: 'mod1' }) } }));
    const list = JSON.parse((await cli('list', '--json')).out);
    expect(list).toEqual([expect.objectContaining({ deviceId: 'dev1', connected: false, modules: [expect.objectContaining({ moduleId: 'mod1' })] })]);
  });

  it('refuses a duplicate device (exit 1) and bad usage (exit 2)', async () => {
    await cli('add-device', 'dev1');
    expect(await cli('add-device', 'dev1')).toEqual(expect.objectContaining({ code: 1, err: expect.stringContaining('already exists') }));
    expect((await cli('add-device')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('c2d', 'dev1', 'x')).err).toContain('no emulator is running');
  });
});

describe('start and live commands', () => {
  it('runs until interrupted and serves the other commands through the control API', async () => {
    const startIo = io();
    const started = runCli(['start', '--hub-port', '0', '--dps-port', '0', '--quiet'], startIo);
    const stateDir = join(dir, '.emulator-state');
    for (let i = 0; i < 200 && !readControlInfo(stateDir); i++) await new Promise((r) => setTimeout(r, 25));
    const info = readControlInfo(stateDir)!;
    expect(startIo.stdout.join('\n')).toContain(`hub      mqtts://localhost:${info.hubPort}`);
    expect(startIo.stdout.join('\n')).toContain(join(stateDir, 'ca.cert.pem'));

    const key = Buffer.alloc(32, 4).toString('base64');
    const added = await cli('add-device', 'live1', '--primary-key', key, '--secondary-key', key);
    expect(added.out).toContain(`HostName=localhost:${info.hubPort};DeviceId=live1;SharedAccessKey=${key}`);

    const watchIo = io();
    const watching = runCli(['watch', 'live1'], watchIo);
    await new Promise((r) => setTimeout(r, 100));

    const device = await RawMqttClient.connect({ port: info.hubPort, ca: readFileSync(info.caFile!, 'utf8') });
    const sas = createSasToken({ key, resource: `${info.hubHostName}/devices/live1`, expiry: Math.floor(Date.now() / 1000) + 600 });
    expect((await device.mqttConnect({ clientId: 'live1', username: `${info.hubHostName}/live1/?api-version=2021-04-12`, password: sas })).returnCode).toBe(0);
    await device.subscribe([
      { topic: 'devices/live1/messages/devicebound/#', qos: 1 },
      { topic: '$iothub/methods/POST/#', qos: 0 },
      { topic: '$iothub/twin/PATCH/properties/desired/#', qos: 0 },
    ]);
    device.publish('devices/live1/messages/events/k=v', '{"n":1}', 1);
    await device.next('puback');

    expect((await cli('c2d', 'live1', 'hi there', '--prop', 'a=b', '--message-id', 'cli-1')).out).toContain('cli-1');
    expect((await device.next('publish')).topic).toContain('%24.mid=cli-1');

    expect((await cli('twin', 'patch', 'live1', '{"rate":2}')).code).toBe(0);
    expect((await device.next('publish')).topic).toBe('$iothub/twin/PATCH/properties/desired/?$version=2');
    expect(JSON.parse((await cli('twin', 'get', 'live1')).out).desired).toEqual({ rate: 2, $version: 2 });

    const invoked = cli('invoke', 'live1', 'ping', '{"x":1}', '--timeout', '5');
    const request = await device.next('publish');
    device.publish(`$iothub/methods/res/200/?$rid=${/\$rid=(\w+)/.exec(request.topic)![1]}`, '{"pong":true}', 0);
    expect(await invoked).toEqual(expect.objectContaining({ code: 0, out: expect.stringContaining('"pong": true') }));

    expect((await cli('fault', 'drop', 'live1')).out).toContain('{"dropped":1}');
    await device.waitClosed();

    await new Promise((r) => setTimeout(r, 100));
    watchIo.interrupt();
    expect(await watching).toBe(0);
    const watched = watchIo.stdout.join('\n');
    expect(watched).toContain('connected live1');
    expect(watched).toContain('telemetry live1 {"n":1} properties={"k":"v"}');
    expect(watched).toContain('disconnected live1 fault');

    expect((await cli('list-enrollments')).code).toBe(0);

    startIo.interrupt();
    expect(await started).toBe(0);
    expect(existsSync(join(stateDir, 'control.json'))).toBe(false);
  });
});
