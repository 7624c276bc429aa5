// "crypt" (documentation/crypt/crypt.md, class Digest).
declare module 'crypt' {
  export class Digest {
    constructor(type: 'MD5' | 'SHA1' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512');
    write(data: string | ArrayBuffer | ArrayBufferView): void;
    /** Returns the hash; the digest must be reset before it is used again. */
    close(): ArrayBuffer;
    reset(): void;
    readonly blockSize: number;
    readonly outputSize: number;
  }
}
