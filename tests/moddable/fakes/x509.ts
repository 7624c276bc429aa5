// Stand-in for Moddable's "x509" module (modules/crypt/etc/x509.js), mapped by jest.config.js. Only what the
// Moddable host and the fake TLS session use: decodeSAN with the SDK's shape (tag 2 dNSName as a string,
// tag 7 iPAddress as an ArrayBuffer of its 4 or 16 bytes, undefined when the extension is absent). Node's own
// X.509 parser reads the certificate, so the fake answers for real certificates made by emulator/src/pki.ts.
import { X509Certificate } from 'node:crypto';
import { isIPv4 } from 'node:net';

export interface SubjectAltName {
  tag: number;
  value: string | ArrayBuffer;
}

const DNS_NAME = 2;
const IP_ADDRESS = 7;

export function parseCertificate(der: ArrayBuffer | ArrayBufferView): X509Certificate {
  const view = der instanceof ArrayBuffer ? new Uint8Array(der) : new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
  return new X509Certificate(Buffer.from(view));
}

function ipv4Bytes(text: string): ArrayBuffer {
  return Uint8Array.from(text.split('.').map(Number)).buffer;
}

const X509 = {
  decodeSAN(der: ArrayBuffer | ArrayBufferView): SubjectAltName[] | undefined {
    const listed = parseCertificate(der).subjectAltName;
    if (listed === undefined) return undefined;
    const names: SubjectAltName[] = [];
    for (const entry of listed.split(', ')) {
      if (entry.startsWith('DNS:')) names.push({ tag: DNS_NAME, value: entry.slice(4) });
      else if (entry.startsWith('IP Address:') && isIPv4(entry.slice(11))) names.push({ tag: IP_ADDRESS, value: ipv4Bytes(entry.slice(11)) });
    }
    return names;
  },
};

export default X509;
