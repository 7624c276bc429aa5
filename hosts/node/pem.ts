// Node's TLS options take PEM text; the ports hand us DER bytes.

export function derToPem(der: Uint8Array, label: 'CERTIFICATE' | 'PRIVATE KEY'): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
