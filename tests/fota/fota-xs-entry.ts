// Runs inside the real XS engine (bundled by fota-xs.test.ts and bench/xs): the image check a device does, the
// streaming SHA-256 of src/crypto/sha256.ts and tweetnacl's Ed25519 verify of the manifest, on inputs from Node.
// Request (JSON): {op: 'check', image: base64, firmware: desired object, keys: [base64, base64]}
//              -> {sha256, manifest, signature: slot | error code}
//                 {op: 'hash', kb: n}   -> digest of n KB hashed in 1 KB updates (the bench's per-KB figure)
//                 {op: 'oneshot', kb: n} -> the core's one-shot sha256() of n KB (certificate fingerprints use it)
//                 {op: 'verify', count, firmware, keys} -> `count` verifies of the same manifest
import { Sha256, sha256 } from '../../src/crypto/sha256';
import { toHex } from '../../src/crypto/hex';
import { base64Decode } from '../../src/encoding/base64';
import { utf8Decode, utf8Encode } from '../../src/encoding/utf8';
import { parseManifest } from '../../src/fota/manifest';
import { verifyManifest, type VendorKeys } from '../../src/fota/signature';

interface Request {
  op: 'check' | 'hash' | 'oneshot' | 'verify';
  image?: string;
  firmware?: unknown;
  keys?: string[];
  kb?: number;
  count?: number;
}

function bytes(text: string): Uint8Array {
  const decoded = base64Decode(text);
  if (!decoded.ok) throw new Error('bad base64');
  return decoded.value;
}

function keysOf(request: Request): VendorKeys {
  const keys = (request.keys ?? []).map(bytes);
  return [keys[0], keys[1]];
}

function handle(request: Request): Record<string, unknown> {
  const chunk = new Uint8Array(1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7) & 0xff;
  if (request.op === 'hash') {
    const hash = new Sha256();
    for (let i = 0; i < (request.kb ?? 1); i++) hash.update(chunk);
    return { sha256: toHex(hash.digest()) };
  }
  if (request.op === 'oneshot') {
    const data = new Uint8Array(1024 * (request.kb ?? 1));
    for (let at = 0; at < data.length; at += 1024) data.set(chunk, at);
    return { sha256: toHex(sha256(data)) };
  }
  const manifest = parseManifest(request.firmware);
  if (!manifest.ok) return { manifest: manifest.error.code };
  if (request.op === 'verify') {
    let verified = 0;
    for (let i = 0; i < (request.count ?? 1); i++) if (verifyManifest(manifest.value, keysOf(request)).ok) verified++;
    return { verified };
  }
  const image = bytes(request.image ?? '');
  const hash = new Sha256();
  for (let at = 0; at < image.length; at += 1000) hash.update(image.subarray(at, at + 1000));
  const signature = verifyManifest(manifest.value, keysOf(request));
  return { sha256: toHex(hash.digest()), manifest: 'ok', signature: signature.ok ? signature.value : signature.error.code };
}

(globalThis as unknown as { handleCommand: (message: ArrayBuffer) => ArrayBuffer }).handleCommand = (message) => {
  let reply: Record<string, unknown>;
  try {
    reply = handle(JSON.parse(utf8Decode(new Uint8Array(message)) ?? '') as Request);
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : String(error) };
  }
  const out = utf8Encode(JSON.stringify(reply));
  return out.buffer.slice(out.byteOffset, out.byteOffset + out.length) as ArrayBuffer;
};
