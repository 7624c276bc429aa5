// The device profile: memory budgets in bytes per kind of host, chosen by host kind, named or overridden from the
// configuration (the Moddable manifest's `config`, flags or the config file on Node), and handed to the hub client.

import {
  DESKTOP_PROFILE,
  ESP32_PROFILE,
  defaultProfileFor,
  profileHubSettings,
  resolveDeviceProfile,
} from '../../src/device-profile';
import { readModdableSettings } from '../../hosts/moddable/moddable-settings';
import { readNodeSettings } from '../../hosts/node/main-node';
import { DEFAULT_MAX_PACKET_SIZE } from '../../src/mqtt/stream-parser';
import { connectFully, publishHex, DEVICE, settle, setupHub } from './hub-fixture';

describe('a profile per host kind', () => {
  test('desktop keeps the hub-sized limits; a plain ESP32 gets 16 KB packets, 32 KB of pending telemetry and a 64 KB journal', () => {
    expect(DESKTOP_PROFILE).toEqual({
      name: 'desktop',
      maxIncomingPacketBytes: DEFAULT_MAX_PACKET_SIZE,
      maxPendingTelemetryBytes: 64 * (256 * 1024 + 16),
      maxC2dPayloadBytes: DEFAULT_MAX_PACKET_SIZE,
      maxMethodPayloadBytes: DEFAULT_MAX_PACKET_SIZE,
      telemetryJournalBytes: 262_144,
    });
    expect(ESP32_PROFILE).toEqual({
      name: 'esp32',
      maxIncomingPacketBytes: 16_384,
      maxPendingTelemetryBytes: 32_768,
      maxC2dPayloadBytes: 8192,
      maxMethodPayloadBytes: 8192,
      telemetryJournalBytes: 65_536,
    });
    expect(['node', 'moddable', 'moddable-lin', 'moddable-esp32'].map((kind) => defaultProfileFor(kind).name)).toEqual(['desktop', 'desktop', 'desktop', 'esp32']);
  });

  test('the configuration names another profile or overrides single limits; whole-number text is accepted', () => {
    const named = resolveDeviceProfile('moddable-lin', { deviceProfile: 'esp32', maxIncomingPacketBytes: '8192', maxC2dPayloadBytes: '' });
    expect(named).toEqual({ ok: true, value: { ...ESP32_PROFILE, maxIncomingPacketBytes: 8192 } });
    expect(resolveDeviceProfile('node', { maxPendingTelemetryBytes: 4096 })).toEqual({ ok: true, value: { ...DESKTOP_PROFILE, maxPendingTelemetryBytes: 4096 } });
  });

  test('a bad value is a message naming the field, never quoting it', () => {
    expect(resolveDeviceProfile('node', { deviceProfile: 'huge' })).toEqual({ ok: false, error: 'deviceProfile must be one of desktop, esp32' });
    expect(resolveDeviceProfile('node', { maxIncomingPacketBytes: 100 })).toEqual({ ok: false, error: 'maxIncomingPacketBytes must be a whole number of bytes, at least 1024' });
    expect(resolveDeviceProfile('node', { maxPendingTelemetryBytes: '12kB' })).toEqual({ ok: false, error: 'maxPendingTelemetryBytes must be a whole number of bytes, at least 1' });
  });
});

describe('the hosts set it', () => {
  test('Moddable: from the manifest config (mcconfig text), carried to the hub client; a bad one is a named problem', () => {
    const esp32 = readModdableSettings({ hostKind: 'moddable-esp32', deviceProfile: 'esp32', maxPendingTelemetryBytes: '20000', maxIncomingPacketBytes: '' });
    expect(esp32.problems).toEqual([]);
    expect(esp32.profile).toEqual({ ...ESP32_PROFILE, maxPendingTelemetryBytes: 20_000 });
    expect(esp32.hubClient).toEqual(profileHubSettings({ ...ESP32_PROFILE, maxPendingTelemetryBytes: 20_000 }));
    expect(readModdableSettings({ hostKind: 'moddable-lin' }).profile).toEqual(DESKTOP_PROFILE);
    expect(readModdableSettings({ maxIncomingPacketBytes: 'lots' }).problems).toEqual(['maxIncomingPacketBytes must be a whole number of bytes, at least 1024']);
  });

  test('Node: --device-profile, --max-packet-bytes and --max-pending-telemetry-bytes become configuration fields', () => {
    const settings = readNodeSettings(['--device-profile', 'esp32', '--max-packet-bytes', '4096', '--max-pending-telemetry-bytes', '10000']);
    expect(settings.config).toEqual({ deviceProfile: 'esp32', maxIncomingPacketBytes: 4096, maxPendingTelemetryBytes: 10_000 });
    expect(resolveDeviceProfile('node', settings.config)).toEqual({
      ok: true,
      value: { ...ESP32_PROFILE, maxIncomingPacketBytes: 4096, maxPendingTelemetryBytes: 10_000 },
    });
  });

  test('a hub client on the esp32 profile skips a C2D message over 16 KB and reports it', async () => {
    const fx = setupHub(profileHubSettings(ESP32_PROFILE));
    const refused: unknown[] = [];
    fx.client.on('message-refused', (event) => refused.push(event));
    await connectFully(fx);
    const big = publishHex(`devices/${DEVICE}/messages/devicebound/`, new Uint8Array(20_000), 1, 3);
    fx.link.push(big);
    await settle();
    expect(refused).toEqual([{ kind: 'c2d', size: big.length / 2, limit: 16_384 }]);
    expect(fx.client.state).toBe('connected');
    await fx.client.close();
  });
});
