// Memory budgets in bytes, per kind of host. A desktop (Node, the simulator) keeps the hub-sized limits; a plain
// ESP32 (about 200 KB of heap after Wi-Fi, a ~100 KB XS arena) cannot hold a 256 KB message at all, so its
// profile bounds what one incoming packet and the telemetry backlog may take. The host picks the profile from its
// kind and lets the configuration name another one or override single limits (manifest `config` on Moddable,
// flags or the config file on Node); the result is handed to the hub client as settings.
//
// What each limit does:
// - maxIncomingPacketBytes: the MQTT receive limit. A PUBLISH over it is skipped while it streams, never buffered,
//   and reported ('message-refused'); any other packet over it is a protocol error. It bounds twin answers too:
//   a twin document must be read whole to be reconciled, so it has no smaller limit of its own.
// - maxPendingTelemetryBytes: encoded telemetry waiting or in flight, together. A send that would go over it is
//   refused with 'queue-full' (or 'too-large' when the one message is bigger than the whole budget), checked
//   before the message is encoded, and nothing already queued is dropped.
// - maxC2dPayloadBytes, maxMethodPayloadBytes: the largest C2D body and direct-method request body accepted.
//   Larger ones that still fit in the packet limit are refused the same way (C2D completed unread, method answered
//   413), so the application never sees a body its budget did not plan for.
// - telemetryJournalBytes: flash the telemetry journal may take (src/storage/telemetry-journal.ts), on hosts that
//   give it a store with that much room; 0 keeps telemetry in RAM only.

import { MAX_TELEMETRY_BYTES } from './azure/limits';
import { DEFAULT_MAX_PACKET_SIZE } from './mqtt/stream-parser';
import { err, ok, type Result } from './result';
import type { HubClientConfig } from './hub/hub-settings';

export interface DeviceProfile {
  readonly name: string;
  readonly maxIncomingPacketBytes: number;
  readonly maxPendingTelemetryBytes: number;
  readonly maxC2dPayloadBytes: number;
  readonly maxMethodPayloadBytes: number;
  readonly telemetryJournalBytes: number;
}

/** Room for the 64 pending messages of the hub's largest size, so on a desktop the count binds first, as before. */
const DESKTOP_TELEMETRY_BYTES = 64 * (MAX_TELEMETRY_BYTES + 16);

export const DESKTOP_PROFILE: DeviceProfile = {
  name: 'desktop',
  maxIncomingPacketBytes: DEFAULT_MAX_PACKET_SIZE,
  maxPendingTelemetryBytes: DESKTOP_TELEMETRY_BYTES,
  maxC2dPayloadBytes: DEFAULT_MAX_PACKET_SIZE,
  maxMethodPayloadBytes: DEFAULT_MAX_PACKET_SIZE,
  telemetryJournalBytes: 256 * 1024,
};

export const ESP32_PROFILE: DeviceProfile = {
  name: 'esp32',
  maxIncomingPacketBytes: 16 * 1024,
  maxPendingTelemetryBytes: 32 * 1024,
  maxC2dPayloadBytes: 8 * 1024,
  maxMethodPayloadBytes: 8 * 1024,
  telemetryJournalBytes: 64 * 1024,
};

export const DEVICE_PROFILES: readonly DeviceProfile[] = [DESKTOP_PROFILE, ESP32_PROFILE];

/** The configuration fields read here, besides `deviceProfile` (a profile name). */
export const DEVICE_PROFILE_FIELDS = ['maxIncomingPacketBytes', 'maxPendingTelemetryBytes', 'maxC2dPayloadBytes', 'maxMethodPayloadBytes', 'telemetryJournalBytes'] as const;

/** The smallest packet limit that still lets every hub answer the client relies on through (SUBACK, twin status). */
export const MIN_INCOMING_PACKET_BYTES = 1024;

/** The default profile of a host kind ("node", "moddable-esp32", "moddable-lin" ...). */
export function defaultProfileFor(hostKind: string): DeviceProfile {
  return hostKind === 'moddable-esp32' || hostKind === 'esp32' ? ESP32_PROFILE : DESKTOP_PROFILE;
}

function wholeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

/**
 * The host kind's profile, or the one `config.deviceProfile` names, with any of DEVICE_PROFILE_FIELDS from
 * `config` laid over it (numbers, or whole-number text as mcconfig passes them). Absent or empty fields keep the
 * profile's value; a bad one is a message naming the field.
 */
export function resolveDeviceProfile(hostKind: string, config: Readonly<Record<string, unknown>>): Result<DeviceProfile, string> {
  let base = defaultProfileFor(hostKind);
  const named = config['deviceProfile'];
  if (named !== undefined && named !== '') {
    const found = DEVICE_PROFILES.find((profile) => profile.name === named);
    if (found === undefined) return err(`deviceProfile must be one of ${DEVICE_PROFILES.map((p) => p.name).join(', ')}`);
    base = found;
  }
  const profile: { -readonly [K in keyof DeviceProfile]: DeviceProfile[K] } = { ...base };
  for (const field of DEVICE_PROFILE_FIELDS) {
    const raw = config[field];
    if (raw === undefined || raw === '') continue;
    const value = wholeNumber(raw);
    const min = field === 'maxIncomingPacketBytes' ? MIN_INCOMING_PACKET_BYTES : field === 'telemetryJournalBytes' ? 0 : 1;
    if (value === undefined || value < min) return err(`${field} must be a whole number of bytes, at least ${min}`);
    profile[field] = value;
  }
  return ok(profile);
}

/** The hub client settings that carry a profile. */
export function profileHubSettings(
  profile: DeviceProfile,
): Pick<HubClientConfig, 'maxIncomingPacketBytes' | 'maxPendingTelemetryBytes' | 'maxC2dPayloadBytes' | 'maxMethodPayloadBytes'> {
  return {
    maxIncomingPacketBytes: profile.maxIncomingPacketBytes,
    maxPendingTelemetryBytes: profile.maxPendingTelemetryBytes,
    maxC2dPayloadBytes: profile.maxC2dPayloadBytes,
    maxMethodPayloadBytes: profile.maxMethodPayloadBytes,
  };
}
