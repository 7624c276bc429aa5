// Reads the handful of X.509 fields the device needs without a full ASN.1 parser: the validity window (to skip
// expired roots once the clock is set) and the subject CN (the registration id for X.509 DPS attestation).
// Nothing here verifies a signature; the TLS stack does that.

import { DerTag, derChildren, readDer, type DerElement } from './der';
import { utf8Decode } from '../encoding/utf8';
import { err, ok, type Result } from '../result';

export interface CertificateInfo {
  notBeforeMs: number;
  notAfterMs: number;
  /** The subject's most specific common name, if it has one. */
  subjectCN?: string;
  issuerCN?: string;
}

export type CertificateErrorCode = 'malformed-der' | 'not-a-certificate' | 'bad-time' | 'bad-name';

export interface CertificateError {
  code: CertificateErrorCode;
  message: string;
}

/** A certificate's validity and names, or what is unreadable in it. */
export type CertificateRead = Result<CertificateInfo, CertificateError>;

const CN_OID = [0x55, 0x04, 0x03];

function failure(code: CertificateErrorCode, message: string): { ok: false; error: CertificateError } {
  return err({ code, message });
}

export function readCertificateInfo(der: Uint8Array): CertificateRead {
  const cert = readDer(der, 0);
  if (!cert || cert.tag !== DerTag.sequence) return failure('malformed-der', 'not a DER SEQUENCE');
  if (cert.end !== der.length) return failure('malformed-der', `${der.length - cert.end} bytes follow the certificate`);
  const parts = derChildren(der, cert);
  if (!parts || parts.length !== 3 || parts[0]!.tag !== DerTag.sequence) {
    return failure('not-a-certificate', 'a certificate is tbsCertificate, signatureAlgorithm, signature');
  }
  const tbs = derChildren(der, parts[0]!);
  if (!tbs) return failure('malformed-der', 'tbsCertificate has a malformed field');
  // The version field is optional ([0] EXPLICIT, absent for v1).
  const first = tbs[0]?.tag === DerTag.contextConstructed0 ? 1 : 0;
  const serial = tbs[first];
  const issuer = tbs[first + 2];
  const validity = tbs[first + 3];
  const subject = tbs[first + 4];
  if (serial?.tag !== DerTag.integer || issuer?.tag !== DerTag.sequence || validity?.tag !== DerTag.sequence || subject?.tag !== DerTag.sequence) {
    return failure('not-a-certificate', 'tbsCertificate lacks serial, issuer, validity or subject');
  }
  const times = derChildren(der, validity);
  if (!times || times.length !== 2) return failure('bad-time', 'validity must hold notBefore and notAfter');
  const notBeforeMs = readTime(der, times[0]!);
  const notAfterMs = readTime(der, times[1]!);
  if (notBeforeMs === undefined) return failure('bad-time', 'notBefore is not a valid UTCTime or GeneralizedTime');
  if (notAfterMs === undefined) return failure('bad-time', 'notAfter is not a valid UTCTime or GeneralizedTime');
  const subjectCN = commonName(der, subject);
  const issuerCN = commonName(der, issuer);
  if (subjectCN === null) return failure('bad-name', 'subject name is malformed');
  if (issuerCN === null) return failure('bad-name', 'issuer name is malformed');
  const info: CertificateInfo = { notBeforeMs, notAfterMs };
  if (subjectCN !== undefined) info.subjectCN = subjectCN;
  if (issuerCN !== undefined) info.issuerCN = issuerCN;
  return ok(info);
}

/** Unix ms of a UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSSZ), as RFC 5280 requires. */
export function readTime(der: Uint8Array, element: DerElement): number | undefined {
  const length = element.end - element.start;
  let year: number | undefined;
  let at = element.start;
  if (element.tag === DerTag.utcTime && length === 13) {
    const yy = digits(der, at, 2);
    if (yy === undefined) return undefined;
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    at += 2;
  } else if (element.tag === DerTag.generalizedTime && length === 15) {
    year = digits(der, at, 4);
    at += 4;
  } else {
    return undefined;
  }
  const month = digits(der, at, 2);
  const day = digits(der, at + 2, 2);
  const hour = digits(der, at + 4, 2);
  const minute = digits(der, at + 6, 2);
  const second = digits(der, at + 8, 2);
  if (year === undefined || month === undefined || day === undefined || hour === undefined || minute === undefined || second === undefined) {
    return undefined;
  }
  if (der[at + 10] !== 0x5a /* Z */) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

function digits(bytes: Uint8Array, at: number, count: number): number | undefined {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const d = bytes[at + i]! - 0x30;
    if (!(d >= 0 && d <= 9)) return undefined;
    value = value * 10 + d;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The last CN in a Name (RDNs run from the root down, so the last is the most specific).
 * undefined: the name has no CN; null: the name is malformed.
 */
function commonName(der: Uint8Array, name: DerElement): string | undefined | null {
  const rdns = derChildren(der, name);
  if (!rdns) return null;
  let found: string | undefined;
  for (const rdn of rdns) {
    if (rdn.tag !== DerTag.set) return null;
    const attributes = derChildren(der, rdn);
    if (!attributes) return null;
    for (const attribute of attributes) {
      if (attribute.tag !== DerTag.sequence) return null;
      const pair = derChildren(der, attribute);
      if (!pair || pair.length !== 2 || pair[0]!.tag !== DerTag.oid) return null;
      if (!sameBytes(der, pair[0]!, CN_OID)) continue;
      // A CN in a string type we do not decode counts as no CN: the validity window is still worth reading.
      const text = decodeDirectoryString(der, pair[1]!);
      if (text !== undefined) found = text;
    }
  }
  return found;
}

function sameBytes(der: Uint8Array, element: DerElement, expected: number[]): boolean {
  if (element.end - element.start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (der[element.start + i] !== expected[i]) return false;
  return true;
}

function decodeDirectoryString(der: Uint8Array, element: DerElement): string | undefined {
  const { start, end } = element;
  switch (element.tag) {
    case DerTag.utf8String:
      return utf8Decode(der, start, end);
    case DerTag.printableString:
    case DerTag.ia5String:
    case DerTag.teletexString: {
      // Teletex is read as Latin-1, which is what certificates using it in practice contain.
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(der[i]!);
      return s;
    }
    case DerTag.bmpString: {
      if ((end - start) % 2 !== 0) return undefined;
      let s = '';
      for (let i = start; i < end; i += 2) s += String.fromCharCode((der[i]! << 8) | der[i + 1]!);
      return s;
    }
    case DerTag.universalString: {
      if ((end - start) % 4 !== 0) return undefined;
      let s = '';
      for (let i = start; i < end; i += 4) {
        const point = ((der[i]! << 24) | (der[i + 1]! << 16) | (der[i + 2]! << 8) | der[i + 3]!) >>> 0;
        if (point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) return undefined;
        s += String.fromCodePoint(point);
      }
      return s;
    }
    default:
      return undefined;
  }
}
