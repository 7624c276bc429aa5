// Azure's public roots, built into the firmware as resources by manifest_host.json (from certs/*.der).
// Views over the resources, not copies: on a board they stay in flash. Expired ones (Baltimore, 2025) are
// still listed; the core's trust list drops them once the clock is set, and the transport skips any the TLS
// stack refuses.
import Resource from 'Resource';

export const AZURE_ROOT_RESOURCES = [
  'digicert-global-root-g2.der',
  'microsoft-rsa-root-ca-2017.der',
  'baltimore-cybertrust-root.der',
] as const;

export interface NamedCertificate {
  name: string;
  der: Uint8Array;
}

/** The named DER resources that exist in this build, in the order given. */
export function loadCertificateResources(names: readonly string[] = AZURE_ROOT_RESOURCES): NamedCertificate[] {
  const found: NamedCertificate[] = [];
  for (const name of names) {
    if (Resource.exists(name)) found.push({ name, der: new Uint8Array(new Resource(name)) });
  }
  return found;
}
