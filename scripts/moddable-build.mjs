#!/usr/bin/env node
// Builds the firmware with the Moddable SDK's mcconfig, after checking that everything the target needs is
// there and saying exactly what is missing when it is not. It never installs or builds the SDK itself.
//
//   node scripts/moddable-build.mjs <sim|lin|esp32|nrf52> [--manifest FILE] [--out DIR] [--board NAME] [--run]
//                                   [-- extra mcconfig arguments]
//
//   sim    debug build for the desktop simulator (mcconfig -d -m -p lin -t build): instrumented, xsbug-ready
//   lin    release build for the desktop simulator (mcconfig -m -p lin -t build)
//   esp32  build for an ESP32 board (mcconfig -m -p esp32[/BOARD] -t build; needs the ESP-IDF)
//   nrf52  build for an nRF52 board (mcconfig -m -p nrf52/BOARD -t build; BOARD defaults to moddable_four)
//   --run  sim/lin only: run the result headless in mcsim (xvfb-run -a stdbuf -oL mcsim mc.so); Ctrl-C stops it
//
// The manifest defaults to manifest.json at the repository root. Builds go to --out DIR, or where mcconfig
// puts them by default ($MODDABLE/build/bin, $MODDABLE/build/tmp).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = ['sim', 'lin', 'esp32', 'nrf52'];

function usage(message) {
  if (message) console.error(`moddable-build: ${message}`);
  console.error('usage: node scripts/moddable-build.mjs <sim|lin|esp32|nrf52> [--manifest FILE] [--out DIR] [--board NAME] [--run] [-- mcconfig args]');
  process.exit(2);
}

function parseArgs(argv) {
  const options = { target: argv[0], manifest: join(REPO_ROOT, 'manifest.json'), out: undefined, board: undefined, run: false, extra: [] };
  if (!TARGETS.includes(options.target)) usage(options.target ? `unknown target "${options.target}"` : 'no target given');
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--') {
      options.extra = argv.slice(i + 1);
      break;
    } else if (arg === '--manifest') options.manifest = resolve(value());
    else if (arg === '--out') options.out = resolve(value());
    else if (arg === '--board') options.board = value();
    else if (arg === '--run') options.run = true;
    else usage(`unknown option "${arg}"`);
  }
  if (options.run && !['sim', 'lin'].includes(options.target)) usage('--run works for sim and lin only');
  return options;
}

/** Whether `name` is an executable on the given PATH. */
function onPath(name, path) {
  return path.split(delimiter).some((dir) => dir && existsSync(join(dir, name)));
}

function checkEnvironment(options) {
  const problems = [];
  const notes = [];
  const moddable = process.env.MODDABLE;
  const toolsDir = moddable ? join(moddable, 'build/bin/lin/release') : undefined;
  const nodeBin = join(REPO_ROOT, 'node_modules/.bin');
  const userPath = process.env.PATH ?? '';

  if (!moddable) {
    problems.push('MODDABLE is not set: export MODDABLE=/opt/moddable (a Moddable SDK checkout; see its "Moddable SDK - Getting Started.md", Linux section)');
  } else if (!existsSync(moddable)) {
    problems.push(`MODDABLE=${moddable} does not exist`);
  } else if (!existsSync(join(toolsDir, 'mcconfig'))) {
    problems.push(`the Moddable tools are not built (${join(toolsDir, 'mcconfig')} is missing): cd $MODDABLE/build/makefiles/lin && make`);
  } else if (!onPath('mcconfig', userPath)) {
    notes.push(`mcconfig is not on your PATH; using ${toolsDir} (export PATH=$MODDABLE/build/bin/lin/release:$PATH to call the tools yourself)`);
  }
  if (!existsSync(join(nodeBin, 'tsc'))) problems.push(`TypeScript is missing (${join(nodeBin, 'tsc')}): run npm ci in ${REPO_ROOT}; mcconfig runs tsc from PATH`);
  if (!onPath('make', userPath)) problems.push('make is not on PATH: apt-get install make');
  if (!existsSync(options.manifest)) {
    problems.push(`no manifest at ${options.manifest}: pass --manifest FILE (e.g. tests/moddable/smoke/manifest.json for the smoke app)`);
  }

  if (options.target === 'sim' || options.target === 'lin') {
    if (!onPath('gcc', userPath)) problems.push('gcc is not on PATH: apt-get install gcc');
    if (!onPath('pkg-config', userPath)) problems.push('pkg-config is not on PATH: apt-get install pkg-config');
    else if (spawnSync('pkg-config', ['--exists', 'gtk+-3.0']).status !== 0) problems.push('GTK 3 development files are missing: apt-get install libgtk-3-dev');
    if (options.run) {
      if (!onPath('xvfb-run', userPath)) problems.push('xvfb-run is not on PATH (mcsim needs an X display): apt-get install xvfb xauth');
      if (!onPath('stdbuf', userPath)) problems.push('stdbuf is not on PATH (keeps trace() output line-buffered): apt-get install coreutils');
    }
  }

  if (options.target === 'esp32') {
    const idf = process.env.IDF_PATH;
    if (!idf) {
      problems.push('IDF_PATH is not set: install the ESP-IDF version the SDK names in $MODDABLE/documentation/devices/esp32.md and export IDF_PATH');
    } else if (!existsSync(join(idf, 'export.sh'))) {
      problems.push(`IDF_PATH=${idf} has no export.sh: not an ESP-IDF checkout`);
    } else if (!onPath('idf.py', userPath)) {
      notes.push('idf.py is not on PATH; mcconfig will source $IDF_PATH/export.sh itself');
    }
    if (!onPath('python3', userPath)) problems.push('python3 is not on PATH (the ESP-IDF build needs it)');
  }

  if (options.target === 'nrf52') {
    const sdk = process.env.NRF_SDK_DIR;
    if (!sdk) problems.push('NRF_SDK_DIR is not set: install the nRF5 SDK as $MODDABLE/documentation/devices/nrf52.md describes and export NRF_SDK_DIR');
    else if (!existsSync(sdk)) problems.push(`NRF_SDK_DIR=${sdk} does not exist`);
    const gccRoot = process.env.NRF52_GCC_ROOT ?? join(process.env.NRF_ROOT ?? join(homedir(), 'nrf5'), 'arm-gnu-toolchain-12.2.rel1-x86_64-arm-none-eabi');
    if (!existsSync(join(gccRoot, 'bin/arm-none-eabi-gcc'))) {
      problems.push(`the Arm GNU toolchain 12.2.rel1 is missing (${join(gccRoot, 'bin/arm-none-eabi-gcc')}): see $MODDABLE/documentation/devices/nrf52.md, or set NRF52_GCC_ROOT`);
    }
    notes.push('the Moddable SDK has no IP network on nRF52: the nrf52 section builds hosts/moddable/main-modem, which reaches Azure through an nRF91 modem (Serial LTE Modem) on a UART, set modemTransmit= and modemReceive= (pins); never built here (no nRF5 SDK), see docs/modem.md');
  }

  return { problems, notes, toolsDir, nodeBin };
}

