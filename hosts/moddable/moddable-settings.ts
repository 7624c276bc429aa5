// What the Moddable entry needs from the manifest's `config` object, read once at boot. Pure, so it is tested on
// Node. Two things only a Moddable build has to deal with:
// - `mcconfig ... name=value` puts every override in `config` as TEXT, so the firmware's whole-number settings
//   arrive as "2000"; those (and only those) become numbers here, and src/app/config.ts checks the rest.
// - extra trusted CAs (a local emulator's, a private CA) come in the `extraCAs` setting: base64 DER, several
//   separated by commas or white space, or PEM text. A value that is not a certificate is a named problem,
//   because a device silently missing its CA would only fail later with a less helpful TLS error.
// The memory budgets are the host kind's device profile (src/device-profile.ts; esp32 for "moddable-esp32"), or
// the one `deviceProfile` names, with any `maxIncomingPacketBytes`, `maxPendingTelemetryBytes`,
// `maxC2dPayloadBytes`, `maxMethodPayloadBytes` from `config` laid over it (whole-number text is fine).
import type { LogLevel } from '../../src/ports';
import { defaultProfileFor, profileHubSettings, resolveDeviceProfile, type DeviceProfile } from '../../src/device-profile';
import { base64Decode } from '../../src/encoding/base64';
import { err, ok, type Result } from '../../src/result';
import { parsePem } from '../../src/trust/pem';
import { readCertificateInfo } from '../../src/trust/x509-validity';

/** The firmware settings (src/app/config.ts) that are whole numbers. */
export const WHOLE_NUMBER_FIELDS = ['telemetryIntervalMs', 'securityTag', 'sensorSeed', 'wsFallbackAfter'] as const;

export const DEFAULT_SNTP_HOSTS = ['pool.ntp.org'];
export const DEFAULT_HOST_KIND = 'moddable';

export interface ModdableSettings {
  /** `config` with whole-number text turned into numbers; handed to src/main.ts as is. */
  firmwareConfig: Record<string, unknown>;
  extraCAs: Uint8Array[];
  /** From `sntp` (manifest_net.json's setting; commas separate several). */
  sntpHosts: string[];
  /** From `hostKind`, set per platform by the manifest ("moddable-lin", "moddable-esp32"). */
  hostKind: string;
  /** The host logger's threshold: the firmware's own `logLevel` when valid, else info. */
  logLevel: LogLevel;
  /** The memory budgets in force (carried to the hub client by `hubClient`). */
  profile: DeviceProfile;
  /** Hub client tuning from the manifest: the profile's budgets, `sasTtlSeconds` (the SAS token's life; renewal comes at 80 % of it). */
  hubClient: ReturnType<typeof profileHubSettings> & { sasTtlSeconds?: number };
  /** Settings this host cannot use, each naming the field; the entry does not start the firmware with any. */
  problems: string[];
}

const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'];

function wholeNumber(value: unknown): unknown {
  return typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value.trim()) ? Number(value.trim()) : value;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Every certificate in an `extraCAs` value, or what is wrong with it (never the value itself). */
export function readExtraCAs(value: unknown, field = 'extraCAs'): Result<Uint8Array[], string> {
  if (value === undefined || value === null || value === '') return ok([]);
  if (typeof value !== 'string') return err(`${field} must be text: base64 DER certificates or PEM`);
  let ders: Uint8Array[];
  if (value.includes('-----BEGIN')) {
    const pem = parsePem(value);
    if (!pem.ok) return err(`${field}: ${pem.error}`);
    ders = pem.value.filter((block) => block.label === 'CERTIFICATE').map((block) => block.der);
    if (ders.length === 0) return err(`${field} holds PEM but no CERTIFICATE block`);
  } else {
    ders = [];
    const parts = value.split(/[\s,]+/).filter((part) => part !== '');
    for (let i = 0; i < parts.length; i++) {
      const decoded = base64Decode(parts[i]!);
      if (!decoded.ok) return err(`${field}: certificate ${i + 1} is not base64 (${decoded.error.message})`);
      ders.push(decoded.value);
    }
  }
  for (let i = 0; i < ders.length; i++) {
    const read = readCertificateInfo(ders[i]!);
    if (!read.ok) return err(`${field}: certificate ${i + 1} is not an X.509 certificate (${read.error.message})`);
  }
  return ok(ders);
}

export function readModdableSettings(config: Readonly<Record<string, unknown>>): ModdableSettings {
  const firmwareConfig: Record<string, unknown> = { ...config };
  for (const field of WHOLE_NUMBER_FIELDS) {
    if (field in firmwareConfig) firmwareConfig[field] = wholeNumber(firmwareConfig[field]);
  }
  const problems: string[] = [];
  const extra = readExtraCAs(config['extraCAs']);
  if (!extra.ok) problems.push(extra.error);

  const sntp = text(config['sntp']);
  const sntpHosts = sntp === undefined ? DEFAULT_SNTP_HOSTS.slice() : sntp.split(/[\s,]+/).filter((host) => host !== '');
  const level = text(config['logLevel']);
  const hostKind = text(config['hostKind']) ?? DEFAULT_HOST_KIND;
  const resolved = resolveDeviceProfile(hostKind, config);
  if (!resolved.ok) problems.push(resolved.error);
  const profile = resolved.ok ? resolved.value : defaultProfileFor(hostKind);
  const hubClient: ModdableSettings['hubClient'] = profileHubSettings(profile);
  const ttl = wholeNumber(config['sasTtlSeconds']);
  if (typeof ttl === 'number') hubClient.sasTtlSeconds = ttl;
  else if (text(config['sasTtlSeconds']) !== undefined) problems.push('sasTtlSeconds must be a whole number of seconds');
  return {
    firmwareConfig,
    extraCAs: extra.ok ? extra.value : [],
    sntpHosts,
    hostKind,
    logLevel: level !== undefined && LEVELS.includes(level) ? (level as LogLevel) : 'info',
    profile,
    hubClient,
    problems,
  };
}
