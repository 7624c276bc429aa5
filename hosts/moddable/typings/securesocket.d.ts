// "securesocket" (documentation/network/securesocket.md): TLS client socket, the Socket callback API.
declare module 'securesocket' {
  type TlsBytes = ArrayBuffer | ArrayBufferView;

  export interface SecureDictionary {
    /** Minimum protocol version: 0x303 is TLS 1.2. */
    protocolVersion?: number;
    /** One trusted certificate, DER. */
    certificate?: TlsBytes;
    /** SNI and the name the server certificate is checked against; defaults to the socket's host. */
    serverName?: string;
    /** Defaults to true; we never set it. */
    verify?: boolean;
    trace?: boolean;
    /** Client certificate chain, DER, leaf first. */
    clientCertificates?: TlsBytes[];
    /** Client private key, DER (PKCS#8). */
    clientKey?: TlsBytes;
    tls_max_fragment_length?: number;
    applicationLayerProtocolNegotiation?: string | ArrayBuffer | (string | ArrayBuffer)[];
  }

  export interface SecureSocketDictionary {
    host?: string;
    address?: string;
    port: number;
    secure?: SecureDictionary;
  }

  /** Socket messages: -2 error, -1 disconnected, 1 connected (handshake done), 2 readable (bytes), 3 writable (bytes). */
  export type SecureSocketMessage = -2 | -1 | 1 | 2 | 3;

  export default class SecureSocket {
    constructor(dictionary: SecureSocketDictionary);
    callback: (message: SecureSocketMessage, value?: number) => void;
    /** Inside a readable callback: the decrypted bytes available now. */
    read(type: typeof ArrayBuffer, count?: number): ArrayBuffer | undefined;
    read(): number;
    /** No argument: how many plaintext bytes can be written now. With data: throws if it does not all fit. */
    write(): number;
    write(...data: (string | number | TlsBytes)[]): void;
    close(): void;
  }
}
