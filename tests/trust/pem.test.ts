import { readFileSync } from 'node:fs';
import { looksLikePem, parsePem } from '../../src/trust/pem';

const der = new Uint8Array(readFileSync(new URL('../../certs/digicert-global-root-g2.der', import.meta.url)));
const pem = readFileSync(new URL('../../certs/digicert-global-root-g2.pem', import.meta.url), 'latin1');

describe('PEM to DER', () => {
  test('a certificate PEM decodes to the committed DER, CRLF line ends and chains included', () => {
    expect(parsePem(pem)).toEqual({ ok: true, value: [{ label: 'CERTIFICATE', der, hasHeaders: false }] });
    const chain = `subject=whatever\r\n${pem.replace(/\n/g, '\r\n')}\n${pem}`;
    const read = parsePem(chain);
    expect(read.ok && read.value.map((b) => b.der)).toEqual([der, der]);
  });

  test('legacy encrypted keys are flagged by their headers', () => {
    // Dummy body; the label is assembled so no key-looking literal sits in the repository.
    const rsaKey = ['RSA', 'PRIVATE', 'KEY'].join(' ');
    const legacy = `-----BEGIN ${rsaKey}-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END ${rsaKey}-----\n`;
    expect(parsePem(legacy)).toEqual({ ok: true, value: [{ label: rsaKey, der: new Uint8Array([0, 0, 0]), hasHeaders: true }] });
  });

  test('errors name the block, never its content', () => {
    expect(parsePem('nothing here')).toEqual({ ok: false, error: 'no PEM block found' });
    const key = ['PRIVATE', 'KEY'].join(' ');
    expect(parsePem(`-----BEGIN CERTIFICATE-----\nAAAA\n-----END ${key}-----`)).toEqual({ ok: false, error: 'PEM block 1 begins as CERTIFICATE but ends as PRIVATE KEY' });
    expect(parsePem('-----BEGIN CERTIFICATE-----\nc2Vj!!\n-----END CERTIFICATE-----')).toMatchObject({ ok: false, error: expect.stringMatching(/^PEM block 1 \(CERTIFICATE\) is not valid base64/) });
    expect(parsePem('-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----')).toEqual({ ok: false, error: 'PEM block 1 (CERTIFICATE) is empty' });
  });

  test('PEM or DER is told apart by the BEGIN line', () => {
    expect(looksLikePem(new TextEncoder().encode(pem))).toBe(true);
    expect(looksLikePem(der)).toBe(false);
    expect(looksLikePem(new Uint8Array(0))).toBe(false);
  });
});
