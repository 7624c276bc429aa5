// What the device tells the twin about itself once per boot: who made it, what it runs and since when. Read-only
// reported properties, so back ends (and people looking at the twin) can tell firmware versions and reboots apart.

export const FIRMWARE_VERSION = '0.1.0';

export interface DeviceInfoInput {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  /** Which host runs the core: "moddable-esp32", "moddable-lin", "node"... */
  hostKind: string;
  /** Unix ms of this boot, when the clock was set. */
  bootTimeUnixMs: number | undefined;
  /** The sensor in use, e.g. "simulated (seed 1)". */
  sensor: string;
}

export interface DeviceInfoPatch {
  [key: string]: string | null;
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  hostKind: string;
  /** ISO 8601 UTC; null when the clock was not set at boot (so an older boot time is cleared, not kept). */
  bootTime: string | null;
  sensor: string;
}

export function buildDeviceInfo(input: DeviceInfoInput): DeviceInfoPatch {
  const boot = input.bootTimeUnixMs;
  return {
    manufacturer: input.manufacturer,
    model: input.model,
    firmwareVersion: input.firmwareVersion,
    hostKind: input.hostKind,
    bootTime: boot !== undefined && Number.isFinite(boot) ? new Date(boot).toISOString() : null,
    sensor: input.sensor,
  };
}
