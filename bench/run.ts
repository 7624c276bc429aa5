// Runs the chosen sections in order and renders everything: a header (seed, profile, machine), each section's
// tables with their notes, and a final summary of the headline figures against their goals.
import { runCodecBench } from './codec/codec-bench';
import { runE2eBench } from './e2e/e2e-bench';
import { runFootprintBench } from './footprint/footprint-bench';
import type { BenchConfig, SectionName } from './lib/config';
import { renderTable } from './lib/format';
import { machineInfo, type MachineInfo } from './lib/machine';
import type { Headline, SectionResult, Table } from './lib/report';
import { runXsBench } from './xs/xs-bench';

const SECTIONS: Record<SectionName, { title: string; run: (config: BenchConfig) => Promise<SectionResult> }> = {
  codec: { title: '1. MQTT codec', run: runCodecBench },
  e2e: { title: '2. End to end on the Node host against the emulator (TLS)', run: runE2eBench },
  xs: { title: '3. On the real XS engine (xsnap meter)', run: runXsBench },
  footprint: { title: '4. Footprint', run: runFootprintBench },
};

export interface BenchReport {
  config: BenchConfig;
  machine: MachineInfo;
  startedAt: string;
  seconds: number;
  sections: SectionResult[];
  /** Sections that threw, with the error text. */
  failures: { section: SectionName; error: string }[];
}

export type Print = (text: string) => void;

function tableText(table: Table): string {
  const lines = [`### ${table.title}`, '', renderTable(table.header, table.rows)];
  if (table.notes?.length) lines.push('', ...table.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

export function headerText(config: BenchConfig, machine: MachineInfo, startedAt: string): string {
  const versions = Object.entries(machine.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return [
    `# Benchmarks (${config.profile} profile), ${startedAt}`,
    '',
    `- seed: 0x${config.seed.toString(16)}; sections: ${config.sections.join(', ')}`,
    `- codec: ${config.codec.runs} runs x ${config.codec.runMs} ms after ${config.codec.warmupMs} ms warm-up; payloads ${config.codec.payloadSizes.join(', ')} B`,
    config.e2e.readyOnly
      ? `- e2e: connect to ready only (--ready-only), ${config.e2e.readyRuns} ready measurements at ${config.e2e.rttMs} ms RTT`
      : `- e2e: ${config.e2e.runs} runs x ${config.e2e.runMs} ms per window (${config.e2e.windows.join(', ')} in flight), ${config.e2e.payloadBytes} B payload; ${config.e2e.readyRuns} ready measurements at ${config.e2e.rttMs} ms RTT`,
    `- xs: ${config.xs.publishes} publishes per size, ${config.xs.methodCalls} method calls, ${config.xs.sasTokens} tokens; heap after ${config.xs.heapSmall} and ${config.xs.heapLarge} messages`,
    `- machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}, load average at start ${machine.loadAverage}`,
    `- peers and tools: ${versions}`,
  ].join('\n');
}

export function summaryTable(headlines: Headline[]): Table {
  return {
    title: 'Summary: headline figures against their goals (goals, not assertions)',
    header: ['section', 'figure', 'ours', 'peer', 'comparison', 'goal', 'verdict'],
    rows: headlines.map((h) => [
      h.section,
      h.metric,
      h.ours,
      h.peer,
      h.comparison,
      h.goal,
      h.verdict === 'short' && h.shortfall ? `SHORT: ${h.shortfall}` : h.verdict === 'skipped' && h.shortfall ? `skipped: ${h.shortfall}` : h.verdict,
    ]),
  };
}

export async function runBenchmarks(config: BenchConfig, print: Print): Promise<BenchReport> {
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const started = Date.now();
  print(headerText(config, machine, startedAt));
  const report: BenchReport = { config, machine, startedAt, seconds: 0, sections: [], failures: [] };
  for (const name of config.sections) {
    const section = SECTIONS[name];
    print(`\n## ${section.title}\n`);
    const sectionStart = Date.now();
    try {
      const result = await section.run(config);
      report.sections.push(result);
      for (const table of result.tables) print(`${tableText(table)}\n`);
      for (const reason of result.skipped) print(`(skipped) ${reason}`);
    } catch (error) {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      report.failures.push({ section: name, error: text });
      print(`(failed) ${name}: ${text}`);
    }
    print(`(${name}: ${((Date.now() - sectionStart) / 1000).toFixed(1)} s)`);
  }
  report.seconds = (Date.now() - started) / 1000;
  print(`\n## Summary\n`);
  print(tableText(summaryTable(report.sections.flatMap((s) => s.headlines))));
  for (const failure of report.failures) print(`\nFAILED: ${failure.section} (see above)`);
  print(`\nTotal: ${report.seconds.toFixed(0)} s`);
  return report;
}

/** The whole report as Markdown (the same text as the console), for BENCHMARKS.md. */
export function reportMarkdown(report: BenchReport): string {
  const parts = [headerText(report.config, report.machine, report.startedAt)];
  for (const section of report.sections) {
    const name = section.name as SectionName;
    parts.push(`## ${SECTIONS[name]?.title ?? name}`);
    for (const table of section.tables) parts.push(tableText(table));
    for (const reason of section.skipped) parts.push(`(skipped) ${reason}`);
  }
  parts.push('## Summary', tableText(summaryTable(report.sections.flatMap((s) => s.headlines))), `Total: ${report.seconds.toFixed(0)} s`);
  return `${parts.join('\n\n')}\n`;
}
