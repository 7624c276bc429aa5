// Turns what we could observe about a failed Moddable TLS connection into the port's TransportError.
// SecureSocket reports every failure as socket message -2 (error) or -1 (disconnected) and swallows the
// exception behind it, so the transport records the facts on the way (was TCP up, what did the TLS stack throw,
// did the certificate check fail on the name) and this table, free of any Moddable module, names the cause.
import type { TransportError } from '../../src/ports';

export type ConnectionStage = 'connecting' | 'handshaking' | 'secured';

export interface FailureFacts {
  stage: ConnectionStage;
  /** Whether any handshake bytes came from the server: tells a dead connection from a TLS-level refusal. */
  serverSpoke: boolean;
  /** -2: the socket or the TLS stack failed; -1: the peer closed the TCP connection. */
  socketMessage: -1 | -2;
  /** Message of the exception the TLS stack threw during the handshake, if we caught one. */
  thrown?: string;
  /** Set when the certificate check ran and failed: was the name the problem or the chain? */
  certificate?: 'untrusted' | 'name-mismatch';
  /** TLS alert description sent or received during the handshake. */
  alert?: number;
  /** "host:port" for messages. */
  target: string;
  serverName: string;
}

const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  112: 'unrecognized_name',
};

export function describeAlert(description: number): string {
  return `TLS alert ${description} (${ALERT_NAMES[description] ?? 'unknown'})`;
}

/** The error for a connection that ended badly; undefined for an orderly close by the peer after the handshake. */
export function classifyFailure(facts: FailureFacts): TransportError | undefined {
  const { stage, serverSpoke, socketMessage, thrown, certificate, alert, target, serverName } = facts;

  if (certificate === 'name-mismatch') {
    return { code: 'tls-hostname', message: `server certificate of ${target} does not name "${serverName}"` };
  }
  if (certificate === 'untrusted' || (thrown !== undefined && /auth err/.test(thrown) && /^certificate/.test(thrown))) {
    return {
      code: 'tls-verify',
      message: `server certificate of ${target} not trusted (no trusted CA signs its chain, or a certificate is outside its validity dates)`,
    };
  }
  if (thrown !== undefined && /date validation/.test(thrown)) {
    return { code: 'tls-verify', message: `a certificate is outside its validity dates (is the clock set?): ${thrown}` };
  }
  if (alert !== undefined && stage !== 'secured') {
    return { code: 'tls-handshake', message: `TLS handshake with ${target} failed: ${describeAlert(alert)}` };
  }

  if (stage === 'connecting') {
    // Before TCP is up the socket layer says only "error": on lwIP that is a failed DNS look-up or a refused
    // or unreachable connection; the Linux simulator reports neither and ends in the connect timeout instead.
    return { code: 'refused', message: `could not connect to ${target} (name did not resolve, or connection refused)` };
  }
  if (stage === 'handshaking') {
    const socketFailed = thrown !== undefined && /(write|read) (failed|on closed socket)/.test(thrown);
    if (socketFailed && !serverSpoke) {
      // The simulator reports a refused connection as connected, and the first handshake write then fails.
      return { code: 'refused', message: `connection to ${target} failed before the TLS handshake: ${thrown}` };
    }
    if (socketFailed) {
      return {
        code: 'tls-handshake',
        message: `${target} dropped the connection during the TLS handshake (client certificate or protocol refused?): ${thrown}`,
      };
    }
    if (socketMessage === -1) {
      return { code: 'tls-handshake', message: `${target} closed the connection during the TLS handshake` };
    }
    return { code: 'tls-handshake', message: `TLS handshake with ${target} failed${thrown !== undefined ? `: ${thrown}` : ''}` };
  }
  if (socketMessage === -1) return undefined;
  return { code: 'reset', message: `connection to ${target} lost${thrown !== undefined ? `: ${thrown}` : ''}` };
}
