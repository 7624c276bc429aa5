// Client certificate checks for DPS X.509 attestation. The TLS server asks for a certificate but does not
// verify it (self-signed device certificates must get through); these functions decide instead.
import { X509Certificate } from 'node:crypto';

const MAX_CHAIN_DEPTH = 6;

export function certificateThumbprints(certificate: X509Certificate): { sha1: string; sha256: string } {
  return {
    sha1: certificate.fingerprint.replace(/:/g, '').toUpperCase(),
    sha256: certificate.fingerprint256.replace(/:/g, '').toUpperCase(),
  };
}

/** True when the certificate's SHA-1 or SHA-256 thumbprint is one of `thumbprints` (upper-case hex). */
export function matchesThumbprint(certificate: X509Certificate, thumbprints: (string | undefined)[]): boolean {
  const own = certificateThumbprints(certificate);
  return thumbprints.some((t) => t !== undefined && (t === own.sha1 || t === own.sha256));
}

export function commonName(certificate: X509Certificate): string | undefined {
  for (const line of certificate.subject.split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3);
  }
  return undefined;
}

function isCurrent(certificate: X509Certificate, nowMs: number): boolean {
  return Date.parse(certificate.validFrom) <= nowMs && nowMs <= Date.parse(certificate.validTo);
}

function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

export type ChainCheck = { ok: true } | { ok: false; message: string };

/**
 * Does `presented[0]` (the leaf) chain to `root`, through intermediates taken from the rest of `presented`?
 * Every certificate on the path, the root included, must be within its validity period.
 */
export function chainsTo(presented: X509Certificate[], root: X509Certificate, nowMs: number): ChainCheck {
  if (presented.length === 0) return { ok: false, message: 'no client certificate' };
  let current = presented[0];
  const used = new Set<X509Certificate>([current]);
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    if (!isCurrent(current, nowMs)) return { ok: false, message: `certificate ${current.subject.replace(/\n/g, ', ')} is outside its validity period` };
    if (signedBy(current, root)) {
      return isCurrent(root, nowMs) ? { ok: true } : { ok: false, message: 'the enrollment CA is outside its validity period' };
    }
    const next = presented.find((c) => !used.has(c) && c.ca && signedBy(current, c));
    if (!next) return { ok: false, message: 'certificate is not signed by the enrollment CA' };
    used.add(next);
    current = next;
  }
  return { ok: false, message: 'certificate chain is too long' };
}
