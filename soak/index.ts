// The long reliability run: `npx tsx soak/index.ts` (see soak/lib/args.ts for options). Runs the fuzzers, the
// fault soak against the emulator and the virtual-clock soak on Node and XS, prints the figures and the seed,
// and exits non-zero when any property failed.

import { createNodeCrypto } from '../hosts/node/node-crypto';
import { createTlsMaterial } from '../emulator/src/tls-material';
import { fuzzAzureParsers } from './fuzz/azure-fuzz';
import { fuzzMqttStreamParser } from './fuzz/mqtt-fuzz';
import { fuzzAtParser } from './fuzz/at-fuzz';
import { fuzzWebSocket } from './fuzz/ws-fuzz';
import type { FuzzFailure, FuzzStats } from './fuzz/fuzz-report';
import { describeFaultSoak, runFaultSoak } from './fault-soak';
import { describeJournalSoak, journalSoakProblems, runJournalSoak } from './journal-soak';
import { parseSoakArgs, SOAK_USAGE } from './lib/args';
import { freshSeed, Rng } from './lib/rng';
import { describeVirtualSoak, runVirtualSoak, runVirtualSoakOnXs } from './virtual-soak';

const CHUNK = 100_000;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs a fuzzer in chunks (each with its own seed drawn from the run's seed) to report progress. */
function fuzzInChunks(name: string, total: number, rng: Rng, run: (seed: number, inputs: number) => FuzzStats): { inputs: number; accepted: number; slowest: number; maxHeld: number; failures: FuzzFailure[]; ms: number } {
  const sum = { inputs: 0, accepted: 0, slowest: 0, maxHeld: 0, failures: [] as FuzzFailure[], ms: 0 };
  for (let done = 0; done < total; done += CHUNK) {
    const seed = rng.int(0, 0xffffffff);
    const stats = run(seed, Math.min(CHUNK, total - done));
    sum.inputs += stats.inputs;
    sum.accepted += stats.accepted;
    sum.slowest = Math.max(sum.slowest, stats.slowestInputMs);
    sum.maxHeld = Math.max(sum.maxHeld, stats.maxBufferedBytes ?? 0);
    sum.ms += stats.elapsedMs;
    for (const f of stats.failures) sum.failures.push({ ...f, detail: `chunk seed ${seed}: ${f.detail}` });
    if (total > CHUNK) say(`  ${name}: ${sum.inputs}/${total} inputs, ${sum.failures.length} failures`);
  }
  return sum;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseSoakArgs(process.argv.slice(2));
  } catch (error) {
    say(`${(error as Error).message}\n${SOAK_USAGE}`);
    return 2;
  }
  if (args.help) {
    say(SOAK_USAGE);
    return 0;
  }
  const seed = args.seed ?? freshSeed();
  const rng = new Rng(seed);
  const only = args.only.size === 4 ? '' : ` --only ${[...args.only].join(',')}`;
  const replay = `npx tsx soak/index.ts --seed ${seed} --fuzz ${args.fuzz} --messages ${args.messages} --faults ${args.faults} --hours ${args.hours} --jmessages ${args.jmessages} --jfaults ${args.jfaults} --outagems ${args.outagems}${only}`;
  say(`soak seed ${seed} (replay: ${replay})`);
  const problems: string[] = [];
  const fuzzSeed = rng.int(0, 0xffffffff);
  const faultSeed = rng.int(0, 0xffffffff);
  const virtualSeed = rng.int(0, 0xffffffff);
  const journalSeed = rng.int(0, 0xffffffff);

  if (args.only.has('fuzz') && args.fuzz > 0) {
    const fuzzRng = new Rng(fuzzSeed);
    const mqtt = fuzzInChunks('mqtt', args.fuzz, fuzzRng, (s, n) => fuzzMqttStreamParser({ seed: s, inputs: n }));
    say(`fuzz mqtt: ${mqtt.inputs} inputs, ${mqtt.accepted} gave packets, slowest ${mqtt.slowest.toFixed(1)} ms, most bytes held ${mqtt.maxHeld}, ${(mqtt.ms / 1000).toFixed(1)} s, ${mqtt.failures.length} failures`);
    const hmac = createNodeCrypto().hmacSha256;
    const azure = fuzzInChunks('azure', Math.ceil(args.fuzz / 4), fuzzRng, (s, n) => fuzzAzureParsers({ seed: s, inputs: n, hmac }));
    say(`fuzz azure: ${azure.inputs} inputs, ${azure.accepted} accepted, slowest ${azure.slowest.toFixed(1)} ms, ${(azure.ms / 1000).toFixed(1)} s, ${azure.failures.length} failures`);
    const at = fuzzInChunks('at', Math.ceil(args.fuzz / 4), fuzzRng, (s, n) => fuzzAtParser({ seed: s, inputs: n }));
    say(`fuzz at (modem): ${at.inputs} inputs, ${at.accepted} gave lines, slowest ${at.slowest.toFixed(1)} ms, ${(at.ms / 1000).toFixed(1)} s, ${at.failures.length} failures`);
    const ws = fuzzInChunks('ws', Math.ceil(args.fuzz / 4), fuzzRng, (s, n) => fuzzWebSocket({ seed: s, inputs: n }));
    say(`fuzz ws: ${ws.inputs} inputs (masked and unmasked, fragmented, oversized, bad close codes, bad handshakes), ${ws.accepted} passed data or closed cleanly, slowest ${ws.slowest.toFixed(1)} ms, ${(ws.ms / 1000).toFixed(1)} s, ${ws.failures.length} failures`);
    for (const f of [...mqtt.failures, ...azure.failures, ...at.failures, ...ws.failures].slice(0, 10)) problems.push(`fuzz ${f.target} ${f.property}: ${f.detail} input ${f.input}`);
  }

  if (args.only.has('faults') && args.messages > 0) {
    say(`fault soak: ${args.messages} messages, ${args.faults} faults (seed ${faultSeed})...`);
    const stats = await runFaultSoak({
      seed: faultSeed,
      messages: args.messages,
      faults: args.faults,
      tls: createTlsMaterial(),
      deadlineMs: Math.max(120_000, args.messages * 60),
      progress: (() => {
        let last = 0;
        return (line: string) => {
          if (Date.now() - last < 5000) return;
          last = Date.now();
          say(`  ${line}`);
        };
      })(),
    });
    for (const line of describeFaultSoak(stats)) say(line);
    if (stats.timedOut) problems.push('fault soak: did not finish before its deadline');
    if (stats.rejected > 0) problems.push(`fault soak: ${stats.rejected} messages given up: ${stats.rejections.join('; ')}`);
    if (stats.missing.length > 0) problems.push(`fault soak: messages never received: ${stats.missing.join(', ')}`);
    if (stats.twinFailed > 0) problems.push(`fault soak: twin patches failed: ${stats.twinFailures.join('; ')}`);
    if (stats.finalState !== 'connected' || stats.pendingTelemetryAtEnd !== 0) problems.push(`fault soak: ended ${stats.finalState} with ${stats.pendingTelemetryAtEnd} pending`);
  }

  if (args.only.has('virtual') && args.hours > 0) {
    const t0 = Date.now();
    const onNode = await runVirtualSoak({ seed: virtualSeed, hours: args.hours });
    for (const line of describeVirtualSoak(onNode, `Node, ${Date.now() - t0} ms`)) say(line);
    const onXs = await runVirtualSoakOnXs({ seed: virtualSeed, hours: args.hours });
    const h = onXs.heapCounts;
    const early = h[Math.min(6, h.length - 1)]!;
    const late = h[h.length - 1]!;
    say(`virtual soak (XS, ${onXs.elapsedMs} ms): heap slots after GC at hour ${Math.min(6, args.hours)} ${early}, at hour ${args.hours} ${late}, min ${Math.min(...h.slice(1))}, max ${Math.max(...h.slice(1))}`);
    const s = onNode;
    if (s.telemetryMissing + s.telemetryRejected + s.telemetryUnknown > 0) problems.push('virtual soak: telemetry lost');
    if (s.lastAppliedVersion !== s.finalDesiredVersion || s.desiredOutOfOrder > 0) problems.push('virtual soak: desired state not reached in order');
    if (s.reportedFailed > 0 || s.methodsFailed > 0) problems.push('virtual soak: a twin patch or a method failed');
    if (s.hub.tokenExpiredDrops + s.hub.keepAliveDrops + s.hub.protocolErrors > 0) problems.push('virtual soak: token expired, keep-alive lapsed or a protocol error');
    if (s.finalState !== 'connected' || s.pendingTimers !== 0) problems.push(`virtual soak: ended ${s.finalState} with ${s.pendingTimers} timers left`);
    if (JSON.stringify(onXs.stats) !== JSON.stringify(onNode)) problems.push('virtual soak: XS and Node runs differ');
    if (args.hours >= 12 && late > Math.round(early * 1.02)) problems.push(`virtual soak: XS heap grew from ${early} to ${late} slots`);
  }

  if (args.only.has('journal') && args.jmessages > 0) {
    say(`journal soak: ${args.jmessages} readings, ${args.jfaults} faults, outages up to ${args.outagems} ms (seed ${journalSeed})...`);
    const stats = await runJournalSoak({
      seed: journalSeed,
      messages: args.jmessages,
      faults: args.jfaults,
      outageMs: args.outagems,
      tls: createTlsMaterial(),
      progress: say,
    });
    for (const line of describeJournalSoak(stats)) say(line);
    problems.push(...journalSoakProblems(stats));
  }

  if (problems.length > 0) {
    say(`FAILED (seed ${seed}; replay: ${replay}):`);
    for (const p of problems) say(`  - ${p}`);
    return 1;
  }
  say(`all soak properties held (seed ${seed})`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    say(`soak crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
