// What the figures were measured on, printed at the top of every run: benchmark numbers mean little without it.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  memoryGb: number;
  loadAverage: string;
  versions: Record<string, string>;
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(`${REPO_ROOT}/node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

export function machineInfo(): MachineInfo {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    versions: Object.fromEntries(
      ['mqtt-packet', 'azure-iot-device', 'azure-iot-device-mqtt', 'mqtt', 'aedes', '@agoric/xsnap', 'esbuild'].map((n) => [n, packageVersion(n)]),
    ),
  };
}
