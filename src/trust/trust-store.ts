// The list of trust anchors handed to TLS. Default roots ship with the firmware; CAs stored in a security tag
// extend them (a private CA beside Azure's) or override them (a test hub, a proxy). An anchor past its notAfter
// is dropped once the clock is known, because some TLS stacks refuse a whole list that holds an expired root
// and the others would only fail later with a less helpful error.

import type { Logger } from '../ports';
import { readCertificateInfo } from './x509-validity';

export interface NamedRoot {
  name: string;
  der: Uint8Array;
}

export type TrustMode = 'extend' | 'override';

export interface TrustListInput {
  defaultRoots: NamedRoot[];
  tagCAs: Uint8Array[];
  mode: TrustMode;
  /** WallClock.unixMs(): undefined while the clock is not set, and then nothing is dropped for its dates. */
  nowUnixMs: number | undefined;
  logger: Logger;
}

export function buildTrustList(input: TrustListInput): Uint8Array[] {
  const { defaultRoots, tagCAs, mode, nowUnixMs, logger } = input;
  const tagged: NamedRoot[] = tagCAs.map((der, i) => ({ name: `tag CA ${i + 1}`, der }));
  let candidates: NamedRoot[];
  if (mode === 'override' && tagged.length > 0) {
    logger.log('info', `trust: ${tagged.length} tag CA(s) replace the ${defaultRoots.length} default root(s)`);
    candidates = tagged;
  } else {
    if (mode === 'override') logger.log('warn', 'trust: override asked for but the tags hold no CA; using the default roots');
    candidates = defaultRoots.concat(tagged);
  }

  if (nowUnixMs === undefined) {
    logger.log('warn', `trust: wall clock not set, keeping all ${candidates.length} anchor(s) without checking their dates`);
  }

  const kept: Uint8Array[] = [];
  for (const candidate of candidates) {
    if (kept.some((der) => sameBytes(der, candidate.der))) continue;
    const read = readCertificateInfo(candidate.der);
    if (!read.ok) {
      logger.log('warn', `trust: skipping ${candidate.name}: not a readable certificate (${read.error.message})`);
      continue;
    }
    if (nowUnixMs !== undefined) {
      const { notBeforeMs, notAfterMs } = read.value;
      if (notAfterMs < nowUnixMs) {
        logger.log('warn', `trust: skipping ${candidate.name}: expired on ${new Date(notAfterMs).toISOString()}`);
        continue;
      }
      if (notBeforeMs > nowUnixMs) {
        logger.log('warn', `trust: skipping ${candidate.name}: not valid before ${new Date(notBeforeMs).toISOString()}`);
        continue;
      }
    }
    kept.push(candidate.der);
  }
  if (kept.length === 0) logger.log('error', 'trust: no usable trust anchor; every TLS connection will fail verification');
  return kept;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
