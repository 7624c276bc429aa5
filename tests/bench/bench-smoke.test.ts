// The benchmark entry points still run: every section, a few iterations each (the smoke profile). Nothing here
// is timed or compared against a goal; `npm run bench` does that.
import { configFromArgs, smokeConfig } from '../../bench/lib/config';
import { renderTable } from '../../bench/lib/format';
import { reportMarkdown, runBenchmarks, type BenchReport } from '../../bench/run';
import { summarize } from '../../bench/lib/stats';

describe('the benchmark helpers', () => {
  test('summaries give median, min and max', () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: 3 });
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, runs: 4 });
  });

  test('tables render as Markdown with figures right-aligned', () => {
    expect(renderTable(['name', 'ops/s'], [['ours', '1.2k'], ['peer', '300']])).toBe(
      ['| name | ops/s |', '| ---- | ----: |', '| ours |  1.2k |', '| peer |   300 |'].join('\n'),
    );
  });

  test('command-line options pick the profile and sections', () => {
    const config = configFromArgs(['--smoke', '--only', 'codec,xs', '--seed', '7']);
    expect(config.profile).toBe('smoke');
    expect(config.sections).toEqual(['codec', 'xs']);
    expect(config.seed).toBe(7);
    expect(() => configFromArgs(['--only', 'nonsense'])).toThrow(/--only/);
    expect(config.e2e.readyOnly).toBe(false);
    expect(configFromArgs(['--only', 'e2e', '--ready-only']).e2e.readyOnly).toBe(true);
  });
});

describe('every benchmark section runs end to end in the smoke profile', () => {
  let report: BenchReport;
  let output = '';

  beforeAll(async () => {
    report = await runBenchmarks(smokeConfig(), (text) => {
      output += `${text}\n`;
    });
  }, 180_000);

  test('no section failed', () => {
    expect(report.failures).toEqual([]);
    expect(report.sections.map((s) => s.name)).toEqual(['codec', 'e2e', 'xs', 'footprint']);
  });

  test('each section produced tables with rows and headline figures', () => {
    for (const section of report.sections) {
      expect(section.tables.length).toBeGreaterThan(0);
      for (const table of section.tables) expect(table.rows.length).toBeGreaterThan(0);
      expect(section.headlines.length).toBeGreaterThan(0);
    }
  });

  test('the output starts with the seed and machine and ends with the summary', () => {
    expect(output).toMatch(/seed: 0x[0-9a-f]+/);
    expect(output).toMatch(/machine: \d+ cores/);
    expect(output).toContain('## Summary');
    expect(reportMarkdown(report)).toContain('| section');
  });

  test('both clients reached readiness and sent telemetry', () => {
    const e2e = report.sections.find((s) => s.name === 'e2e')!;
    const ready = e2e.tables.find((t) => t.title.startsWith('Connect to ready'))!;
    expect(ready.rows.map((r) => r[0])).toEqual(['ours (hub client)', 'azure-iot-device 1.18']);
    expect(ready.rows[0][5]).toBe('CONNECT > SUBSCRIBE > PUBLISH'); // the twin GET waits for the SUBACK
    const throughput = e2e.tables.find((t) => t.title.startsWith('QoS 1 telemetry'))!;
    expect(throughput.rows.map((r) => r[0])).toEqual(['1 in flight', '16 in flight']);
  });

  test('the XS heap was measured after a full GC', () => {
    const xs = report.sections.find((s) => s.name === 'xs')!;
    expect(xs.headlines[0].verdict).not.toBe('skipped');
  });
});
