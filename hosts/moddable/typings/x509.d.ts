// "x509" (modules/crypt/etc/x509.js), used by the TLS stack; we read only the subjectAltName extension.
// The SDK ships no typings for it, so manifest_host.json also hands this file to mcconfig's TypeScript build.
declare module 'x509' {
  /** tag 2 dNSName (value string), 7 iPAddress (value ArrayBuffer of 4 or 16 bytes); others as found. */
  interface SubjectAltName {
    tag: number;
    value: string | ArrayBuffer;
  }
  const X509: {
    /** undefined when the certificate has no subjectAltName extension. */
    decodeSAN(der: ArrayBuffer | ArrayBufferView): SubjectAltName[] | undefined;
  };
  export default X509;
}
