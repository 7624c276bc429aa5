// The default trust anchors on Node: the DER roots committed in certs/ (see certs/README.md for their origin).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NamedRoot } from '../../src/trust/trust-store';

/** The repository's certs/ folder, found from this file so it works from any working directory. */
export const DEFAULT_CERTS_DIR = fileURLToPath(new URL('../../certs/', import.meta.url));

/** Every `*.der` in `dir`, sorted by name, named after the file without its extension. */
export function loadDefaultRoots(dir: string = DEFAULT_CERTS_DIR): NamedRoot[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.der'))
    .sort()
    .map((file) => ({ name: file.slice(0, -4), der: new Uint8Array(readFileSync(join(dir, file))) }));
}
