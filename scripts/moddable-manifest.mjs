#!/usr/bin/env node
// The Moddable manifest's module list and preload list, derived from what the firmware really imports: esbuild
// follows hosts/moddable/main-moddable.ts through src/ (Moddable's own modules stay external), and every module
// of ours it reaches is listed once under `modules` and once under `preload`, so module code and the objects it
// builds at load time live in flash, not in the XS heap. A module only tests, the soak or the emulator import
// never enters the device image.
//   node scripts/moddable-manifest.mjs          prints the lists
//   node scripts/moddable-manifest.mjs --write  writes them into manifest.json
//   node scripts/moddable-manifest.mjs --check  exits 1 when manifest.json differs (tests/moddable runs this check)
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEVICE_ENTRY = 'hosts/moddable/main-moddable.ts';
/** The entry of boards that reach Azure through an nRF91 modem (the manifest's nrf52 section makes it main). */
export const MODEM_ENTRY = 'hosts/moddable/main-modem.ts';
const MANIFEST = join(REPO_ROOT, 'manifest.json');

/**
 * Moddable's Linux Preference (modules/files/preference/lin) fills a static cache when it loads; evaluated at build
 * time by a preload, its saves then fail with "read only value" and the preference file is left empty. A preloaded
 * module's imports are preloaded with it, so every module of ours that reaches `preference` loads at run time on
 * the simulators. On ESP32 the SDK's Preference is native and preloaded by the SDK itself: there they are preloaded.
 */
export const LOAD_TIME_ONLY = ['preference'];

function importGraph(metafile) {
  const graph = new Map();
  for (const [path, input] of Object.entries(metafile.inputs)) graph.set(path, input.imports);
  return graph;
}

/** Modules of ours (paths without extension) that reach one of LOAD_TIME_ONLY through their imports. */
function reachingLoadTimeOnly(graph) {
  const memo = new Map();
  const reaches = (path, seen = new Set()) => {
    if (memo.has(path)) return memo.get(path);
    if (seen.has(path)) return false;
    seen.add(path);
    const result = (graph.get(path) ?? []).some((imp) => (imp.external ? LOAD_TIME_ONLY.includes(imp.path) : reaches(imp.path, seen)));
    memo.set(path, result);
    return result;
  };
  return [...graph.keys()].filter((path) => reaches(path));
}

/** Repository paths (no extension) of every module of ours the device entry imports at run time, sorted. */
export async function deviceModules() {
  return (await deviceGraph()).modules;
}

/** The device's modules, and those of them that must not be preloaded on the simulators (see LOAD_TIME_ONLY). */
export async function deviceGraph(entry = DEVICE_ENTRY) {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
    plugins: [
      {
        name: 'moddable-modules-external',
        setup(pluginBuild) {
          // Bare specifiers (mc/config, securesocket, timer, ...) are the Moddable runtime's, not ours.
          pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
        },
      },
    ],
  });
  const ours = (path) => /^(src|hosts\/moddable)\/.*\.ts$/.test(path);
  const name = (path) => path.replace(/\.ts$/, '');
  const modules = Object.keys(result.metafile.inputs).filter(ours).map(name).sort();
  const boardOnly = reachingLoadTimeOnly(importGraph(result.metafile)).filter(ours).map(name).sort();
  return { modules, boardOnly };
}

/** The modules the modem entry adds to the device's (the nrf52 section lists and preloads them). */
export async function modemOnlyModules() {
  const device = new Set((await deviceGraph()).modules);
  return (await deviceGraph(MODEM_ENTRY)).modules.filter((name) => !device.has(name));
}

/**
 * The manifest with its `modules` (our entries only; others kept) and `preload` set from them: every module, less
 * `boardOnly`, which the esp32 section preloads instead; and the nrf52 section's modem modules.
 */
