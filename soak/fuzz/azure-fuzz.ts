// Fuzzes the Azure parsers with mutated valid texts and payloads. Properties checked for every input:
//   - nothing throws; every failure is an AzureError with a known code (a typed result, never an exception);
//   - bounded time per input;
//   - no error message quotes the device key or a SAS signature that was in the input;
//   - at most one topic parser claims a topic (the router can never route one message to two features);
//   - what a parser accepts, rebuilt with our builders, parses back to the same value.

import { AzureError } from '../../src/azure/azure-error';
import { parseC2dTopic } from '../../src/azure/c2d-topic';
import { parseConnectionString, type DeviceConnectionString } from '../../src/azure/connection-string';
import { parseDpsResponse } from '../../src/azure/dps-payloads';
import { parseDpsResponseTopic } from '../../src/azure/dps-topics';
import { parseJson } from '../../src/azure/json';
import { checkTwinPatch } from '../../src/azure/limits';
import { parseMethodRequestTopic, methodResponseTopic } from '../../src/azure/method-topics';
import { buildPropertyBag, parsePropertyBag } from '../../src/azure/property-bag';
import type { Result } from '../../src/result';
import { buildSasToken, type HmacSha256 } from '../../src/azure/sas-token';
import { parseSasToken, sasSignatureMatches } from '../../src/azure/sas-verify';
import { parseTwinDocument, parseDesiredPatch } from '../../src/azure/twin-json';
import { parseTwinDesiredTopic, parseTwinResponseTopic } from '../../src/azure/twin-topics';
import { base64Decode, base64Encode } from '../../src/encoding/base64';
import { percentDecode, percentEncode } from '../../src/encoding/percent';
import { isWellFormedUtf16, utf8Encode } from '../../src/encoding/utf8';
import { Rng } from '../lib/rng';
import { addFailure, countCode, emptyStats, hexOf, nowMs, type FuzzStats } from './fuzz-report';
import { mutateBytes, mutateText } from './mutate';
import { CONNECTION_STRING_SEEDS, FUZZ_DEVICE_KEY, JSON_SEEDS, PROPERTY_BAG_SEEDS, SAS_RESOURCE_SEEDS, TOPIC_SEEDS } from './azure-seeds';

export interface AzureFuzzOptions {
  seed: number;
  inputs: number;
  hmac: HmacSha256;
  maxInputMs?: number;
}

const KNOWN_CODES = new Set([
  'clock-not-set', 'invalid-argument', 'missing-field', 'duplicate-field', 'empty-field', 'unknown-field', 'conflicting-fields',
  'malformed', 'invalid-base64', 'invalid-percent-encoding', 'invalid-utf8', 'invalid-json', 'invalid-payload', 'topic-mismatch',
  'invalid-topic', 'invalid-name', 'invalid-value', 'too-large', 'too-deep', 'crypto-failed',
]);

type Target = 'connection-string' | 'sas-token' | 'property-bag' | 'topics' | 'json' | 'encodings';
const TARGETS: readonly Target[] = ['connection-string', 'sas-token', 'property-bag', 'topics', 'json', 'encodings'];

/** Every 10-character piece of a secret: an error quoting any of them has leaked part of it. */
function windows(secret: string, size = 10): string[] {
  const out: string[] = [];
  for (let i = 0; i + size <= secret.length; i++) out.push(secret.slice(i, i + size));
  return out;
}

const KEY_WINDOWS = windows(FUZZ_DEVICE_KEY);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function rebuildConnectionString(c: DeviceConnectionString): string {
  const parts = [`HostName=${c.hostName}`, `DeviceId=${c.deviceId}`];
  if (c.moduleId !== undefined) parts.push(`ModuleId=${c.moduleId}`);
  if (c.sharedAccessKeyName !== undefined) parts.push(`SharedAccessKeyName=${c.sharedAccessKeyName}`);
  if (c.sharedAccessKey !== undefined) parts.push(`SharedAccessKey=${c.sharedAccessKey}`);
  if (c.gatewayHostName !== undefined) parts.push(`GatewayHostName=${c.gatewayHostName}`);
  if (c.x509) parts.push('x509=true');
  return parts.join(';');
}

