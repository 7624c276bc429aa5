#!/usr/bin/env node
// Bundles a TypeScript entry (and everything it imports) into one plain script the XS engine evaluates as is.
// From tests: `await bundleForXs('tests/xs/entries/smoke.ts')` gives the script text.
// From the CLI: `npm run bundle:xs [-- entry.ts ...] [--outdir dir] [--minify]` writes <outdir>/<name>.js
// (default entry hosts/xsnap/main.ts, default outdir dist/xs) and prints each size.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_ENTRY = 'hosts/xsnap/main.ts';
const DEFAULT_OUTDIR = join(REPO_ROOT, 'dist/xs');

const NODE_BUILTINS = new Set(builtinModules);

/** True when the package holding `importer` maps `name` to false in its package.json `browser` field. */
function browserOmits(importer, name) {
  const match = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(importer ?? '');
  if (match === null) return false;
  try {
    const browser = JSON.parse(readFileSync(join(match[1], 'package.json'), 'utf8')).browser;
    return typeof browser === 'object' && browser !== null && browser[name] === false;
  } catch {
    return false;
  }
}

// XS has no Node modules: fail the bundle naming the import, rather than produce a script that dies in XS. A
// package that declares it can do without one (`"browser": {"crypto": false}`, as tweetnacl does for its optional
// random source) gets an empty module instead.
const refuseNodeBuiltins = {
  name: 'refuse-node-builtins',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /.*/, namespace: 'omitted-builtin' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
    pluginBuild.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, '');
      if (!args.path.startsWith('node:') && !NODE_BUILTINS.has(bare.split('/')[0])) return undefined;
      if (browserOmits(args.importer, bare)) return { path: bare, namespace: 'omitted-builtin' };
      return {
        errors: [{ text: `"${args.path}" is a Node built-in module; XS has none (imported from ${args.importer || 'the entry'})` }],
      };
    });
  },
};

/**
 * @param {string} entry path of the entry file, absolute or relative to the repository root
 * @param {{ minify?: boolean }} [options]
 * @returns {Promise<string>} the script
 */
export async function bundleForXs(entry, options = {}) {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [resolve(REPO_ROOT, entry)],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    resolveExtensions: ['.ts', '.mjs', '.js'],
    plugins: [refuseNodeBuiltins],
    minify: options.minify ?? false,
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

async function main(argv) {
  const entries = [];
  let outdir = DEFAULT_OUTDIR;
  let minify = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--outdir') outdir = argv[++i];
    else if (argv[i] === '--minify') minify = true;
    else entries.push(argv[i]);
  }
  if (entries.length === 0) entries.push(join(REPO_ROOT, DEFAULT_ENTRY));
  // From the CLI, paths are relative to where the command runs.
  const outPath = resolve(outdir);
  mkdirSync(outPath, { recursive: true });
  for (const entry of entries) {
    const script = await bundleForXs(resolve(entry), { minify });
    const file = join(outPath, `${basename(entry, extname(entry))}.js`);
    writeFileSync(file, script);
    console.log(`${file}  ${Buffer.byteLength(script).toLocaleString('en-US')} bytes`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error.errors?.map((e) => e.text).join('\n') || error.message);
    process.exitCode = 1;
  });
}