export function withDeviceModules(manifest, modules, boardOnly = [], modemOnly = undefined) {
  const kept = Object.entries(manifest.modules ?? {}).filter(([name]) => !/^(src|hosts\/moddable)\//.test(name));
  const next = { ...manifest };
  next.modules = Object.fromEntries([...kept, ...modules.map((name) => [name, `./${name}`])]);
  next.preload = modules.filter((name) => !boardOnly.includes(name));
  const platforms = { ...(manifest.platforms ?? {}) };
  if (platforms.esp32) {
    const esp32 = { ...platforms.esp32 };
    if (boardOnly.length > 0) esp32.preload = [...boardOnly];
    else delete esp32.preload;
    platforms.esp32 = esp32;
    next.platforms = platforms;
  }
  if (modemOnly !== undefined && platforms.nrf52) {
    platforms.nrf52 = { ...platforms.nrf52, modules: Object.fromEntries(modemOnly.map((name) => [name, `./${name}`])), preload: [...modemOnly] };
    next.platforms = platforms;
  }
  return next;
}

/**
 * The opt-in manifests, each included after manifest.json by a project that wants the feature: the entry it makes
 * main, and the modules that entry adds to the device image, listed and preloaded like the base ones.
 */
export const OPT_IN_MANIFESTS = [
  { manifest: 'hosts/moddable/manifest_journal.json', entry: 'hosts/moddable/main-journal.ts' },
  { manifest: 'hosts/moddable/manifest_ws.json', entry: 'hosts/moddable/main-ws.ts' },
];

/** The modules an opt-in entry adds to the device's, and those of them that only the esp32 section preloads. */
export async function optInGraph(entry) {
  const base = new Set((await deviceGraph()).modules);
  const { modules, boardOnly } = await deviceGraph(entry);
  const added = modules.filter((name) => !base.has(name));
  return { modules: added, boardOnly: boardOnly.filter((name) => added.includes(name)) };
}

/** An opt-in manifest with its `modules` (paths relative to the manifest) and `preload` set from its entry's graph. */
export function withOptInModules(manifest, manifestPath, { modules, boardOnly }) {
  const kept = Object.entries(manifest.modules ?? {}).filter(([name]) => !/^(src|hosts\/moddable)\//.test(name));
  const from = (name) => {
    const path = relative(dirname(manifestPath), name);
    return path.startsWith('.') ? path : `./${path}`;
  };
  const next = { ...manifest, modules: Object.fromEntries([...modules.map((name) => [name, from(name)]), ...kept]) };
  next.preload = modules.filter((name) => !boardOnly.includes(name));
  const platforms = { ...(manifest.platforms ?? {}) };
  if (boardOnly.length > 0) platforms.esp32 = { ...(platforms.esp32 ?? {}), preload: [...boardOnly] };
  else if (platforms.esp32) delete platforms.esp32.preload;
  next.platforms = platforms;
  return next;
}

export function readManifest(path = MANIFEST) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function manifestText(manifest) {
  return `${JSON.stringify(manifest, null, '\t')}\n`;
}

async function main(argv) {
  const { modules, boardOnly } = await deviceGraph();
  const current = readManifest();
  const next = withDeviceModules(current, modules, boardOnly, await modemOnlyModules());
  const optIns = [];
  for (const { manifest, entry } of OPT_IN_MANIFESTS) {
    const path = join(REPO_ROOT, manifest);
    const graph = await optInGraph(entry);
    optIns.push({ manifest, path, graph, current: readManifest(path), next: withOptInModules(readManifest(path), manifest, graph) });
  }
  if (argv.includes('--write')) {
    writeFileSync(MANIFEST, manifestText(next));
    process.stdout.write(`manifest.json: ${modules.length} modules, ${next.preload.length} preloaded everywhere, ${boardOnly.length} on esp32 only (${boardOnly.join(', ')})\n`);
    for (const optIn of optIns) {
      writeFileSync(optIn.path, manifestText(optIn.next));
      process.stdout.write(`${optIn.manifest}: ${optIn.graph.modules.length} modules beyond manifest.json\n`);
    }
  } else if (argv.includes('--check')) {
    if (manifestText(current) !== manifestText(next)) {
      process.stderr.write('manifest.json lists other modules than the device imports: run `node scripts/moddable-manifest.mjs --write`\n');
      process.exitCode = 1;
    }
    for (const optIn of optIns) {
      if (manifestText(optIn.current) === manifestText(optIn.next)) continue;
      process.stderr.write(`${optIn.manifest} lists other modules than its entry adds: run \`node scripts/moddable-manifest.mjs --write\`\n`);
      process.exitCode = 1;
    }
  } else {
    process.stdout.write(`${modules.join('\n')}\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
