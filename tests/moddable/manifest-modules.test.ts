// manifest.json lists exactly the modules the device imports, each one preloaded (scripts/moddable-manifest.mjs
// derives both lists from hosts/moddable/main-moddable.ts). Runs without the Moddable SDK.
import { join } from 'node:path';
import { deviceGraph, modemOnlyModules, OPT_IN_MANIFESTS, optInGraph, readManifest, type ModdableManifest } from '../../scripts/moddable-manifest.mjs';
import { REPO } from './mcsim-harness';

describe('manifest.json module lists', () => {
  let imported: string[];
  let boardOnly: string[];
  let manifest: ModdableManifest;

  beforeAll(async () => {
    ({ modules: imported, boardOnly } = await deviceGraph());
    manifest = readManifest();
  });

  test('every module of ours that the device imports is listed, and no other', () => {
    const listed = Object.keys(manifest.modules).filter((name) => /^(src|hosts\/moddable)\//.test(name)).sort();
    expect(listed).toEqual(imported);
    for (const name of listed) expect(manifest.modules[name]).toBe(`./${name}`);
  });

  test('every one of them is preloaded, so its code and load-time objects live in flash', () => {
    expect([...manifest.preload, ...(manifest.platforms?.esp32?.preload ?? [])].sort()).toEqual(imported);
  });

  test("the modules that reach Moddable's Preference are preloaded on esp32 only (the Linux Preference cannot be preloaded)", () => {
    expect(boardOnly).toEqual(['hosts/moddable/host', 'hosts/moddable/main-moddable', 'hosts/moddable/preference-store']);
    expect(manifest.platforms?.esp32?.preload).toEqual(boardOnly);
    for (const name of boardOnly) expect(manifest.preload).not.toContain(name);
  });

  test('modules only tests, the soak and the emulator use stay out of the device image', () => {
    expect(imported.length).toBeGreaterThan(50);
    expect(imported).toContain('src/mqtt/session');
    expect(imported).not.toContain('src/mqtt/broker-codec');
  });

  test('the nrf52 section: main-modem is main, and the modules it adds (the modem transport, the serial port) are listed and preloaded', async () => {
    const modemOnly = await modemOnlyModules();
    const nrf52 = manifest.platforms?.nrf52;
    expect(nrf52?.['creation']).toEqual({ main: 'hosts/moddable/main-modem' });
    expect(Object.keys(nrf52?.modules ?? {}).sort()).toEqual(modemOnly);
    expect(nrf52?.preload).toEqual(modemOnly);
    expect(modemOnly).toEqual(expect.arrayContaining(['hosts/moddable/main-modem', 'hosts/moddable/serial-port', 'src/modem/modem-transport', 'src/modem/at-reader']));
    // The base image (esp32, the simulators) carries none of it.
    for (const name of modemOnly) expect(imported).not.toContain(name);
  });
});

describe('the opt-in manifests (included after manifest.json): each lists and preloads what its entry adds', () => {
  test.each(OPT_IN_MANIFESTS.map(({ manifest, entry }) => [manifest, entry]))('%s (main %s)', async (path, entry) => {
    const { modules, boardOnly } = await optInGraph(entry);
    const manifest = readManifest(join(REPO, path));
    const mainModule = entry.replace(/\.ts$/, '');
    expect(manifest['creation']).toEqual({ main: mainModule });
    expect(Object.keys(manifest.modules).sort()).toEqual(modules);
    expect([...manifest.preload, ...(manifest.platforms?.esp32?.preload ?? [])].sort()).toEqual(modules);
    expect(boardOnly).toContain(mainModule);
    for (const name of boardOnly) expect(manifest.preload).not.toContain(name);
  });

  test('MQTT over WebSockets is not in the base image: manifest_ws.json adds src/ws and SHA-1', async () => {
    const { modules } = await optInGraph('hosts/moddable/main-ws.ts');
    expect(modules).toEqual(['hosts/moddable/main-ws', 'src/crypto/sha1', 'src/ws/ws-frames', 'src/ws/ws-handshake', 'src/ws/ws-transport']);
    expect((await deviceGraph()).modules.filter((name) => name.startsWith('src/ws/'))).toEqual(['src/ws/transport-select']);
  });
});
