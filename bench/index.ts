// `npm run bench`: every benchmark, side by side with its peer, in one run (a few minutes on 2 cores).
//   --smoke            a few iterations of everything (what tests/bench runs)
//   --only a,b         sections among codec, e2e, xs, footprint
//   --runs N           counted runs for codec and e2e
//   --ready-only       e2e measures only connect-to-ready (round trips), not throughput: `--only e2e --ready-only`
//   --seed N           payload seed (printed in the header)
//   --markdown FILE    also write the report as Markdown (BENCHMARKS.md quotes it)
// XS bytecode sizes need $MODDABLE (the Moddable SDK) and the top-level manifest; they are skipped otherwise.
import { writeFileSync } from 'node:fs';
import { configFromArgs } from './lib/config';
import { reportMarkdown, runBenchmarks } from './run';

async function main(argv: string[]): Promise<void> {
  const config = configFromArgs(argv);
  const report = await runBenchmarks(config, (text) => process.stdout.write(`${text}\n`));
  const markdownAt = argv.indexOf('--markdown');
  if (markdownAt >= 0 && argv[markdownAt + 1]) writeFileSync(argv[markdownAt + 1], reportMarkdown(report));
  if (report.failures.length > 0) process.exitCode = 1;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
