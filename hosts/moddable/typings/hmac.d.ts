// "hmac" (modules/crypt/etc/hmac.js): undocumented helper of the TLS stack, typed from its public methods.
// The SDK ships no typings for it, so manifest_host.json also hands this file to mcconfig's TypeScript build.
declare module 'hmac' {
  import type { Digest } from 'crypt';
  /** HMAC over any Digest; `bitLength` truncates sign() output and is irrelevant to process(). */
  export default class HMAC {
    constructor(digest: Digest, key: ArrayBuffer | ArrayBufferView, bitLength?: number);
    /** Resets, absorbs every item in order and returns the MAC. */
    process(...items: (string | ArrayBuffer | ArrayBufferView)[]): ArrayBuffer;
  }
}
