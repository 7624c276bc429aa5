import { createCa, issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import { EnrollmentStore } from '../../emulator/src/dps/enrollment-store';
import { dpsCli, parseDpsCommand, type DpsCommandContext } from '../../emulator/src/dps/cli-commands';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const ca = createCa('CLI CA');
const cert = issueDeviceCertificate('cam-1');
const files: Record<string, string> = { '/ca.pem': ca.certPem, '/cam.pem': cert.certPem };

function context(): DpsCommandContext {
  let n = 0;
  return {
    idScope: '0ne00000001',
    endpoint: '127.0.0.1:8884',
    readTextFile: (path) => {
      if (!(path in files)) throw new Error(`cannot read ${path}`);
      return files[path];
    },
    generateKey: () => Buffer.alloc(32, ++n + 10).toString('base64'),
  };
}

describe('parsing DPS subcommands', () => {
  test('an individual symmetric enrollment with settings', () => {
    expect(
      parseDpsCommand([
        'add-enrollment', 'individual', '--registration-id', 'dev-1', '--primary-key', KEY_A, '--secondary-key', KEY_B,
        '--device-id=node-{registrationId}', '--polls', '2', '--retry-after', '0', '--disabled', '--initial-twin', '{"desired":{"a":1}}',
      ]),
    ).toEqual({
      ok: true,
      command: {
        command: 'add-enrollment',
        kind: 'individual',
        input: {
          registrationId: 'dev-1',
          attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B },
          deviceId: 'node-{registrationId}',
          pollsBeforeAssigned: 2,
          retryAfterSeconds: 0,
          provisioningStatus: 'disabled',
          initialTwin: { desired: { a: 1 } },
        },
        replace: false,
        certFiles: {},
      },
    });
  });

  test.each([
    [['add-enrollment'], 'usage: add-enrollment individual|group ...'],
    [['add-enrollment', 'individual'], 'add-enrollment individual needs --registration-id'],
    [['add-enrollment', 'group'], 'add-enrollment group needs --group-id'],
    [['add-enrollment', 'individual', '--registration-id', 'd', '--polls', 'x'], '--polls must be a whole number'],
    [['add-enrollment', 'individual', '--registration-id', 'd', '--primary-key', KEY_A, '--thumbprint', 'AB'], 'give symmetric keys or X.509 options, not both'],
    [['add-enrollment', 'group', '--group-id', 'g', '--thumbprint', 'AB'], '--thumbprint is for individual enrollments'],
    [['add-enrollment', 'individual', '--registration-id'], '--registration-id needs a value'],
    [['add-enrollment', 'individual', '--bogus'], 'unknown option --bogus'],
    [['add-enrollment', 'individual', '--registration-id', 'd', '--initial-twin', '{'], '--initial-twin must be JSON, e.g. {"desired":{"rate":5}}'],
    [['remove-enrollment', 'device', 'x'], 'usage: remove-enrollment individual|group ID'],
    [['frobnicate'], 'unknown DPS command frobnicate'],
  ])('%j is refused: %s', (argv, message) => {
    expect(parseDpsCommand(argv)).toEqual({ ok: false, message });
  });
});

describe('running DPS subcommands against an enrollment store', () => {
  test('add individual (generated keys), group (CA file), X.509 by cert file, then list and remove', async () => {
    const store = new EnrollmentStore();
    const ctx = context();
    const sym = await dpsCli(['add-enrollment', 'individual', '--registration-id', 'dev-1'], store, ctx);
    expect(sym.exitCode).toBe(0);
    const generated = store.getIndividual('dev-1')?.attestation;
    expect(generated).toEqual({ type: 'symmetricKey', primaryKey: Buffer.alloc(32, 11).toString('base64'), secondaryKey: Buffer.alloc(32, 12).toString('base64') });
    expect(sym.output).toBe(
      `added individual dev-1: symmetric key, primary ${Buffer.alloc(32, 11).toString('base64')}, secondary ${Buffer.alloc(32, 12).toString('base64')}\n` +
        'id scope 0ne00000001, DPS endpoint 127.0.0.1:8884',
    );
    expect((await dpsCli(['add-enrollment', 'group', '--group-id', 'fleet', '--ca-cert-file', '/ca.pem', '--polls', '0'], store, ctx)).exitCode).toBe(0);
    expect(store.getGroup('fleet')?.attestation).toEqual({ type: 'x509-ca', caCertPem: ca.certPem });
    expect((await dpsCli(['add-enrollment', 'individual', '--registration-id', 'cam-1', '--cert-file', '/cam.pem'], store, ctx)).exitCode).toBe(0);
    expect(store.getIndividual('cam-1')?.attestation).toEqual({ type: 'x509', primaryThumbprint: thumbprint(cert.certDer) });

    const listed = await dpsCli(['list-enrollments'], store, ctx);
    expect(listed.output.split('\n')).toEqual([
      expect.stringMatching(/^individual dev-1: symmetric key, primary /),
      `individual cam-1: X.509 thumbprint ${thumbprint(cert.certDer)}`,
      'group fleet: X.509 CA group (polls=0)',
    ]);
    const json = JSON.parse((await dpsCli(['list-enrollments', '--json'], store, ctx)).output);
    expect(json.groups[0].enrollmentGroupId).toBe('fleet');
    expect(await dpsCli(['remove-enrollment', 'group', 'fleet'], store, ctx)).toEqual({ exitCode: 0, output: 'removed group enrollment fleet' });
    expect(await dpsCli(['remove-enrollment', 'group', 'fleet'], store, ctx)).toEqual({ exitCode: 1, output: 'no group enrollment fleet' });
  });

  test('store errors and unreadable files exit 1 with the message; usage errors exit 2 with help', async () => {
    const store = new EnrollmentStore();
    const ctx = context();
    await dpsCli(['add-enrollment', 'individual', '--registration-id', 'dev-1'], store, ctx);
    expect(await dpsCli(['add-enrollment', 'individual', '--registration-id', 'dev-1'], store, ctx)).toEqual({
      exitCode: 1,
      output: 'individual enrollment dev-1 exists already',
    });
    expect((await dpsCli(['add-enrollment', 'individual', '--registration-id', 'dev-1', '--replace', '--primary-key', KEY_A, '--secondary-key', KEY_B], store, ctx)).exitCode).toBe(0);
    expect(await dpsCli(['add-enrollment', 'group', '--group-id', 'g', '--ca-cert-file', '/missing.pem'], store, ctx)).toEqual({ exitCode: 1, output: 'cannot read /missing.pem' });
    const usage = await dpsCli(['add-enrollment'], store, ctx);
    expect(usage.exitCode).toBe(2);
    expect(usage.output).toContain('DPS commands:');
  });

  test('derive-key prints the group member key', async () => {
    const out = await dpsCli(
      ['derive-key', '--group-key', '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==', '--registration-id', 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6'],
      new EnrollmentStore(),
      context(),
    );
    expect(out).toEqual({ exitCode: 0, output: 'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=' });
  });
});
