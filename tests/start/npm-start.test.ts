// `npm start` end to end: the script (through tsx, as the npm script runs it) in its own process group with a
// fresh state folder; wait for every step of the story, then Ctrl-C (SIGINT to the whole group, as a terminal
// does) and check it exits 0 quickly and leaves no process behind. The script runs through tsx for the exit-code
// check (on Ctrl-C npm reports the signal whatever its child does); one test drives the literal `npm start`.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

interface Run {
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startScript(args: string[], command: [string, ...string[]] = [TSX, 'scripts/start.ts']): Run {
  const [file, ...first] = command;
  const child = spawn(file, [...first, ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer): void => {
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    output.push(...lines);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output, exited };
}

function waitForLine(run: Run, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      const found = run.output.find((line) => pattern.test(line));
      if (found !== undefined) return resolve(found);
      if (Date.now() - started > timeoutMs) return reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${run.output.join('\n')}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

/** True while any process of the group still exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (!groupAlive(pgid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !groupAlive(pgid);
}

let stateDir: string;
const started: Run[] = [];

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
});

afterAll(() => {
  // Whatever happened, nothing of ours keeps running.
  for (const run of started) if (run.child.pid !== undefined && groupAlive(run.child.pid)) process.kill(-run.child.pid, 'SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

describe('npm start shows the whole flow and stops cleanly on Ctrl-C', () => {
  test('provisioning, connection, telemetry, twin ack, method, C2D; then SIGINT exits 0 with nothing left running', async () => {
    const run = startScript(['--state-dir', stateDir]);
    started.push(run);
    const pid = run.child.pid!;
    const steps: Array<[string, RegExp]> = [
      ['provisioning', /^\[device\] .*no stored assignment; provisioning through DPS/],
      ['registration', /^\[device\] .*registering with DPS at 127\.0\.0\.1:\d+ \(id scope 0ne00000001, registration demo-thermostat-001\)/],
      ['assignment', /^\[device\] .*DPS assigned hub localhost:\d+, device demo-thermostat-001; assignment stored/],
      ['connection', /^\[device\] .*connected to the hub as device demo-thermostat-001/],
      ['telemetry sent', /^\[device\] .*telemetry #1 sent \(temperature [\d.]+ C, humidity [\d.]+ %\)/],
      ['telemetry received', /^\[emulator\] telemetry from demo-thermostat-001: \{"temperature":[\d.]+,"humidity":[\d.]+\}/],
      ['twin change', /^\[device\] .*twin: telemetryInterval 5000 ms -> 2000 ms \(desired version \d+\)/],
      ['twin ack', /^\[emulator\] twin: the device acknowledged telemetryInterval = 2000 \(ac 200, av \d+\)/],
      ['method', /^\[emulator\] method: getStatus answered 200 \{"deviceId":"demo-thermostat-001",.*"telemetryIntervalMs":2000/],
      ['method on the device', /^\[device\] .*method getStatus answered 200/],
      ['C2D', /^\[device\] .*C2D message received id [\w-]+: "hello from the cloud" \(properties: kind=demo\)/],
      ['C2D completed', /^\[emulator\] c2d: message [\w-]+ completed by the device/],
      ['demo done', /^\[demo\] all steps observed/],
    ];
    for (const [, pattern] of steps) await waitForLine(run, pattern, 40_000);
    // Telemetry keeps flowing at the new interval until Ctrl-C.
    await waitForLine(run, /^\[device\] .*telemetry #3 sent/, 10_000);

    const sentAt = Date.now();
    process.kill(-pid, 'SIGINT');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exit = await Promise.race([run.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 8000)))]);
    clearTimeout(timer);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - sentAt).toBeLessThan(8000);
    expect(run.output).toContainEqual(expect.stringMatching(/^\[emulator\] stopped$/));
    expect(await groupGone(pid, 3000)).toBe(true);
  }, 60_000);

  test('--demo-once runs the scripted flow and exits 0 by itself', async () => {
    const run = startScript(['--state-dir', stateDir, '--demo-once']);
    started.push(run);
    const pid = run.child.pid!;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exit = await Promise.race([run.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 45_000)))]);
    clearTimeout(timer);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(run.output).toContainEqual(expect.stringMatching(/^\[demo\] all steps observed/));
    // The state folder remembers the first run's twin, so this run sets the other interval.
    expect(run.output).toContainEqual(expect.stringMatching(/^\[emulator\] twin: the device acknowledged telemetryInterval = 3000 \(ac 200/));
    expect(run.output).toContainEqual(expect.stringMatching(/^\[emulator\] device demo-thermostat-001 disconnected \(client-disconnect\)/));
    expect(await groupGone(pid, 3000)).toBe(true);
  }, 60_000);

  test('the literal `npm start` command: Ctrl-C stops the device and the emulator, nothing left running', async () => {
    const run = startScript(['--', '--state-dir', stateDir], ['npm', 'start']);
    started.push(run);
    const pid = run.child.pid!;
    await waitForLine(run, /^\[demo\] all steps observed/, 40_000);
    process.kill(-pid, 'SIGINT');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exit = await Promise.race([run.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 8000)))]);
    clearTimeout(timer);
    // npm answers a SIGINT it received by dying of it (or exit 130) whatever its child did; the script itself
    // exits 0 (first test).
    expect(exit).not.toBe('timeout');
    const { code, signal } = exit as { code: number | null; signal: NodeJS.Signals | null };
    expect(code === 0 || code === 130 || signal === 'SIGINT').toBe(true);
    expect(run.output).toContainEqual(expect.stringMatching(/^\[device\] .*firmware: stopped$/));
    expect(run.output).toContainEqual(expect.stringMatching(/^\[emulator\] stopped$/));
    expect(await groupGone(pid, 3000)).toBe(true);
  }, 60_000);
});
