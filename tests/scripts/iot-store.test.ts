import { spawnSync } from 'node:child_process';
import { createHmac, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueCertificate, issueDeviceCertificate } from '../../emulator/src/pki';
import { FILE_STORE_WRITE_STEPS, FileStore, type FileStoreWriteStep } from '../../hosts/node/file-store';
import { runIotStore } from '../../scripts/iot-store';
import { AssignmentStore } from '../../src/storage/assignment-store';
import { DeviceConfigStore } from '../../src/storage/device-config';
import { SecurityTagStore } from '../../src/storage/security-tag-store';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CLI = join(ROOT, 'scripts/iot-store.ts');
const CERTS = join(ROOT, 'certs');

// Azure DPS documentation's public group-key example.
const GROUP_KEY = '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==';
const GROUP_REG = 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6';
const GROUP_DERIVED = 'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=';
const DEVICE_KEY = 'c2VjcmV0LWRldmljZS1rZXktMTIzNDU2Nzg5MA==';

let dir: string;
let storePath: string;
const ca = issueCertificate({ commonName: 'Fleet CA', usage: 'ca' });
const device = issueDeviceCertificate('sn-x509-01', ca);
const stranger = issueDeviceCertificate('someone-else');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iot-store-cli-'));
  storePath = join(dir, 'device.store');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const run = spawnSync(TSX, [CLI, '--store', storePath, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, IOT_STORE_PATH: '' } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr, all: run.stdout + run.stderr };
}

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const tags = () => new SecurityTagStore(new FileStore({ path: storePath }));
const configOf = () => new DeviceConfigStore(new FileStore({ path: storePath })).load();

describe('tag write from PEM and DER files', () => {
  test('CA chain file, DER root, device chain and PKCS#1 key land in the tag as DER (key as PKCS#8)', () => {
    const chain = file('cas.pem', readFileSync(join(CERTS, 'digicert-global-root-g2.pem'), 'utf8') + 'comment between blocks\n' + ca.certPem);
    const rsaPkcs1 = createPrivateKey(device.keyPem).export({ type: 'pkcs1', format: 'pem' });
    const result = cli(
      'tag', 'write', '10',
      '--ca', chain,
      '--ca', join(CERTS, 'microsoft-rsa-root-ca-2017.der'),
      '--cert', file('device.pem', device.certPem + ca.certPem),
      '--key', file('device.key', rsaPkcs1),
    );
    expect(result).toMatchObject({ code: 0, stdout: 'tag 10 written: 3 CA certificate(s), 2 client certificate(s), private key\n', stderr: '' });
    const read = tags().read(10);
    expect(read.ok && read.value).toEqual({
      caCertificates: [new Uint8Array(readFileSync(join(CERTS, 'digicert-global-root-g2.der'))), ca.certDer, new Uint8Array(readFileSync(join(CERTS, 'microsoft-rsa-root-ca-2017.der')))],
      clientCertificates: [device.certDer, ca.certDer],
      privateKey: device.keyDer,
    });
  });

  test('parts not given are kept; --replace starts from empty; DER key accepted', () => {
    expect(cli('tag', 'write', '3', '--symmetric-key', DEVICE_KEY).code).toBe(0);
    expect(cli('tag', 'write', '3', '--cert', file('d.der', device.certDer), '--key', file('k.der', device.keyDer)).code).toBe(0);
    expect(tags().readPart(3, 'symmetricKey')).toEqual(new Uint8Array(Buffer.from(DEVICE_KEY, 'base64')));
    expect(cli('tag', 'write', '3', '--replace', '--ca', join(CERTS, 'digicert-global-root-g2.pem')).code).toBe(0);
    const read = tags().read(3);
    expect(read.ok && Object.keys(read.value)).toEqual(['caCertificates', 'clientCertificates']);
    expect(read.ok && read.value.clientCertificates).toEqual([]);
  });

  test('a key from a file, never echoed', () => {
    const result = cli('tag', 'write', '4', '--symmetric-key-file', file('key.txt', `${DEVICE_KEY}\n`));
    expect(result.code).toBe(0);
    expect(result.all).not.toContain(DEVICE_KEY);
    expect(tags().readPart(4, 'symmetricKey')).toEqual(new Uint8Array(Buffer.from(DEVICE_KEY, 'base64')));
  });
});

