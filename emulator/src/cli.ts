// Entry point: `npx tsx emulator/src/cli.ts <command>` (see `help`). All the logic is in cli/run.ts.
import { readFileSync } from 'node:fs';
import { runCli } from './cli/run';

const exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  cwd: process.cwd(),
  readTextFile: (path) => readFileSync(path, 'utf8'),
  readFile: (path) => new Uint8Array(readFileSync(path)),
  onInterrupt: (handler) => {
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  },
});
process.exitCode = exitCode;
