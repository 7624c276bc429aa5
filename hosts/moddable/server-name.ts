// Does a certificate's subjectAltName list cover the name we connected to? Moddable's TLS stack answers the
// same question but only says "auth err"; we ask it again after a failed verification so the error can tell a
// wrong host name (tls-hostname) from an untrusted chain (tls-verify). Same rules as the stack: dNSName with at
// most one leading "*." label, IPv4 iPAddress entries, no fallback to the subject CN.

export interface AltName {
  tag: number;
  value: string | ArrayBuffer;
}

const DNS_NAME = 2;
const IP_ADDRESS = 7;

export function altNamesCover(names: readonly AltName[] | undefined, serverName: string): boolean {
  if (!names) return false;
  const wanted = serverName.toLowerCase();
  for (const name of names) {
    if (name.tag === DNS_NAME && typeof name.value === 'string') {
      if (dnsNameMatches(name.value.toLowerCase(), wanted)) return true;
    } else if (name.tag === IP_ADDRESS && typeof name.value !== 'string' && name.value.byteLength === 4) {
      if (Array.from(new Uint8Array(name.value)).join('.') === wanted) return true;
    }
  }
  return false;
}

function dnsNameMatches(pattern: string, wanted: string): boolean {
  if (!pattern.startsWith('*')) return pattern === wanted;
  // A wildcard stands for exactly one whole left-most label.
  if (!pattern.startsWith('*.') || pattern.indexOf('*', 1) >= 0) return false;
  const dot = wanted.indexOf('.');
  return dot > 0 && wanted.slice(dot) === pattern.slice(1);
}