function mcconfigArgs(options) {
  const platform =
    options.target === 'esp32' ? (options.board ? `esp32/${options.board}` : 'esp32')
    : options.target === 'nrf52' ? `nrf52/${options.board ?? 'moddable_four'}`
    : 'lin';
  const args = options.target === 'sim' ? ['-d', '-m', '-p', platform, '-t', 'build'] : ['-m', '-p', platform, '-t', 'build'];
  if (options.out) args.push('-o', options.out);
  args.push(...options.extra, options.manifest);
  return args;
}

function findLibrary(dir, project) {
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (!statSync(path).isDirectory()) continue;
    if (entry === project && existsSync(join(path, 'mc.so'))) return join(path, 'mc.so');
    const found = findLibrary(path, project);
    if (found) return found;
  }
  return undefined;
}

/** `group`: run in its own process group and take it down on Ctrl-C or SIGTERM (xvfb-run leaves Xvfb and mcsim). */
function runChild(command, args, env, group = false) {
  return new Promise((done) => {
    const child = spawn(command, args, { stdio: 'inherit', env, detached: group });
    const stop = () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    };
    if (group) {
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    }
    child.on('close', (code, signal) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done(code ?? (signal ? 1 : 0));
    });
  });
}

const options = parseArgs(process.argv.slice(2));
const { problems, notes, toolsDir, nodeBin } = checkEnvironment(options);
for (const note of notes) console.error(`moddable-build: note: ${note}`);
if (problems.length > 0) {
  console.error(`moddable-build: cannot build "${options.target}", missing:`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(2);
}

if (options.out) mkdirSync(options.out, { recursive: true });
const env = { ...process.env, PATH: [toolsDir, nodeBin, process.env.PATH ?? ''].join(delimiter) };
const args = mcconfigArgs(options);
// Keys given as name=value would otherwise land in build logs.
const SECRET_SETTING = /^(connectionString|symmetricKey|groupKey|password|extraCAs)=/;
const shown = args.map((arg) => (SECRET_SETTING.test(arg) ? `${arg.slice(0, arg.indexOf('='))}=<hidden>` : arg));
console.error(`moddable-build: mcconfig ${shown.join(' ')}`);
const started = Date.now();
const code = await runChild('mcconfig', args, env);
console.error(`moddable-build: mcconfig exited ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (code !== 0) process.exit(code);

if (options.target === 'sim' || options.target === 'lin') {
  const binRoot = join(options.out ?? join(process.env.MODDABLE, 'build'), 'bin/lin');
  const library = findLibrary(binRoot, basename(dirname(options.manifest)));
  if (!library) {
    console.error(`moddable-build: built, but no mc.so found under ${binRoot}`);
    process.exit(1);
  }
  const command = ['xvfb-run', '-a', 'stdbuf', '-oL', 'mcsim', library];
  console.error(`moddable-build: built ${library}`);
  if (!options.run) {
    console.error(`moddable-build: run it with: PATH=${toolsDir}:$PATH ${command.join(' ')}`);
  } else {
    process.exit(await runChild(command[0], command.slice(1), env, true));
  }
}
