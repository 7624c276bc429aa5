// X.509 attestation: individual enrollments by thumbprint or certificate, and CA group enrollments.
import { createCa, issueCertificate, issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import { dpsUsername, POLL_TOPIC, REGISTER_TOPIC, startDpsTestBed, testPki, type DpsTestBed } from '../helpers/raw-mqtt-dps';

const SCOPE = '0ne00000001';
const pki = testPki();
const groupCa = createCa('Fleet Root CA');
const intermediate = issueCertificate({ commonName: 'Fleet Intermediate', ca: groupCa, usage: 'ca' });
const selfSigned = issueDeviceCertificate('cam-1');
const otherSelfSigned = issueDeviceCertificate('cam-1');
const fleetDevice = issueDeviceCertificate('meter-5', groupCa);
const viaIntermediate = issueDeviceCertificate('meter-6', intermediate);
const strangerCa = createCa('Stranger CA');
const strangerDevice = issueDeviceCertificate('meter-7', strangerCa);

let bed: DpsTestBed;
beforeEach(async () => {
  bed = await startDpsTestBed(pki);
});
afterEach(async () => {
  await bed.close();
});

async function connectWithCert(registrationId: string, cert: { certPem: string; keyPem: string }, chainPem = '') {
  const client = await bed.open({ cert: cert.certPem + chainPem, key: cert.keyPem });
  const code = await client.connect(registrationId, dpsUsername(SCOPE, registrationId));
  return { client, code };
}

async function provision(client: Awaited<ReturnType<typeof connectWithCert>>['client'], registrationId: string) {
  await client.subscribe('$dps/registrations/res/#', 1);
  const first = await client.request(REGISTER_TOPIC(1), JSON.stringify({ registrationId }));
  expect(first.topic).toBe('$dps/registrations/res/202/?$rid=1&retry-after=1');
  const final = await client.request(POLL_TOPIC(2, JSON.parse(first.body).operationId), '');
  return JSON.parse(final.body);
}

describe('X.509 individual enrollment', () => {
  test('a self-signed device certificate matching the thumbprint is assigned; the hub gets the thumbprint', async () => {
    const tp = thumbprint(selfSigned.certDer);
    bed.dps.enrollments.addIndividual({ registrationId: 'cam-1', attestation: { type: 'x509', primaryThumbprint: tp } });
    const { client, code } = await connectWithCert('cam-1', selfSigned);
    expect(code).toBe(0);
    expect(await provision(client, 'cam-1')).toMatchObject({ status: 'assigned', registrationState: { deviceId: 'cam-1', assignedHub: 'localhost:8883' } });
    expect(bed.registry.getDevice('cam-1')?.auth).toEqual({ type: 'x509-thumbprint', primaryThumbprint: tp });
  });

  test('an enrollment made from the certificate and a SHA-1 secondary thumbprint both match', async () => {
    bed.dps.enrollments.addIndividual({
      registrationId: 'cam-1',
      attestation: { type: 'x509', primaryCertPem: otherSelfSigned.certPem, secondaryThumbprint: thumbprint(selfSigned.certDer, 'sha1') },
    });
    expect((await connectWithCert('cam-1', otherSelfSigned)).code).toBe(0);
    expect((await connectWithCert('cam-1', selfSigned)).code).toBe(0);
  });

  test('a certificate with another thumbprint gets 4, a CN other than the registration id gets 4', async () => {
    bed.dps.enrollments.addIndividual({ registrationId: 'cam-1', attestation: { type: 'x509', primaryThumbprint: thumbprint(otherSelfSigned.certDer) } });
    expect((await connectWithCert('cam-1', selfSigned)).code).toBe(4);
    const { client, code } = await (async () => {
      const c = await bed.open({ cert: selfSigned.certPem, key: selfSigned.keyPem });
      return { client: c, code: await c.connect('cam-2', dpsUsername(SCOPE, 'cam-2')) };
    })();
    expect(code).toBe(4);
    await client.waitClosed();
  });

  test('a certificate for a registration only enrolled with a symmetric key is answered 401', async () => {
    bed.dps.enrollments.addIndividual({
      registrationId: 'cam-1',
      attestation: { type: 'symmetricKey', primaryKey: Buffer.alloc(32, 1).toString('base64'), secondaryKey: Buffer.alloc(32, 2).toString('base64') },
    });
    const { client, code } = await connectWithCert('cam-1', selfSigned);
    expect(code).toBe(0);
    await client.subscribe('$dps/registrations/res/#', 1);
    expect((await client.request(REGISTER_TOPIC(1), '{"registrationId":"cam-1"}')).topic).toBe('$dps/registrations/res/401/?$rid=1');
  });
});

describe('X.509 CA group enrollment', () => {
  test('a device certificate signed by the group CA is assigned; the hub trusts the CA for it', async () => {
    bed.dps.enrollments.addGroup({ enrollmentGroupId: 'fleet', attestation: { type: 'x509-ca', caCertPem: groupCa.certPem } });
    const { client, code } = await connectWithCert('meter-5', fleetDevice);
    expect(code).toBe(0);
    expect(await provision(client, 'meter-5')).toMatchObject({ status: 'assigned', registrationState: { deviceId: 'meter-5' } });
    expect(bed.registry.getDevice('meter-5')?.auth).toEqual({ type: 'x509-ca' });
    expect(bed.registry.listCertificateAuthorities().map((ca) => ca.name)).toEqual(['dps-group-fleet']);
  });

  test('a device certificate chaining through an intermediate it presents is accepted', async () => {
    bed.dps.enrollments.addGroup({ enrollmentGroupId: 'fleet', attestation: { type: 'x509-ca', caCertPem: groupCa.certPem } });
    expect((await connectWithCert('meter-6', viaIntermediate, intermediate.certPem)).code).toBe(0);
    expect((await connectWithCert('meter-6', viaIntermediate)).code).toBe(4);
  });

  test('a certificate from another CA gets 4; with no X.509 enrollment at all it is answered 401', async () => {
    bed.dps.enrollments.addGroup({ enrollmentGroupId: 'fleet', attestation: { type: 'x509-ca', caCertPem: groupCa.certPem } });
    expect((await connectWithCert('meter-7', strangerDevice)).code).toBe(4);
    bed.dps.enrollments.removeGroup('fleet');
    const { client, code } = await connectWithCert('meter-7', strangerDevice);
    expect(code).toBe(0);
    await client.subscribe('$dps/registrations/res/#', 1);
    expect((await client.request(REGISTER_TOPIC(1), '{"registrationId":"meter-7"}')).topic).toBe('$dps/registrations/res/401/?$rid=1');
  });
});
