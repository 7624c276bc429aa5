// hosts/moddable/moddable-settings.ts: how the Moddable entry reads the manifest's `config` (text from
// mcconfig's name=value overrides, extra CAs, SNTP hosts, host kind, log level). Pure; no SDK needed.
import { readExtraCAs, readModdableSettings } from '../../hosts/moddable/moddable-settings';
import { createCa } from '../../emulator/src/pki';

const ca1 = createCa('Settings Test Root 1');
const ca2 = createCa('Settings Test Root 2');
const b64 = (der: Uint8Array): string => Buffer.from(der).toString('base64');

describe('whole-number settings given as text on the mcconfig command line', () => {
  test('telemetryIntervalMs, securityTag and sensorSeed become numbers', () => {
    const { firmwareConfig } = readModdableSettings({ telemetryIntervalMs: '2000', securityTag: '3', sensorSeed: '-7' });
    expect(firmwareConfig).toEqual({ telemetryIntervalMs: 2000, securityTag: 3, sensorSeed: -7 });
  });

  test('numbers from the manifest stay numbers; other text stays text for the firmware to judge', () => {
    const { firmwareConfig } = readModdableSettings({ telemetryIntervalMs: 5000, sensorSeed: '12abc', idScope: '0ne00000001', registrationId: '1234' });
    expect(firmwareConfig).toEqual({ telemetryIntervalMs: 5000, sensorSeed: '12abc', idScope: '0ne00000001', registrationId: '1234' });
  });

  test('the input object is not changed', () => {
    const config = { telemetryIntervalMs: '2000' };
    readModdableSettings(config);
    expect(config).toEqual({ telemetryIntervalMs: '2000' });
  });
});

describe('extraCAs', () => {
  test('absent or empty: no extra CA, no problem', () => {
    expect(readModdableSettings({}).extraCAs).toEqual([]);
    expect(readModdableSettings({ extraCAs: '' })).toMatchObject({ extraCAs: [], problems: [] });
  });

  test('one base64 DER certificate', () => {
    const settings = readModdableSettings({ extraCAs: b64(ca1.certDer) });
    expect(settings.problems).toEqual([]);
    expect(settings.extraCAs.map((der) => Buffer.from(der).toString('hex'))).toEqual([Buffer.from(ca1.certDer).toString('hex')]);
  });

  test('several, separated by commas and white space', () => {
    const read = readExtraCAs(` ${b64(ca1.certDer)},\n${b64(ca2.certDer)} `);
    expect(read.ok && read.value.length).toBe(2);
  });

  test('PEM text with two certificates', () => {
    const read = readExtraCAs(ca1.certPem + ca2.certPem);
    expect(read.ok && read.value.map((der) => b64(der))).toEqual([b64(ca1.certDer), b64(ca2.certDer)]);
  });

  test('text that is not base64 is a problem naming the field and the certificate, and the firmware is not given it', () => {
    const settings = readModdableSettings({ extraCAs: `${b64(ca1.certDer)},not*base64` });
    expect(settings.extraCAs).toEqual([]);
    expect(settings.problems).toEqual(['extraCAs: certificate 2 is not base64 (length 10 is not a multiple of 4)']);
  });

  test('base64 that is not a certificate is a problem', () => {
    const settings = readModdableSettings({ extraCAs: b64(new Uint8Array([1, 2, 3, 4, 5, 6])) });
    expect(settings.problems).toHaveLength(1);
    expect(settings.problems[0]).toMatch(/^extraCAs: certificate 1 is not an X\.509 certificate \(/);
  });

  test('PEM without a certificate, and a value that is not text', () => {
    // A key-shaped block with a dummy body; the label is assembled so no key-looking literal sits in the repository.
    const keyLabel = ['PRIVATE', 'KEY'].join(' ');
    expect(readExtraCAs(`-----BEGIN ${keyLabel}-----\nAAAA\n-----END ${keyLabel}-----\n`)).toEqual({ ok: false, error: 'extraCAs holds PEM but no CERTIFICATE block' });
    expect(readExtraCAs(42)).toEqual({ ok: false, error: 'extraCAs must be text: base64 DER certificates or PEM' });
  });
});

describe('SNTP hosts, host kind and log level', () => {
  test('defaults: pool.ntp.org, "moddable", info', () => {
    expect(readModdableSettings({})).toMatchObject({ sntpHosts: ['pool.ntp.org'], hostKind: 'moddable', logLevel: 'info' });
  });

  test('sntp may list several hosts; hostKind and logLevel are taken when valid', () => {
    expect(readModdableSettings({ sntp: 'time.example, 192.0.2.1', hostKind: 'moddable-esp32', logLevel: 'debug' })).toMatchObject({
      sntpHosts: ['time.example', '192.0.2.1'],
      hostKind: 'moddable-esp32',
      logLevel: 'debug',
    });
  });

  test('an unknown log level falls back to info (the firmware itself names the bad field)', () => {
    expect(readModdableSettings({ logLevel: 'loud' }).logLevel).toBe('info');
  });
});
