// manifest_fota.json, the Moddable build with FOTA: it lists exactly the modules hosts/moddable/main-moddable-fota.ts
// imports beyond the base manifest.json (scripts/moddable-fota.mjs --check), and the base image carries none of
// src/fota, src/http or tweetnacl (FOTA is optional: flash costs). No SDK needed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fotaModules, FOTA_MANIFEST, withFotaModules } from '../../scripts/moddable-fota.mjs';
import { REPO } from './mcsim-harness';

describe('manifest_fota.json', () => {
  test('lists the FOTA entry\'s modules beyond the base image (run `node scripts/moddable-fota.mjs --write` after changing them)', async () => {
    const current = JSON.parse(readFileSync(FOTA_MANIFEST, 'utf8')) as Record<string, unknown>;
    const modules = await fotaModules();
    expect(withFotaModules(current, modules)).toEqual(current);
    expect(modules).toEqual(expect.arrayContaining(['src/fota/fota-agent', 'src/fota/signature', 'src/http/https-client', 'hosts/moddable/main-moddable-fota']));
  });

  test('the base manifest.json has no FOTA module and no tweetnacl', () => {
    const base = JSON.parse(readFileSync(join(REPO, 'manifest.json'), 'utf8')) as { modules: Record<string, string> };
    expect(Object.keys(base.modules).filter((name) => /^src\/(fota|http)\/|tweetnacl|fota/.test(name))).toEqual([]);
  });
});