describe('bad files and bad keys: exit code 2, the file or field named, the key never shown', () => {
  test.each([
    ['missing file', () => ['tag', 'write', '1', '--ca', join(dir, 'nope.pem')], /^iot-store: --ca .*nope\.pem: cannot read the file \(ENOENT\)\n$/],
    ['text that is no certificate', () => ['tag', 'write', '1', '--ca', file('x.pem', 'hello')], /^iot-store: --ca .*x\.pem: certificate 1 is not a DER X\.509 certificate/],
    ['PEM with bad base64', () => ['tag', 'write', '1', '--cert', file('b.pem', '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n')], /^iot-store: --cert .*b\.pem: PEM block 1 \(CERTIFICATE\) is not valid base64/],
    ['a key file given as --ca', () => ['tag', 'write', '1', '--ca', file('k.pem', device.keyPem)], /^iot-store: --ca .*k\.pem: holds no CERTIFICATE block \(found PRIVATE KEY\)/],
    ['a certificate given as --key', () => ['tag', 'write', '1', '--key', file('c.pem', device.certPem)], /^iot-store: --key .*c\.pem: must hold exactly one PRIVATE KEY block \(found 0\)/],
    ['an encrypted key', () => ['tag', 'write', '1', '--key', file('e.pem', createPrivateKey(device.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }))], /^iot-store: --key .*e\.pem: the key is encrypted/],
    ['a key that is not the certificate\'s', () => ['tag', 'write', '1', '--cert', file('d.pem', device.certPem), '--key', file('s.pem', stranger.keyPem)], /^iot-store: --key .*s\.pem: does not belong to the first certificate of --cert .*d\.pem\n$/],
    ['a bad symmetric key', () => ['tag', 'write', '1', '--symmetric-key', 'c2VjcmV0!!!!'], /^iot-store: --symmetric-key: the key is not valid base64 \(character at offset 8 is not base64\)\n$/],
    ['a bad tag number', () => ['tag', 'write', '1x', '--symmetric-key', DEVICE_KEY], /^iot-store: tag number must be an integer 0\.\.2147483647\n$/],
    ['a bad connection string key', () => ['config', 'set', '--connection-string', 'HostName=h.net;DeviceId=d;SharedAccessKey=c2VjcmV0!!'], /^iot-store: connection string: SharedAccessKey: is not valid base64/],
    ['a connection string without DeviceId', () => ['config', 'set', '--connection-string', `HostName=h.net;SharedAccessKey=${DEVICE_KEY}`], /^iot-store: connection string: DeviceId: is required\n$/],
    ['an option of another command', () => ['list', '--ca', 'x'], /^iot-store: --ca is not an option of 'list'\n$/],
    ['an unknown command', () => ['frobnicate'], /^iot-store: unknown command \(run with --help\)\n$/],
    ['an unknown option', () => ['list', '--frob'], /^iot-store: Unknown option '--frob' \(run with --help\)\n$/],
  ])('%s', (_, args, message) => {
    const result = cli(...args());
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.all).not.toContain('c2VjcmV0');
    expect(result.all).not.toContain(DEVICE_KEY);
  });

  test('the store cannot be written: exit code 1', () => {
    storePath = dir; // a folder: loads as empty with a warning, and the rename over it fails
    const result = cli('tag', 'write', '1', '--symmetric-key', DEVICE_KEY);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/iot-store: writing tag\.1 failed: .*EISDIR/);
    expect(result.all).not.toContain(DEVICE_KEY);
  });
});

