// "rng" (modules/crypt/etc/rng.js): the generator the TLS stack takes its randoms from, an RC4 keystream
// seeded from the platform's c_rand(). Typed from its public methods; the SDK ships no typings for it, so
// manifest_host.json also hands this file to mcconfig's TypeScript build.
declare module 'rng' {
  const RNG: {
    get(count: number): ArrayBuffer;
    /** Re-seeds the whole generator; without a seed it re-seeds from c_rand. */
    init(seed?: ArrayBuffer): void;
  };
  export default RNG;
}
