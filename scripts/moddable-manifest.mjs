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
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEVICE_ENTRY = 'hosts/moddable/main-moddable.ts';
const MANIFEST = join(REPO_ROOT, 'manifest.json');

/** Repository paths (no extension) of every module of ours the device entry imports at run time, sorted. */
export async function deviceModules() {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [DEVICE_ENTRY],
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
  return Object.keys(result.metafile.inputs)
    .filter((path) => /^(src|hosts\/moddable)\/.*\.ts$/.test(path))
    .map((path) => path.replace(/\.ts$/, ''))
    .sort();
}

/** The manifest with its `modules` (our entries only; others kept) and `preload` set from `modules`. */
export function withDeviceModules(manifest, modules) {
  const kept = Object.entries(manifest.modules ?? {}).filter(([name]) => !/^(src|hosts\/moddable)\//.test(name));
  const next = { ...manifest };
  next.modules = Object.fromEntries([...kept, ...modules.map((name) => [name, `./${name}`])]);
  next.preload = [...modules];
  return next;
}

export function readManifest() {
  return JSON.parse(readFileSync(MANIFEST, 'utf8'));
}

export function manifestText(manifest) {
  return `${JSON.stringify(manifest, null, '\t')}\n`;
}

async function main(argv) {
  const modules = await deviceModules();
  const current = readManifest();
  const next = withDeviceModules(current, modules);
  if (argv.includes('--write')) {
    writeFileSync(MANIFEST, manifestText(next));
    process.stdout.write(`manifest.json: ${modules.length} modules, all preloaded\n`);
  } else if (argv.includes('--check')) {
    if (manifestText(current) !== manifestText(next)) {
      process.stderr.write('manifest.json lists other modules than the device imports: run `node scripts/moddable-manifest.mjs --write`\n');
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
