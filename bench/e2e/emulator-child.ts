// Starts bench/e2e/emulator-process.ts in its own Node process and hands back what it printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorHandshake } from './emulator-process';

export interface EmulatorChild {
  info: EmulatorHandshake;
  /** Closes its stdin (it stops the hub and exits) and waits for the exit; kills it after 5 s. */
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./emulator-process.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function startEmulatorChild(oneWayMs: number, deviceIds: string[], timeoutMs = 60_000): Promise<EmulatorChild> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENTRY, String(oneWayMs), ...deviceIds], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin!.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  return new Promise<EmulatorChild>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the emulator process did not start within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      try {
        resolve({ info: JSON.parse(out.slice(0, newline)) as EmulatorHandshake, stop });
      } catch (error) {
        void stop();
        reject(new Error(`the emulator process printed something else than its handshake: ${String(error)}`));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator process exited (code ${code}) before its handshake; stderr: ${stderr}`));
    });
  });
}
