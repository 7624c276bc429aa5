// Builds the hub explorer page (emulator/explorer/page/) into one script with esbuild: preact, uPlot and its
// stylesheet included, nothing fetched from anywhere at run time. Built in memory when the emulator starts with
// the page (`npm start`, `cli.ts start`) and by the browser tests, so the page served is always the source's.
//
//   npx tsx emulator/explorer/build.ts [OUT_FILE]     writes the bundle (to look at its size)
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ENTRY = join(import.meta.dirname, 'page', 'main.tsx');

export async function buildExplorerScript(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.css': 'text' },
    legalComments: 'none',
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output for the explorer page');
  return file.text;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const script = await buildExplorerScript();
  const out = process.argv[2];
  if (out) writeFileSync(out, script);
  process.stdout.write(`explorer bundle: ${Buffer.byteLength(script)} bytes${out ? ` -> ${out}` : ''}\n`);
}