describe('config set', () => {
  test('a connection string: identity in the config, key in the primary tag, nothing secret printed', () => {
    const result = cli('config', 'set', '--connection-string', `HostName=hub1.azure-devices.net;DeviceId=dev-1;ModuleId=m1;SharedAccessKey=${DEVICE_KEY}`);
    expect(result).toMatchObject({ code: 0, stdout: 'configuration saved (key in tag 10)\n', stderr: '' });
    expect(configOf()).toEqual({ ok: true, value: { hub: { hostName: 'hub1.azure-devices.net', deviceId: 'dev-1', moduleId: 'm1', auth: 'symmetric-key' }, tags: { primary: 10 }, trust: 'extend' } });
    expect(tags().readPart(10, 'symmetricKey')).toEqual(new Uint8Array(Buffer.from(DEVICE_KEY, 'base64')));
  });

  test('DPS with a group key stores only the derived key, in the chosen primary tag', () => {
    const result = cli('config', 'set', '--id-scope', '0ne00000001', '--registration-id', GROUP_REG, '--group-key', GROUP_KEY, '--primary-tag', '20', '--secondary-tag', '21', '--trust', 'override');
    expect(result).toMatchObject({ code: 0, stdout: `configuration saved (key derived for ${GROUP_REG} in tag 20)\n` });
    expect(result.all).not.toContain(GROUP_KEY);
    expect(result.all).not.toContain(GROUP_DERIVED);
    expect(configOf()).toEqual({
      ok: true,
      value: {
        dps: { globalEndpoint: 'global.azure-devices-provisioning.net', idScope: '0ne00000001', registrationId: GROUP_REG, attestation: 'symmetric-key' },
        tags: { primary: 20, secondary: 21 },
        trust: 'override',
      },
    });
    expect(tags().readPart(20, 'symmetricKey')).toEqual(new Uint8Array(Buffer.from(GROUP_DERIVED, 'base64')));
    expect(JSON.stringify(tags().read(20))).not.toContain(GROUP_KEY);
  });

  test('X.509 attestation takes the registration id from the certificate CN; switching replaces the hub config', () => {
    cli('config', 'set', '--connection-string', `HostName=hub1.azure-devices.net;DeviceId=dev-1;SharedAccessKey=${DEVICE_KEY}`);
    expect(cli('tag', 'write', '10', '--cert', file('d.pem', device.certPem), '--key', file('k.pem', device.keyPem)).code).toBe(0);
    const result = cli('config', 'set', '--id-scope', '0ne00000002', '--attestation', 'x509');
    expect(result.code).toBe(0);
    const config = configOf();
    expect(config.ok && config.value.dps).toEqual({ globalEndpoint: 'global.azure-devices-provisioning.net', idScope: '0ne00000002', registrationId: 'sn-x509-01', attestation: 'x509' });
    expect(config.ok && config.value.hub).toBeUndefined();
  });

  test('X.509 without a certificate in the tag asks for the registration id', () => {
    const result = cli('config', 'set', '--id-scope', '0ne00000002', '--attestation', 'x509');
    expect(result).toMatchObject({ code: 2, stderr: 'iot-store: --registration-id is required: tag 10 has no client certificate with a subject CN\n' });
  });
});

describe('a store path holding something else: never written over', () => {
  const setHub = (device: string, key: string) => ['config', 'set', '--connection-string', `HostName=hub1.azure-devices.net;DeviceId=${device};SharedAccessKey=${key}`];

  test('a text file is refused with exit code 2 and left byte for byte as it was', () => {
    storePath = file('precious.txt', 'my notes\nwith a second line\n');
    const before = readFileSync(storePath);
    const result = cli(...setHub('dev-1', DEVICE_KEY));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `iot-store: store ${storePath} is not a device store (it does not start with the store header); refusing to write over it: give --store another file\n`,
    );
    expect(readFileSync(storePath)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['precious.txt']);
    expect(cli('list').code).toBe(2);
  });

  test('a store with one damaged byte is kept aside byte for byte and a fresh store written beside it', () => {
    expect(cli(...setHub('dev-1', DEVICE_KEY)).code).toBe(0);
    const damaged = new Uint8Array(readFileSync(storePath));
    damaged[7] ^= 0x01; // the outer frame's length: the whole store reads as empty
    writeFileSync(storePath, damaged);
    const result = cli(...setHub('dev-2', DEVICE_KEY));
    expect(result.code).toBe(0);
    const backups = readdirSync(dir).filter((name) => name.startsWith('device.store.unreadable-'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^device\.store\.unreadable-\d{8}T\d{6}Z$/);
    expect(new Uint8Array(readFileSync(join(dir, backups[0]!)))).toEqual(damaged);
    expect(result.stderr).toContain(`iot-store: [warn] file store ${storePath} could not be read (`);
    expect(result.stderr).toContain(`kept it as ${join(dir, backups[0]!)}, byte for byte, and started a fresh store`);
    expect(result.all).not.toContain(DEVICE_KEY);
    const config = configOf();
    expect(config.ok && config.value.hub?.deviceId).toBe('dev-2');
  });
});

