// Minified size of a layer: esbuild bundles its entry modules into one IIFE (every export kept, unused internals
// dropped), the way a single-script XS build would carry it. Also returns which src/ modules went in.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BundleSize {
  bytes: number;
  gzipBytes: number;
  /** Repository-relative paths of the modules in the bundle. */
  modules: string[];
}

export async function bundleSize(repoRoot: string, entries: string[]): Promise<BundleSize> {
  const names = entries.map((_, i) => `m${i}`);
  const contents = `${entries.map((path, i) => `import * as ${names[i]} from './${path}';`).join('\n')}\nexport { ${names.join(', ')} };\n`;
  const result = await build({
    stdin: { contents, resolveDir: repoRoot, sourcefile: 'footprint-entry.ts', loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: 'firmware',
    target: 'es2022',
    platform: 'neutral',
    resolveExtensions: ['.ts', '.js'],
    mainFields: ['module', 'main'],
    // tweetnacl (the FOTA module's Ed25519) asks for node:crypto only as an optional random source.
    external: ['crypto'],
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const modules = Object.keys(result.metafile.inputs).filter((path) => path.startsWith('src/'));
  return { bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, modules };
}
