// The strictness faults from a second terminal: `fault late-subscription`, `fault out-of-order` and `dps-fault final`
// go through the control API to a running emulator (here one in this process, found through its control.json).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { runCli, type CliIo } from '../../emulator/src/cli/run';
import { startControlServer, type ControlServer } from '../../emulator/src/control/control-server';
import { writeControlInfo } from '../../emulator/src/control/control-client';
import type { FaultEvent } from '../../emulator/src/hub/faults';
import { RawMqttClient } from '../helpers/raw-mqtt';
import { DpsRawClient, REGISTER_TOPIC, dpsSasToken, dpsUsername } from '../helpers/raw-mqtt-dps';
import { addSasDevice, connectDevice, testTls } from './hub-fixture';

const KEY = Buffer.alloc(32, 7).toString('base64');
let dir: string;
let emulator: Emulator;
let control: ControlServer;
const opened: RawMqttClient[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-strict-cli-'));
  emulator = await Emulator.start({ persist: false, tls: testTls() });
  control = await startControlServer(emulator);
  writeControlInfo(dir, { port: control.port, token: control.token, pid: process.pid, hubHostName: emulator.hubHostName, hubPort: emulator.hubPort, dpsPort: emulator.dpsPort, idScope: emulator.dps?.idScope });
  addSasDevice(emulator, 'd1');
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  await control.close();
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir, readTextFile: (p) => readFileSync(p, 'utf8'), onInterrupt: () => () => {} };
  const code = await runCli([...argv, '--state-dir', dir], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('cli.ts fault late-subscription', () => {
  it('holds the SUBACK and loses a GET answer asked for before it', async () => {
    expect(await cli('fault', 'late-subscription', 'd1', '--hold-ms', '300')).toEqual({ code: 0, out: 'fault late-subscription set for d1', err: '' });
    const faults: FaultEvent[] = [];
    emulator.on('fault', (e) => faults.push(e));
    const client = await connectDevice(emulator, 'd1');
    opened.push(client);
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$iothub/twin/res/#', qos: 0 }] });
    client.publish('$iothub/twin/GET/?$rid=1', '', 0);
    await client.next('suback');
    expect(faults.map((f) => `${f.kind} ${f.detail}`)).toEqual(['late-subscription SUBACK 1 held 300 ms', 'late-subscription-drop $iothub/twin/res/200/?$rid=1']);
  });
});

describe('cli.ts fault out-of-order', () => {
  it('answers two twin GETs in swapped order', async () => {
    expect((await cli('fault', 'out-of-order', 'd1', '--hold', 'twin-response', '--after', '1', '--count', '1')).code).toBe(0);
    const client = await connectDevice(emulator, 'd1', { subscribe: ['$iothub/twin/res/#'] });
    opened.push(client);
    client.publish('$iothub/twin/GET/?$rid=1', '', 0);
    client.publish('$iothub/twin/GET/?$rid=2', '', 0);
    expect([(await client.next('publish')).topic, (await client.next('publish')).topic]).toEqual(['$iothub/twin/res/200/?$rid=2', '$iothub/twin/res/200/?$rid=1']);
  });

  it('refuses an unknown --hold (exit 1, the reason printed)', async () => {
    const result = await cli('fault', 'out-of-order', 'd1', '--hold', 'telemetry');
    expect(result.code).toBe(1);
    expect(result.err).toContain('hold must be any or one of twin-response, desired-patch, method-request, c2d');
  });
});

describe('cli.ts dps-fault final', () => {
  it('ends the next register with the short disabled body, empty operationId', async () => {
    expect((await cli('add-enrollment', 'individual', '--registration-id', 'r1', '--primary-key', KEY, '--secondary-key', KEY)).code).toBe(0);
    expect(await cli('dps-fault', 'final', '--status', 'disabled', '--requests', 'register')).toEqual({ code: 0, out: 'DPS fault final set', err: '' });
    const raw = await RawMqttClient.connect({ port: emulator.dpsPort!, ca: emulator.caPem });
    opened.push(raw);
    const dps = new DpsRawClient(raw);
    const idScope = emulator.dps!.idScope;
    expect(await dps.connect('r1', dpsUsername(idScope, 'r1'), dpsSasToken(idScope, 'r1', KEY))).toBe(0);
    await dps.subscribe('$dps/registrations/res/#');
    const reply = await dps.request(REGISTER_TOPIC(1), '{"registrationId":"r1"}');
    expect(reply.topic).toBe('$dps/registrations/res/200/?$rid=1');
    expect(reply.body).toBe('{"operationId":"","status":"disabled","registrationState":{"registrationId":"r1","status":"disabled"}}');
  });

  it('sets a failed answer with its error code, and clear removes it', async () => {
    expect((await cli('dps-fault', 'final', '--status', 'failed', '--error-code', '400209', '--error-message', 'no hub', '--count', '2')).code).toBe(0);
    expect(emulator.dps!.faults.pending()).toBe(2);
    expect((await cli('dps-fault', 'clear')).code).toBe(0);
    expect(emulator.dps!.faults.pending()).toBe(0);
    expect((await cli('dps-fault', 'final', '--status', 'assigned')).code).toBe(1);
  });
});
