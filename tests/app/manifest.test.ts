// The top-level Moddable manifest stays in step with the code: its module list is exactly what the Moddable entry
// imports (computed by esbuild, type-only files excluded since they emit nothing), every module names its own
// path (so relative imports resolve in XS), and its config defaults are a valid firmware configuration.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { parseAppConfig } from '../../src/app/config';
import { readModdableSettings } from '../../hosts/moddable/moddable-settings';

const ROOT = join(import.meta.dirname, '..', '..');

interface Manifest {
  include: string[];
  creation: { main: string; stack?: number };
  config: Record<string, unknown>;
  modules: Record<string, string>;
  platforms: Record<string, { include?: string[]; config?: Record<string, unknown>; error?: string }>;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as Manifest;
const host = JSON.parse(readFileSync(join(ROOT, 'hosts/moddable/manifest_host.json'), 'utf8')) as { modules: Record<string, unknown> };

/** Every file the entry reaches at run time, as module names (no extension). */
async function importClosure(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
    // Moddable runtime modules: provided by the SDK, not by this repository.
    external: ['mc/config', 'Resource', 'timer', 'time', 'sntp', 'securesocket', 'preference', 'hmac', 'rng', 'x509', 'crypt', 'sha256'],
  });
  return Object.keys(result.metafile.inputs)
    .map((file) => file.replace(/\.ts$/, ''))
    .sort();
}

describe('modules', () => {
  test('the manifest lists exactly the entry and the src/ modules it imports; the host manifest lists the rest', async () => {
    const closure = await importClosure('hosts/moddable/main-moddable.ts');
    const hostModules = Object.keys(host.modules).filter((name) => name !== '*');
    const ours = closure.filter((name) => !hostModules.includes(name));
    expect(Object.keys(manifest.modules).sort()).toEqual(ours);
    expect(closure.filter((name) => !name.startsWith('src/') && !name.startsWith('hosts/moddable/'))).toEqual([]);
  });

  test('each module is named after its path, so relative imports resolve the same in XS', () => {
    for (const [name, path] of Object.entries(manifest.modules)) expect(path).toBe(`./${name}`);
    expect(manifest.creation.main).toBe('hosts/moddable/main-moddable');
    expect(manifest.modules['hosts/moddable/main-moddable']).toBe('./hosts/moddable/main-moddable');
  });

  test("the XS stack is the 512 slots of Moddable's ESP32 targets: above the 384 the whole flow is proven in (tests/moddable/esp32-heap)", () => {
    expect(manifest.creation.stack).toBe(512);
  });
});

describe('platforms', () => {
  test('esp32 and the simulators get the network, TLS, SNTP and the host; nrf52 gets ECMA-419 IO (the modem UART) and main-modem', () => {
    const network = [
      '$(MODDABLE)/examples/manifest_net.json',
      '$(MODDABLE)/modules/crypt/tls.json',
      '$(MODDABLE)/modules/network/sntp/manifest.json',
      './hosts/moddable/manifest_host.json',
    ];
    for (const platform of ['esp32', 'lin', 'mac', 'win']) expect(manifest.platforms[platform]?.include).toEqual(network);
    expect(manifest.platforms['esp32']?.config).toEqual({ ssid: '', password: '', hostKind: 'moddable-esp32', deviceProfile: 'esp32' });
    expect(manifest.platforms['nrf52']?.include).toEqual(['$(MODDABLE)/modules/io/manifest.json', '$(MODDABLE)/modules/files/preference/manifest.json']);
    expect(manifest.platforms['nrf52']?.config).toMatchObject({ hostKind: 'moddable-nrf52', deviceProfile: 'esp32' });
    expect(manifest.include).toEqual(['$(MODDABLE)/examples/manifest_base.json']);
  });
});

describe('config defaults', () => {
  test('are a valid configuration that falls back to the identity stored on the device', () => {
    for (const platform of ['esp32', 'lin']) {
      const merged = { ...manifest.config, ...manifest.platforms[platform]!.config };
      const settings = readModdableSettings(merged);
      expect(settings.problems).toEqual([]);
      expect(settings.hostKind).toBe(`moddable-${platform}`);
      const parsed = parseAppConfig(settings.firmwareConfig);
      expect(parsed.ok && parsed.value.identity).toEqual({ kind: 'stored' });
      expect(parsed.ok && parsed.value.telemetryIntervalMs).toBe(10_000);
    }
  });

  test('mcconfig name=value overrides arrive as text and still make a valid DPS configuration', () => {
    const overridden = {
      ...manifest.config,
      ...manifest.platforms['lin']!.config,
      idScope: '0ne00000001',
      registrationId: 'dev-1',
      groupKey: 'cGFzc3dvcmQ=',
      dpsEndpoint: 'localhost:8884',
      telemetryIntervalMs: '2000',
    };
    const parsed = parseAppConfig(readModdableSettings(overridden).firmwareConfig);
    expect(parsed.ok && parsed.value.identity).toMatchObject({ kind: 'dps', endpoint: 'localhost:8884', credential: { kind: 'sas' }, enrollmentGroup: true });
    expect(parsed.ok && parsed.value.telemetryIntervalMs).toBe(2000);
  });
});
