// What the mcsim tests share: building an app with mcconfig for the Linux simulator and starting mcsim headless
// under xvfb-run. The tools come from $MODDABLE (these tests skip when it is not set) and node_modules/.bin.
import { spawn, type ChildProcess } from 'node:child_process';
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
