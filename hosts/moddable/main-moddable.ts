// The firmware on the Moddable SDK runtime (ESP32 boards, the Linux simulator mcsim): the manifest's `config` is
// the configuration, the Moddable host gives the ports, the Azure roots built in as resources are the trust
// anchors (plus `extraCAs` from the config), SNTP keeps the wall clock set, and src/main.ts does the rest.
// The runtime calls the default export once its setup modules are done (on ESP32: Wi-Fi joined, SNTP asked once).
// Reboots (the `reboot` method, the slow retry from `failed`, the stuck-boot watchdog) restart the board through
// System.restart() when the build has it (restart.ts).
import config from 'mc/config';
import type { HostPorts } from '../../src/ports';
import { Firmware, type PlatformHooks } from '../../src/main';
import { createModdableHost } from './host';
import { readModdableSettings } from './moddable-settings';
import { findBoardRestart } from './restart';
import { loadCertificateResources } from './root-certificates';
import { syncClockWithSntp } from './sntp-sync';

/** How long to wait before asking SNTP again after every server failed. */
const SNTP_RETRY_MS = 30_000;

function say(host: HostPorts, level: 'info' | 'warn' | 'error', message: string): void {
  host.logger.log(level, `main: ${message}`);
}

/**
 * Sets the wall clock from SNTP when it is not set yet, retrying until it is. The firmware waits for the clock by
 * itself (src/app/clock-gate.ts), so this runs beside it. On the simulator Date.now() is the host's clock, already
 * set, and Time.set would do nothing anyway.
 */
function keepClockSet(host: HostPorts, sntpHosts: string[]): void {
  const now = host.clock.unixMs();
  if (now !== undefined) {
    say(host, 'info', `wall clock already set (${new Date(now).toISOString()}), no SNTP needed`);
    return;
  }
  const attempt = (): void => {
    say(host, 'info', `asking SNTP for the time (${sntpHosts.join(', ')})`);
    syncClockWithSntp({ hosts: sntpHosts }, (result) => {
      if (result.ok) {
        say(host, 'info', `wall clock set from ${result.value.host}: ${new Date(result.value.unixSeconds * 1000).toISOString()}`);
        return;
      }
      say(host, 'warn', `${result.error}; trying again in ${SNTP_RETRY_MS / 1000} s`);
      host.timers.setTimeout(attempt, SNTP_RETRY_MS);
    });
  };
  attempt();
}

/**
 * What an entry may change before the firmware starts: main-modem.ts puts the cellular modem's transport in
 * place of SecureSocket and keeps the clock from the modem instead of SNTP; main-ws.ts adds MQTT over WebSockets;
 * main-moddable-fota.ts adds the FOTA module and watches each start (`watch` sees the firmware before it starts). Returns the platform additions, or
 * a problem that stops the start.
 */
export type HostWiring = (
  host: HostPorts,
  config: Readonly<Record<string, unknown>>,
) => { platform: Partial<PlatformHooks>; ownClock: boolean; watch?: (firmware: Firmware) => void } | string;

export function startOnModdable(wire?: HostWiring): Firmware | undefined {
  const settings = readModdableSettings(config as Readonly<Record<string, unknown>>);
  const host = createModdableHost({ logLevel: settings.logLevel });
  say(host, 'info', `starting on ${settings.hostKind}`);
  if (settings.problems.length > 0) {
    for (const problem of settings.problems) say(host, 'error', `configuration error: ${problem}`);
    say(host, 'error', 'not starting the firmware: fix the configuration and rebuild');
    return undefined;
  }
  const roots = loadCertificateResources();
  say(host, 'info', `${roots.length} built-in root certificate(s) (${roots.map((root) => root.name).join(', ')}), ${settings.extraCAs.length} extra CA(s) from the configuration`);
  const wired = wire?.(host, config as Readonly<Record<string, unknown>>);
  if (typeof wired === 'string') {
    say(host, 'error', `configuration error: ${wired}`);
    return undefined;
  }
  if (!wired?.ownClock) keepClockSet(host, settings.sntpHosts);
  // The `reboot` method, the slow retry from `failed` and the stuck-boot watchdog all restart the board when the
  // build can; otherwise the firmware restarts in place (src/main.ts).
  const restart = findBoardRestart();
  say(host, 'info', restart === undefined ? 'no board restart in this build (no System.restart): reboots restart the firmware in place' : 'reboots restart the board (System.restart)');
  // MQTT over WebSockets (src/ws, over the same SecureSocket transport) comes only from an entry that wires it in
  // (main-ws.ts); without it `transport: "mqtt-ws"` is a configuration error.
  const platform: PlatformHooks = { hostKind: settings.hostKind, defaultRoots: roots, extraCAs: settings.extraCAs, hubClient: settings.hubClient, ...wired?.platform };
  if (restart !== undefined) {
    platform.reboot = () => {
      say(host, 'warn', 'restarting the board');
      restart();
    };
  }
  const firmware = new Firmware(host, settings.firmwareConfig, platform);
  wired?.watch?.(firmware);
  void firmware.start();
  return firmware;
}

export default function main(): Firmware | undefined {
  return startOnModdable();
}