describe('config set is one atomic write: a kill at any point leaves the old or the new config with its own key', () => {
  const OLD_KEY = Buffer.from('old-device-key-0123456789abcdef').toString('base64');
  const NEW_KEY = Buffer.from('new-device-key-0123456789abcdef').toString('base64');
  const quiet = { stdout: () => {}, stderr: () => {} };
  const run = (args: string[], onWriteStep?: (step: FileStoreWriteStep) => void) =>
    runIotStore(['--store', storePath, ...args], { ...quiet, ...(onWriteStep ? { storeOptions: { onWriteStep } } : {}) });
  const setHub = (device: string, key: string) => ['config', 'set', '--connection-string', `HostName=hub1.azure-devices.net;DeviceId=${device};SharedAccessKey=${key}`];

  class Kill extends Error {}

  function stored(): { device: string | undefined; key: string | undefined } {
    const store = new FileStore({ path: storePath });
    const config = new DeviceConfigStore(store).load();
    const key = new SecurityTagStore(store).readPart(10, 'symmetricKey');
    return { device: config.ok ? config.value.hub?.deviceId : undefined, key: key && Buffer.from(key).toString('base64') };
  }

  test('config set writes the store once', () => {
    expect(run(setHub('dev-old', OLD_KEY))).toBe(0);
    const steps: FileStoreWriteStep[] = [];
    expect(run(setHub('dev-new', NEW_KEY), (step) => void steps.push(step))).toBe(0);
    expect(steps).toEqual(FILE_STORE_WRITE_STEPS);
  });

  // Write n of the command dies at each step; with one write, n = 2 never comes and the command completes.
  const cases = [1, 2].flatMap((n) => FILE_STORE_WRITE_STEPS.map((step) => [n, step] as const));
  test.each(cases)('killed in write %i at %s', (n, step) => {
    expect(run(setHub('dev-old', OLD_KEY))).toBe(0);
    let writes = 0;
    const code = run(setHub('dev-new', NEW_KEY), (at) => {
      if (at === 'before-temp-write') writes++;
      if (writes === n && at === step) throw new Kill(`killed in write ${n} at ${step}`);
    });
    const after = stored();
    expect([['dev-old', OLD_KEY], ['dev-new', NEW_KEY]]).toContainEqual([after.device, after.key]);
    if (n === 1) {
      expect(code).toBe(1);
      expect(after.device).toBe(step === 'after-rename' ? 'dev-new' : 'dev-old');
    } else {
      expect([code, after.device]).toEqual([0, 'dev-new']);
    }
  });
});

