import { createMemoryStore } from '../../hosts/node/memory-store';
import { DEVICE_CONFIG_KEY, DeviceConfigStore, type DeviceConfig } from '../../src/storage/device-config';
import { encodeRecord, RecordKind } from '../../src/storage/record';

const HUB_CONFIG: DeviceConfig = {
  hub: { hostName: 'hub1.azure-devices.net', deviceId: 'dev-1', moduleId: 'm1', auth: 'symmetric-key' },
  tags: { primary: 10, secondary: 11 },
  trust: 'extend',
};
const DPS_CONFIG: DeviceConfig = {
  dps: { globalEndpoint: 'global.azure-devices-provisioning.net', idScope: '0ne00000001', registrationId: 'sn-1', attestation: 'x509' },
  tags: { primary: 20 },
  trust: 'override',
};

describe('device configuration record', () => {
  test.each([['hub', HUB_CONFIG], ['dps', DPS_CONFIG]])('%s settings round trip under device.config', (_, config) => {
    const store = createMemoryStore();
    const configs = new DeviceConfigStore(store);
    expect(configs.save(config)).toEqual({ ok: true });
    expect(store.keys()).toEqual([DEVICE_CONFIG_KEY]);
    expect(configs.load()).toEqual({ ok: true, value: config });
  });

  test('unknown extra fields are not stored', () => {
    const configs = new DeviceConfigStore(createMemoryStore());
    configs.save({ ...DPS_CONFIG, extra: 'x' } as DeviceConfig);
    expect(configs.load()).toEqual({ ok: true, value: DPS_CONFIG });
  });

  test('reset deletes it; absent reads as missing', () => {
    const configs = new DeviceConfigStore(createMemoryStore());
    configs.save(HUB_CONFIG);
    configs.reset();
    expect(configs.load()).toMatchObject({ ok: false, error: { code: 'missing' } });
  });

  test.each([
    ['hub.hostName', { ...HUB_CONFIG, hub: { ...HUB_CONFIG.hub!, hostName: '' } }],
    ['hub.auth', { ...HUB_CONFIG, hub: { ...HUB_CONFIG.hub!, auth: 'sas' } }],
    ['dps.registrationId', { ...DPS_CONFIG, dps: { ...DPS_CONFIG.dps!, registrationId: 7 } }],
    ['tags.primary', { ...HUB_CONFIG, tags: { primary: -1 } }],
    ['tags.secondary', { ...HUB_CONFIG, tags: { primary: 1, secondary: 'two' } }],
    ['trust', { ...HUB_CONFIG, trust: 'replace' }],
  ])('save refuses a bad %s', (field, config) => {
    expect(new DeviceConfigStore(createMemoryStore()).save(config as DeviceConfig)).toMatchObject({ ok: false, error: { code: 'invalid-field', field } });
  });

  test('a well-framed record with a bad shape is bad-body; a flipped byte is absent', () => {
    const store = createMemoryStore();
    const configs = new DeviceConfigStore(store);
    store.set(DEVICE_CONFIG_KEY, encodeRecord(RecordKind.deviceConfig, 1, new TextEncoder().encode('{"tags":{"primary":1},"trust":"both"}')));
    expect(configs.load()).toEqual({ ok: false, error: { code: 'bad-body', message: 'device.config does not hold a valid configuration' } });
    configs.save(HUB_CONFIG);
    const good = store.get(DEVICE_CONFIG_KEY)!;
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 0x04;
      store.set(DEVICE_CONFIG_KEY, bad);
      expect([i, configs.load().ok]).toEqual([i, false]);
    }
  });
});

describe('every stored field is checked by the rules the hub and DPS clients apply', () => {
  const stored = (config: unknown) => {
    const store = createMemoryStore();
    store.set(DEVICE_CONFIG_KEY, encodeRecord(RecordKind.deviceConfig, 1, new TextEncoder().encode(JSON.stringify(config))));
    return new DeviceConfigStore(store);
  };

  test.each([
    ['hub.hostName', { ...HUB_CONFIG, hub: { ...HUB_CONFIG.hub!, hostName: 'https://hub1.azure-devices.net' } }],
    ['hub.deviceId', { ...HUB_CONFIG, hub: { ...HUB_CONFIG.hub!, deviceId: 'dev/1' } }],
    ['hub.moduleId', { ...HUB_CONFIG, hub: { ...HUB_CONFIG.hub!, moduleId: 'm#' } }],
    ['hub.gatewayHostName', { ...HUB_CONFIG, hub: { ...HUB_CONFIG.hub!, gatewayHostName: 'edge gw' } }],
    ['dps.globalEndpoint', { ...DPS_CONFIG, dps: { ...DPS_CONFIG.dps!, globalEndpoint: 'https://global.azure-devices-provisioning.net' } }],
    ['dps.idScope', { ...DPS_CONFIG, dps: { ...DPS_CONFIG.dps!, idScope: '0ne-1' } }],
    ['dps.registrationId', { ...DPS_CONFIG, dps: { ...DPS_CONFIG.dps!, registrationId: 'sn 1' } }],
  ])('%s: refused on save (named) and unreadable when stored anyway', (field, config) => {
    const save = new DeviceConfigStore(createMemoryStore()).save(config as DeviceConfig);
    expect(save).toMatchObject({ ok: false, error: { code: 'invalid-field', field } });
    expect(!save.ok && save.error.message.startsWith(`${field}: `)).toBe(true);
    expect(stored(config).load()).toMatchObject({ ok: false, error: { code: 'bad-body' } });
  });
});
