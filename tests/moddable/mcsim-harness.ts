// What the mcsim tests share: building an app with mcconfig for the Linux simulator and starting mcsim headless
// under xvfb-run. The tools come from $MODDABLE (these tests skip when it is not set) and node_modules/.bin.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MODDABLE = process.env.MODDABLE;
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD_TIMEOUT_MS = 300_000;

export interface Finished {
  code: number | null;
  output: string;
  ms: number;
}

export interface Built extends Finished {
  /** The simulator library (mc.so) mcconfig made; undefined when the build failed. */
  library: string | undefined;
}

function toolPath(): string {
  return [join(MODDABLE ?? '', 'build/bin/lin/release'), join(REPO, 'node_modules/.bin'), process.env.PATH ?? ''].join(':');
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Finished> {
  const started = Date.now();
  const child = spawn(command, args, { cwd, env: { ...process.env, PATH: toolPath() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output, ms: Date.now() - started });
    });
  });
}

export function findFile(dir: string, name: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      const found = findFile(path, name);
      if (found) return found;
    } else if (entry === name) return path;
  }
  return undefined;
}

/** Throws (failing the suite's beforeAll) when $MODDABLE's tools were never built. */
export function requireMcconfig(): void {
  const mcconfig = join(MODDABLE ?? '', 'build/bin/lin/release/mcconfig');
  if (!existsSync(mcconfig)) throw new Error(`${mcconfig} is missing: build the tools (cd $MODDABLE/build/makefiles/lin && make)`);
}

/**
 * `mcconfig -m -p lin <args>` in `work`, output to work/build; prints the tail of the output when no mc.so came
 * out of it.
 */
export async function buildForSimulator(work: string, args: string[]): Promise<Built> {
  const build = await run('mcconfig', ['-m', '-p', 'lin', ...args], work, BUILD_TIMEOUT_MS);
  const library = build.code === 0 ? findFile(join(work, 'build/bin'), 'mc.so') : undefined;
  if (!library) console.log(`mcconfig failed (exit ${build.code}) after ${build.ms} ms:\n${build.output.slice(-4000)}`);
  return { ...build, library };
}

/** mcsim headless under xvfb-run, in a process group of its own (xvfb-run starts Xvfb in the same group). */
export function spawnMcsim(library: string, cwd: string, env: Record<string, string> = {}): ChildProcess {
  return spawn('xvfb-run', ['-a', 'stdbuf', '-oL', 'mcsim', library], {
    cwd,
    env: { ...process.env, PATH: toolPath(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

export function listFiles(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? listFiles(path, suffix) : entry.endsWith(suffix) ? [path] : [];
  });
}

/** Whether any process of the group still exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The ids of the processes named `name` in process group `pgid`. */
export function inGroup(pgid: number, name: string): number[] {
  const found = spawnSync('pgrep', ['-g', String(pgid), '-x', name], { encoding: 'utf8' });
  return found.stdout
    .split('\n')
    .filter((line) => /^[0-9]+$/.test(line))
    .map(Number);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * mcsim under xvfb-run in a process group of its own (xvfb-run starts Xvfb in the same group). TMPDIR points
 * xvfb-run's Xauthority folder into our work folder.
 */
export class Simulator {
  output = '';
  exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private done = false;

  constructor(library: string, cwd: string, tmp: string) {
    this.child = spawnMcsim(library, cwd, { TMPDIR: tmp });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolveExit) =>
      this.child.on('close', (code) => {
        this.done = true;
        resolveExit(code);
      }),
    );
  }

  get running(): boolean {
    return !this.done;
  }

  get pgid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Ends mcsim alone first, so xvfb-run returns normally and runs its own clean-up (stops Xvfb, removes its
   * Xauthority folder); a signal to xvfb-run itself would skip that. Whatever is left after 5 s gets SIGTERM,
   * then SIGKILL, as a group.
   */
  async stop(): Promise<void> {
    const pgid = this.child.pid;
    if (pgid === undefined) return;
    for (const pid of inGroup(pgid, 'mcsim')) process.kill(pid, 'SIGTERM');
    for (const [signal, waitMs] of [['SIGTERM', 5000], ['SIGKILL', 3000]] as const) {
      const deadline = Date.now() + waitMs;
      while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
      if (groupAlive(pgid)) process.kill(-pgid, signal);
    }
    if (this.running) await this.exited;
  }
}

export async function waitUntil(condition: () => boolean, timeoutMs: number, giveUp: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    if (giveUp()) return condition();
    await sleep(200);
  }
  return condition();
}

/**
 * The mcconfig `name=value` settings that point the firmware at a running emulator: DPS with a group enrollment key,
 * the hub where it really listens (the name DPS assigns stays what is signed), and the emulator's CA.
 */
export function emulatorSettings(target: {
  idScope: string;
  registrationId: string;
  groupKey: string;
  dpsPort: number;
  hubPort: number;
  caDer: Uint8Array;
}): string[] {
  return [
    `idScope=${target.idScope}`,
    `registrationId=${target.registrationId}`,
    `groupKey=${target.groupKey}`,
    `dpsEndpoint=localhost:${target.dpsPort}`,
    `hubEndpoint=localhost:${target.hubPort}`,
    `extraCAs=${Buffer.from(target.caDer).toString('base64')}`,
  ];
}