describe('list, tag delete, assignment reset', () => {
  test('list shows lengths and fingerprints, never the key; JSON form too', () => {
    cli('config', 'set', '--connection-string', `HostName=hub1.azure-devices.net;DeviceId=dev-1;SharedAccessKey=${DEVICE_KEY}`);
    cli('tag', 'write', '10', '--ca', join(CERTS, 'digicert-global-root-g2.pem'));
    const text = cli('list');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('  hub         hub1.azure-devices.net device dev-1 (symmetric-key)\n');
    expect(text.stdout).toContain('sha256 cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f  CN=DigiCert Global Root G2  until 2038-01-15');
    expect(text.stdout).toMatch(/symmetricKey {12}28 bytes {2}sha256 [0-9a-f]{16}…\n/);
    const json = JSON.parse(cli('list', '--json').stdout);
    expect(json.tags[0].parts.map((p: { part: string; length: number }) => [p.part, p.length])).toEqual([['caCertificates', 914], ['symmetricKey', 28]]);
    const hexKey = Buffer.from(DEVICE_KEY, 'base64').toString('hex');
    for (const out of [text.all, JSON.stringify(json)]) {
      expect(out).not.toContain(DEVICE_KEY);
      expect(out).not.toContain(hexKey);
      expect(out).not.toContain('secret-device-key');
    }
  });

  test('tag delete removes a part or the whole tag', () => {
    cli('tag', 'write', '5', '--symmetric-key', DEVICE_KEY, '--ca', join(CERTS, 'digicert-global-root-g2.der'));
    expect(cli('tag', 'delete', '5', '--part', 'symmetric-key')).toMatchObject({ code: 0, stdout: 'tag 5: symmetric-key deleted\n' });
    expect(tags().readPart(5, 'symmetricKey')).toBeUndefined();
    expect(tags().readPart(5, 'caCertificates')).toHaveLength(1);
    expect(cli('tag', 'delete', '5')).toMatchObject({ code: 0, stdout: 'tag 5 deleted\n' });
    expect(tags().list()).toEqual([]);
    expect(cli('tag', 'delete', '5', '--part', 'everything')).toMatchObject({ code: 2, stderr: 'iot-store: --part must be one of ca, cert, key, symmetric-key\n' });
  });

  test('assignment reset forgets where DPS put the device; list marks a stale one', () => {
    const dps = { globalEndpoint: 'global.azure-devices-provisioning.net', idScope: '0ne1', registrationId: 'r1', attestation: 'symmetric-key' as const };
    cli('config', 'set', '--id-scope', '0ne2', '--registration-id', 'r1', '--symmetric-key', DEVICE_KEY);
    new AssignmentStore(new FileStore({ path: storePath })).save({ hubHost: 'hub9.azure-devices.net', deviceId: 'r1', dps, substatus: 'initialAssignment' });
    expect(cli('list').stdout).toContain('assignment  hub9.azure-devices.net device r1 (initialAssignment) [stale: DPS idScope changed]\n');
    expect(cli('assignment', 'reset')).toMatchObject({ code: 0, stdout: 'assignment deleted: the device provisions again at next boot\n' });
    expect(new AssignmentStore(new FileStore({ path: storePath })).peek()).toMatchObject({ status: 'absent', code: 'missing' });
  });
});

describe('derive-key and sas', () => {
  test('derive-key reproduces the Azure documentation example', () => {
    expect(cli('derive-key', '--group-key', GROUP_KEY, '--registration-id', GROUP_REG)).toMatchObject({ code: 0, stdout: `${GROUP_DERIVED}\n`, stderr: '' });
  });

  test('sas signs url-encoded sr + "\\n" + se with the decoded key and names the key', () => {
    const before = Math.floor(Date.now() / 1000);
    const result = cli('sas', '--resource', '0ne00000001/registrations/dev-1', '--key', DEVICE_KEY, '--key-name', 'registration', '--ttl', '120');
    expect(result.code).toBe(0);
    const match = /^SharedAccessSignature sr=0ne00000001%2Fregistrations%2Fdev-1&sig=([^&]+)&se=(\d+)&skn=registration\n$/.exec(result.stdout);
    expect(match).not.toBeNull();
    const se = Number(match![2]);
    expect(se - before).toBeGreaterThanOrEqual(120);
    expect(se - before).toBeLessThanOrEqual(125);
    const expected = createHmac('sha256', Buffer.from(DEVICE_KEY, 'base64')).update(`0ne00000001%2Fregistrations%2Fdev-1\n${se}`).digest('base64');
    expect(decodeURIComponent(match![1]!)).toBe(expected);
  });

  test('an already-encoded resource is signed as given; a bad ttl is refused', () => {
    expect(cli('sas', '--resource', 'hub.azure-devices.net%2Fdevices%2Fd1', '--key', DEVICE_KEY).stdout).toMatch(/^SharedAccessSignature sr=hub\.azure-devices\.net%2Fdevices%2Fd1&sig=/);
    expect(cli('sas', '--resource', 'r', '--key', DEVICE_KEY, '--ttl', '0')).toMatchObject({ code: 2, stderr: 'iot-store: --ttl must be a positive whole number of seconds\n' });
  });
});
