// Turns Node's socket and TLS errors into the port's TransportError: a code a retry policy can act on and a
// message a person can read. Kept apart from the transport so the table can be tested without sockets.
import type { TransportError, TransportErrorCode } from '../../src/ports';

const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);

interface NodeErrorLike {
  code?: unknown;
  message?: unknown;
  /** OpenSSL's short reason ("wrong version number"); its full message is a line of library internals. */
  reason?: unknown;
}

function describe(error: unknown): { code: string; message: string } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as NodeErrorLike;
  const text = typeof e.reason === 'string' && e.reason !== '' ? e.reason : typeof e.message === 'string' && e.message !== '' ? e.message : String(error);
  return { code: typeof e.code === 'string' ? e.code : '', message: text.trim() };
}

export interface ErrorContext {
  /** Where we were trying to go, for messages ("localhost:8883"). */
  target: string;
  /** The name the certificate was checked against. */
  serverName: string;
  /** Whether the TLS handshake had finished when the error came. */
  secured: boolean;
}

export function mapNodeTransportError(error: unknown, context: ErrorContext): TransportError {
  const { code, message } = describe(error);
  const make = (kind: TransportErrorCode, text: string): TransportError => ({ code: kind, message: text });

  if (VERIFY_CODES.has(code)) return make('tls-verify', `server certificate not trusted: ${message}`);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return make('tls-hostname', `server certificate does not match "${context.serverName}": ${message}`);
  }
  if (code === 'ECONNREFUSED') return make('refused', `connection refused by ${context.target}`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return make('dns', `cannot resolve ${context.target}: ${code === 'EAI_AGAIN' ? 'DNS lookup timed out' : 'name not found'}`);
  }
  if (code === 'ETIMEDOUT') return make('timeout', `connecting to ${context.target} timed out`);
  if (!context.secured && (code === 'ECONNRESET' || code === 'EPIPE')) {
    // A server that hangs up mid-handshake has refused us at the TLS level (protocol, client certificate, ...).
    return make('tls-handshake', `server closed the connection during the TLS handshake: ${message}`);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') return make('reset', `connection to ${context.target} lost: ${message}`);
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_')) {
    return make('tls-handshake', context.secured ? `TLS session failed: ${message}` : `TLS handshake failed: ${message}`);
  }
  return make('other', `transport failed: ${message}`);
}