/** Deeply nested or huge JSON, which mutation alone rarely reaches. */
function extremeJson(rng: Rng): string {
  const depth = rng.pick([11, 64, 1000, 20_000]);
  switch (rng.int(0, 3)) {
    case 0:
      return '['.repeat(depth) + ']'.repeat(depth);
    case 1:
      return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    case 2:
      return `{"desired":{"$version":1,"k":"${'x'.repeat(rng.int(4000, 40_000))}"},"reported":{"$version":2}}`;
    default:
      return '{"desired":' + '{"a":'.repeat(depth) + '{"$version":1}' + '}'.repeat(depth) + ',"reported":{"$version":1}}';
  }
}

export function fuzzAzureParsers(options: AzureFuzzOptions): FuzzStats {
  const rng = new Rng(options.seed);
  const maxInputMs = options.maxInputMs ?? 250;
  const stats = emptyStats(options.seed);
  const started = nowMs();
  const hmac = options.hmac;
  const sasSeeds = SAS_RESOURCE_SEEDS.map((resource, i) => {
    const token = buildSasToken({ resource, key: FUZZ_DEVICE_KEY, expiryUnixSeconds: 1_700_000_000 + i, ...(i === 1 ? { keyName: 'registration' } : {}) }, hmac);
    if (!token.ok) throw new Error(`cannot build a SAS seed: ${token.error.message}`);
    return token.value;
  });
  const signatureWindows = sasSeeds.flatMap((t) => windows(t.slice(t.indexOf('sig=') + 4, t.indexOf('&', t.indexOf('sig=')))));
  const jsonDonors = JSON_SEEDS.map((s) => utf8Encode(s));

  for (let i = 0; i < options.inputs; i++) {
    const target = TARGETS[i % TARGETS.length]!;
    let shown = '';
    // While an input is timed again (see below) nothing is recorded twice.
    let quiet = false;
    const fail = (property: string, detail: string): void => {
      if (!quiet) addFailure(stats, { property, target, detail: `input ${i}: ${detail}`, input: shown });
    };
    /** Records a result and checks the shape of its error. */
    const check = <T>(what: string, result: Result<T, AzureError>, secrets: readonly string[] = []): result is { ok: true; value: T } => {
      if (result.ok) return true;
      const error = result.error;
      if (!(error instanceof AzureError)) fail('error-type', `${what} failed without an AzureError`);
      else if (!KNOWN_CODES.has(error.code)) fail('error-code', `${what} gave unknown code ${error.code}`);
      if (!quiet) countCode(stats, `${what}:${error.code}`);
      const text = `${error.message} ${String(error.field)}`;
      for (const piece of secrets) if (text.includes(piece)) fail('secret-echo', `${what} error quotes part of a secret: ${error.message}`);
      return false;
    };

    stats.inputs++;
    const position = rng.save();
    const runInput = (): boolean => {
      let accepted = false;
      try {
        switch (target) {
          case 'connection-string': {
            const input = mutateText(rng.pick(CONNECTION_STRING_SEEDS), rng, CONNECTION_STRING_SEEDS);
            shown = JSON.stringify(input);
            const parsed = parseConnectionString(input);
            if (check('connection string', parsed, KEY_WINDOWS)) {
              accepted = true;
              const again = parseConnectionString(rebuildConnectionString(parsed.value));
              if (!again.ok || !same(again.value, parsed.value)) fail('re-encode', 'rebuilt connection string parses differently');
            }
            break;
          }
          case 'sas-token': {
            const input = mutateText(rng.pick(sasSeeds), rng, sasSeeds);
            shown = JSON.stringify(input);
            const parsed = parseSasToken(input);
            if (check('sas token', parsed, signatureWindows)) {
              accepted = true;
              const t = parsed.value;
              const rebuilt = `SharedAccessSignature sr=${t.sr}&sig=${t.sig}&se=${t.se}${t.skn === undefined ? '' : `&skn=${t.skn}`}`;
              const again = parseSasToken(rebuilt);
              if (!again.ok || !same(again.value, t)) fail('re-encode', 'rebuilt token parses differently');
              check('sas verify', sasSignatureMatches(t, FUZZ_DEVICE_KEY, hmac), signatureWindows);
            }
            break;
          }
          case 'property-bag': {
            const input = mutateText(rng.pick(PROPERTY_BAG_SEEDS), rng, PROPERTY_BAG_SEEDS);
            shown = JSON.stringify(input);
            const parsed = parsePropertyBag(input);
            if (check('property bag', parsed)) {
              accepted = true;
              const built = buildPropertyBag(parsed.value);
              // Text that is not well-formed UTF-16 cannot come off the wire (the MQTT decoder refuses it first).
              if (!built.ok) {
                if (isWellFormedUtf16(input)) fail('re-encode', `accepted bag cannot be rebuilt: ${built.error.message}`);
              } else {
                const again = parsePropertyBag(built.value);
                if (!again.ok || !same(again.value, parsed.value)) fail('re-encode', 'rebuilt bag parses differently');
              }
            }
            break;
          }
          case 'topics': {
            const input = mutateText(rng.pick(TOPIC_SEEDS), rng, TOPIC_SEEDS);
            shown = JSON.stringify(input);
            // Topics come from the MQTT decoder, which refuses text that is not UTF-8: only those must round-trip.
            const wire = isWellFormedUtf16(input);
            let claims = 0;
            const twinRes = parseTwinResponseTopic(input);
            if (check('twin response topic', twinRes)) {
              claims++;
              const r = twinRes.value;
              const rebuilt = `$iothub/twin/res/${r.status}/?$rid=${percentEncode(r.rid)}${r.version === undefined ? '' : `&$version=${r.version}`}`;
              const again = parseTwinResponseTopic(rebuilt);
              if (wire && (!again.ok || !same(again.value, r))) fail('re-encode', 'rebuilt twin response topic parses differently');
            }
            const desired = parseTwinDesiredTopic(input);
            if (check('twin desired topic', desired)) {
              claims++;
              const again = parseTwinDesiredTopic(`$iothub/twin/PATCH/properties/desired/?$version=${desired.value.version}`);
              if (wire && (!again.ok || !same(again.value, desired.value))) fail('re-encode', 'rebuilt desired topic parses differently');
            }
            const method = parseMethodRequestTopic(input);
            if (check('method topic', method)) {
              claims++;
              const m = method.value;
              const again = parseMethodRequestTopic(`$iothub/methods/POST/${percentEncode(m.methodName)}/?$rid=${percentEncode(m.rid)}`);
              if (wire && (!again.ok || !same(again.value, m))) fail('re-encode', 'rebuilt method topic parses differently');
              const reply = methodResponseTopic(200, m.rid);
              if (!reply.ok) fail('re-encode', 'no reply topic for an accepted method request');
            }
            const c2d = parseC2dTopic(input);
            if (check('c2d topic', c2d)) {
              claims++;
              const bag = buildPropertyBag(c2d.value.properties);
              if (bag.ok) {
                const again = parseC2dTopic(`devices/${c2d.value.deviceId}/messages/devicebound/${bag.value}`);
                if (!again.ok || !same(again.value.properties, c2d.value.properties)) fail('re-encode', 'rebuilt c2d topic parses differently');
              } else if (isWellFormedUtf16(input)) fail('re-encode', 'accepted c2d properties cannot be rebuilt');
            }
            const dps = parseDpsResponseTopic(input);
            if (check('dps topic', dps)) {
              claims++;
              const d = dps.value;
              const rebuilt = `$dps/registrations/res/${d.status}/?$rid=${percentEncode(d.rid)}${d.retryAfterSeconds === undefined ? '' : `&retry-after=${d.retryAfterSeconds}`}`;
              const again = parseDpsResponseTopic(rebuilt);
              if (wire && (!again.ok || !same(again.value, d))) fail('re-encode', 'rebuilt dps topic parses differently');
            }
            if (claims > 1) fail('ambiguous-topic', `${claims} parsers accepted the topic`);
            accepted = claims === 1;
            break;
          }
          case 'json': {
            let body: Uint8Array;
            if (rng.chance(0.05)) body = utf8Encode(extremeJson(rng));
            else if (rng.chance(0.5)) body = utf8Encode(mutateText(rng.pick(JSON_SEEDS), rng, JSON_SEEDS));
            else body = mutateBytes(rng.pick(jsonDonors), rng, jsonDonors);
            shown = hexOf(body, 256);
            const twin = parseTwinDocument(body);
            if (check('twin document', twin)) {
              accepted = true;
              const again = parseTwinDocument(JSON.stringify({ desired: twin.value.desired, reported: twin.value.reported }));
              if (!again.ok || !same(again.value, twin.value)) fail('re-encode', 'rebuilt twin document parses differently');
            }
            const patch = parseDesiredPatch(body, rng.chance(0.5) ? rng.int(0, 100) : undefined);
            if (check('desired patch', patch)) {
              accepted = true;
              // The reported-side checker must survive anything the network can hand the app.
              check('twin patch check', checkTwinPatch(patch.value.patch));
            }
            const dps = parseDpsResponse(rng.pick([200, 202, 400, 401, 429, 500, 503]), body);
            if (check('dps response', dps)) {
              accepted = true;
              const o = dps.value;
              if (o.kind === 'assigned' && (o.assignedHub.length === 0 || o.deviceId.length === 0)) fail('shape', 'assigned without hub or device id');
              if (o.kind === 'error' && (o.status < 100 || o.status > 599)) fail('shape', `error status ${o.status}`);
            }
            check('json', parseJson(body, 'payload', { allowEmpty: rng.chance(0.5) }));
            break;
          }
          case 'encodings': {
            const text = rng.chance(0.5)
              ? mutateText(base64Encode(rng.bytes(rng.int(0, 40))), rng)
              : mutateText(percentEncode(String.fromCharCode(...Array.from(rng.bytes(rng.int(0, 20)), (b) => (b < 0x80 ? b : b * 31)))), rng);
            shown = JSON.stringify(text);
            const b = base64Decode(text);
            if (b.ok) {
              accepted = true;
              // Strict decoding accepts only canonical text, so encoding gives the input back exactly.
              if (base64Encode(b.value) !== text) fail('re-encode', 'base64 decode then encode differs');
            } else if (!quiet) countCode(stats, `base64:${b.error.code}`);
            const p = percentDecode(text);
            if (p.ok) {
              accepted = true;
              const again = percentDecode(percentEncode(p.value));
              if (isWellFormedUtf16(p.value) && (!again.ok || again.value !== p.value)) fail('re-encode', 'percent decode/encode/decode differs');
            } else if (!quiet) countCode(stats, `percent:${p.error.code}`);
            break;
          }
        }
      } catch (error) {
        fail('exception', `threw ${String(error)}`);
      }
      return accepted;
    };
    const t0 = nowMs();
    const accepted = runInput();
    const after = rng.save();
    let elapsed = nowMs() - t0;
    // A slow input is timed twice more with the same draws: a hang is slow every time, a preempted or
    // garbage-collecting process is not.
    for (let retry = 0; retry < 2 && elapsed > maxInputMs; retry++) {
      rng.restore(position);
      quiet = true;
      const t1 = nowMs();
      runInput();
      elapsed = Math.min(elapsed, nowMs() - t1);
    }
    rng.restore(after);
    quiet = false;
    if (elapsed > stats.slowestInputMs) stats.slowestInputMs = elapsed;
    if (elapsed > maxInputMs) fail('slow', `took ${elapsed.toFixed(1)} ms`);
    if (accepted) stats.accepted++;
    else stats.rejected++;
  }
  stats.elapsedMs = nowMs() - started;
  return stats;
}
