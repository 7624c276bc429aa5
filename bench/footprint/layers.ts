// The layers whose size we report, as the src/ modules that define each one. A layer's figure includes
// everything those modules import (a layer cannot ship without what it stands on).
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Layer {
  name: string;
  /** Repository-relative .ts paths. */
  entries: string[];
}

function tsFilesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFilesUnder(root, path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative('.', path));
  }
  return out.sort();
}

export function footprintLayers(repoRoot: string): Layer[] {
  const files = (dir: string): string[] => tsFilesUnder(repoRoot, dir);
  const hub = ['src/hub/index.ts'];
  const dps = files('src/dps');
  // FOTA is an optional module a host wires in (src/fota/fota-module.ts): counted on its own, not in the base.
  const optional = (path: string): boolean => path.startsWith(join('src', 'fota')) || path.startsWith(join('src', 'http'));
  return [
    { name: 'MQTT codec', entries: ['src/mqtt/encode.ts', 'src/mqtt/decode.ts', 'src/mqtt/stream-parser.ts'] },
    { name: 'MQTT session (with codec)', entries: ['src/mqtt/session.ts'] },
    { name: 'Azure protocol (all of src/azure)', entries: files('src/azure') },
    { name: 'hub client (with all it uses)', entries: hub },
    { name: 'DPS client (with all it uses)', entries: dps },
    { name: 'whole client: hub + DPS', entries: [...hub, ...dps] },
    { name: 'all of src/ (app, boot, storage, trust too)', entries: files('src').filter((path) => !optional(path)) },
    { name: 'FOTA module, optional (src/fota, src/http, tweetnacl, with all they use)', entries: ['src/fota/fota-module.ts'] },
    { name: 'FOTA module with signed root-certificate bundles (src/fota/trust-bundle.ts too)', entries: ['src/fota/fota-module.ts', 'src/fota/trust-bundle.ts'] },
  ];
}

export const WHOLE_CLIENT_LAYER = 'whole client: hub + DPS';
