// Device-to-cloud messages as the hub records them: the property bag split into system (`$.mid`, `$.ct`...) and
// application properties, kept per identity (last N) for tests and people to inspect.
import type { PropertyBag } from './topics';

export interface TelemetryMessage {
  deviceId: string;
  moduleId?: string;
  body: Uint8Array;
  /** Application properties, URL-decoded; a name without `=` has the value null. */
  properties: Record<string, string | null>;
  /** System properties by their wire names (`$.mid`, `$.cid`, `$.ct`, `$.ce`, `$.ctime`, `$.sub`...). */
  systemProperties: Record<string, string | null>;
  /** ISO 8601 time the hub accepted the message. */
  receivedAt: string;
  qos: 0 | 1;
  topic: string;
}

/** Splits a parsed property bag into system and application properties (the last of a repeated name wins). */
export function splitProperties(bag: PropertyBag): Pick<TelemetryMessage, 'properties' | 'systemProperties'> {
  const properties: Record<string, string | null> = {};
  const systemProperties: Record<string, string | null> = {};
  for (const [name, value] of bag) {
    if (name.startsWith('$.')) systemProperties[name] = value;
    else properties[name] = value;
  }
  return { properties, systemProperties };
}

export class TelemetryLog {
  private readonly byIdentity = new Map<string, TelemetryMessage[]>();

  constructor(private readonly perIdentity: number) {}

  add(key: string, message: TelemetryMessage): void {
    const list = this.byIdentity.get(key) ?? [];
    list.push(message);
    if (list.length > this.perIdentity) list.splice(0, list.length - this.perIdentity);
    this.byIdentity.set(key, list);
  }

  /** Messages of one device (including its modules) oldest first, or of everyone ordered by arrival. */
  list(deviceId?: string): TelemetryMessage[] {
    const all: TelemetryMessage[] = [];
    for (const messages of this.byIdentity.values()) {
      for (const m of messages) if (deviceId === undefined || m.deviceId === deviceId) all.push(m);
    }
    return all.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }

  clear(): void {
    this.byIdentity.clear();
  }
}
