// XS bytecode sizes from the Moddable SDK itself: `mcconfig -m -p lin -t build` of the top-level manifest into a
// temporary folder, then the size of every .xsb it compiled. Also compiles Moddable's own mqtt.js with the same
// xsc options, to put a measured figure next to the published one.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export interface XsbSizes {
  /** Module path without extension (`src/mqtt/encode`) to bytes. */
  modules: Map<string, number>;
  /** Moddable's modules/network/mqtt/mqtt.js compiled alone, when it could be. */
  moddableMqtt?: number;
  seconds: number;
}

export type XsbOutcome = { ok: true; sizes: XsbSizes } | { ok: false; reason: string };

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-6000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => resolve({ code: -1, output: error.message }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

function walkXsb(dir: string, root: string, into: Map<string, number>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walkXsb(path, root, into);
    else if (entry.name.endsWith('.xsb')) into.set(relative(root, path).replace(/\.xsb$/, ''), statSync(path).size);
  }
}

function findModulesDir(dir: string, depth = 0): string | undefined {
  if (depth > 6 || !existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === 'modules' && existsSync(join(path, 'src'))) return path;
    const found = findModulesDir(path, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export async function buildXsb(repoRoot: string): Promise<XsbOutcome> {
  const moddable = process.env.MODDABLE;
  if (!moddable) return { ok: false, reason: '$MODDABLE is not set: XS bytecode sizes skipped (export MODDABLE=/path/to/moddable to measure them)' };
  const manifest = join(repoRoot, 'manifest.json');
  if (!existsSync(manifest)) return { ok: false, reason: 'no manifest.json at the repository root: XS bytecode sizes skipped' };
  const bin = join(moddable, 'build/bin/lin/release');
  if (!existsSync(join(bin, 'mcconfig'))) return { ok: false, reason: `mcconfig not found in ${bin}: build the Moddable SDK tools first` };
  const out = mkdtempSync(join(tmpdir(), 'bench-xsb-'));
  const env = { ...process.env, PATH: `${bin}:${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH ?? ''}` };
  const started = Date.now();
  try {
    const build = await run('mcconfig', ['-m', '-p', 'lin', '-t', 'build', '-o', out, manifest], repoRoot, env);
    const modulesDir = findModulesDir(join(out, 'tmp'));
    if (build.code !== 0 || modulesDir === undefined) {
      return { ok: false, reason: `mcconfig -m -p lin failed (exit ${build.code}): ${build.output.trim().split('\n').slice(-5).join(' / ')}` };
    }
    const modules = new Map<string, number>();
    walkXsb(modulesDir, modulesDir, modules);
    const sizes: XsbSizes = { modules, seconds: (Date.now() - started) / 1000 };
    const mqttSource = join(moddable, 'modules/network/mqtt/mqtt.js');
    if (existsSync(mqttSource)) {
      const mqttOut = join(out, 'moddable-mqtt');
      mkdirSync(mqttOut);
      const compiled = await run('xsc', [mqttSource, '-c', '-e', '-o', mqttOut, '-r', 'mqtt'], repoRoot, env);
      const file = join(mqttOut, 'mqtt.xsb');
      if (compiled.code === 0 && existsSync(file)) sizes.moddableMqtt = statSync(file).size;
    }
    return { ok: true, sizes };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
