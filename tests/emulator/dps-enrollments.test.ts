import { createCa, issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import { deriveDeviceKey, EnrollmentStore } from '../../emulator/src/dps/enrollment-store';
import { EnrollmentError } from '../../emulator/src/dps/enrollment-types';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');

function errorOf(action: () => unknown): EnrollmentError {
  try {
    action();
  } catch (error) {
    if (error instanceof EnrollmentError) return error;
    throw error;
  }
  throw new Error('no error thrown');
}

describe('group key derivation', () => {
  test('matches the public Azure DPS example', () => {
    expect(
      deriveDeviceKey('8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==', 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6'),
    ).toBe('Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=');
  });
});

describe('individual enrollments', () => {
  test('symmetric key enrollments are stored with their settings and found case-insensitively', () => {
    const store = new EnrollmentStore();
    const added = store.addIndividual({
      registrationId: 'Dev-1',
      attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B },
      deviceId: 'device-{registrationId}',
      pollsBeforeAssigned: 3,
      retryAfterSeconds: 2,
    });
    expect(added).toMatchObject({ kind: 'individual', registrationId: 'Dev-1', deviceId: 'device-{registrationId}', pollsBeforeAssigned: 3, retryAfterSeconds: 2 });
    expect(store.getIndividual('dev-1')?.attestation).toEqual({ type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B });
    expect(store.list().individual).toHaveLength(1);
  });

  test('X.509 enrollments keep upper-case thumbprints; a certificate stands for its SHA-256 thumbprint', () => {
    const cert = issueDeviceCertificate('dev-x');
    const store = new EnrollmentStore();
    store.addIndividual({ registrationId: 'dev-x', attestation: { type: 'x509', primaryCertPem: cert.certPem, secondaryThumbprint: 'ab:cd' + '0'.repeat(36) } });
    expect(store.getIndividual('dev-x')?.attestation).toEqual({
      type: 'x509',
      primaryThumbprint: thumbprint(cert.certDer),
      secondaryThumbprint: 'ABCD'.padEnd(40, '0'),
    });
  });

  test('duplicates need replace; updates change settings and null restores the default', () => {
    const store = new EnrollmentStore();
    const input = { registrationId: 'dev-1', attestation: { type: 'symmetricKey' as const, primaryKey: KEY_A, secondaryKey: KEY_B } };
    store.addIndividual(input);
    expect(errorOf(() => store.addIndividual(input)).code).toBe('duplicate');
    store.addIndividual({ ...input, deviceId: 'other' }, { replace: true });
    expect(store.getIndividual('dev-1')?.deviceId).toBe('other');
    store.updateIndividual('dev-1', { provisioningStatus: 'disabled', failure: { errorCode: 400207, message: 'custom allocation failed' } });
    expect(store.getIndividual('dev-1')).toMatchObject({ provisioningStatus: 'disabled', failure: { errorCode: 400207 } });
    store.updateIndividual('dev-1', { failure: null, deviceId: null });
    expect(store.getIndividual('dev-1')?.failure).toBeUndefined();
    expect(store.getIndividual('dev-1')?.deviceId).toBeUndefined();
    expect(errorOf(() => store.updateIndividual('nope', {})).code).toBe('not-found');
    expect(store.removeIndividual('DEV-1')).toBe(true);
    expect(store.list().individual).toEqual([]);
  });

  test('bad input gives a typed error that names the field and never echoes a key', () => {
    const store = new EnrollmentStore();
    const secret = 'not base64 but secret!';
    const cases: [() => unknown, string][] = [
      [() => store.addIndividual({ registrationId: 'bad/id', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B } }), 'registrationId'],
      [() => store.addIndividual({ registrationId: 'd', attestation: { type: 'symmetricKey', primaryKey: secret, secondaryKey: KEY_B } }), 'primaryKey must be a base64 string'],
      [() => store.addIndividual({ registrationId: 'd', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: 'AAAA' } }), 'secondaryKey must decode to 16..64 bytes'],
      [() => store.addIndividual({ registrationId: 'd', attestation: { type: 'x509' } }), 'needs primaryThumbprint or primaryCertPem'],
      [() => store.addIndividual({ registrationId: 'd', attestation: { type: 'x509', primaryThumbprint: 'xyz' } }), 'primaryThumbprint must be 40'],
      [() => store.addIndividual({ registrationId: 'd', attestation: { type: 'x509', primaryCertPem: 'junk' } }), 'primaryCertPem must be a PEM certificate'],
      [() => store.addIndividual({ registrationId: 'd', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B }, pollsBeforeAssigned: 1.5 }), 'pollsBeforeAssigned must be a whole number'],
      [() => store.addIndividual({ registrationId: 'd', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B }, retryAfterSeconds: -1 }), 'retryAfterSeconds must be a whole number'],
      [() => store.addIndividual({ registrationId: 'd', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B }, deviceId: 'a/b' }), 'deviceId must be a valid device id'],
    ];
    for (const [action, message] of cases) {
      const error = errorOf(action);
      expect(error.code).toBe('invalid');
      expect(error.message).toContain(message);
      expect(error.message).not.toContain(secret);
    }
  });
});

describe('group enrollments', () => {
  test('symmetric and X.509 CA groups are listed by type; the CA must be a CA certificate', () => {
    const ca = createCa('Group CA');
    const leaf = issueDeviceCertificate('not-a-ca', ca);
    const store = new EnrollmentStore();
    store.addGroup({ enrollmentGroupId: 'sym', attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B } });
    store.addGroup({ enrollmentGroupId: 'certs', attestation: { type: 'x509-ca', caCertPem: ca.certPem } });
    expect(store.groupsOfType('symmetricKey').map((g) => g.enrollmentGroupId)).toEqual(['sym']);
    expect(store.groupsOfType('x509-ca').map((g) => g.enrollmentGroupId)).toEqual(['certs']);
    expect(errorOf(() => store.addGroup({ enrollmentGroupId: 'leaf', attestation: { type: 'x509-ca', caCertPem: leaf.certPem } })).message).toBe(
      'caCertPem is not a CA certificate',
    );
    store.updateGroup('sym', { retryAfterSeconds: 0 });
    expect(store.getGroup('SYM')?.retryAfterSeconds).toBe(0);
    expect(store.removeGroup('certs')).toBe(true);
    expect(store.list().groups.map((g) => g.enrollmentGroupId)).toEqual(['sym']);
  });
});
