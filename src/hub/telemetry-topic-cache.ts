// Remembers the last telemetry topic built. A device usually sends the same system and application properties
// with every message, only the message id changes, and building the topic (checks plus percent-encoding of the
// whole property bag) was about half of the XS compute of a publish (BENCHMARKS.md). A signature of the inputs
// other than the message id is much cheaper than building: on a match the last topic is reused and only the
// message id is encoded and put in front of the bag, where telemetryTopic's fixed order puts `$.mid`. Anything
// that fails is built by telemetryTopic itself, so errors are exactly the builder's.

import { isWellFormedUtf16 } from '../encoding/utf8';
import { percentEncode } from '../encoding/percent';
import type { Property } from '../azure/property-bag';
import type { AzureError } from '../azure/azure-error';
import type { Result } from '../result';
import { telemetryTopic, telemetryTopicPrefix, type TelemetryTopicOptions } from '../azure/telemetry-topic';

const MESSAGE_ID = `${percentEncode('$.mid')}=`;

// Length-prefixed, so no choice of values (control characters included) can make two inputs look alike.
function part(value: string | null | undefined): string {
  return value === undefined ? 'u;' : value === null ? 'n;' : `${value.length}:${value}`;
}

function signature(options: TelemetryTopicOptions): string {
  const time = options.creationTime;
  let text =
    part(options.deviceId) + part(options.moduleId) + part(options.correlationId) +
    part(options.contentType) + part(options.contentEncoding) + part(options.component) +
    (time === undefined ? 'u;' : typeof time === 'number' ? `t${time};` : part(time));
  const properties = options.properties;
  if (properties === undefined) return text;
  if (Array.isArray(properties)) {
    text += 'a';
    for (const p of properties as readonly Property[]) text += part(p.name) + part(p.value);
    return text;
  }
  text += 'r';
  const record = properties as Readonly<Record<string, string | null>>;
  for (const name of Object.keys(record)) text += part(name) + part(record[name]);
  return text;
}

export class TelemetryTopicCache {
  private lastSignature: string | undefined;
  /** The topic without a message id, and where its property bag starts. */
  private lastTopic = '';
  private bagStart = 0;

  topic(options: TelemetryTopicOptions): Result<string, AzureError> {
    const key = signature(options);
    if (key !== this.lastSignature) {
      const { messageId: _messageId, ...withoutId } = options;
      const built = telemetryTopic(withoutId);
      const prefix = telemetryTopicPrefix(options.deviceId, options.moduleId);
      if (!built.ok || !prefix.ok) return telemetryTopic(options);
      this.lastSignature = key;
      this.lastTopic = built.value;
      this.bagStart = prefix.value.length;
    }
    const id = options.messageId;
    if (id === undefined) return { ok: true, value: this.lastTopic };
    if (id.length === 0 || !isWellFormedUtf16(id)) return telemetryTopic(options);
    const bag = this.lastTopic.slice(this.bagStart);
    const head = this.lastTopic.slice(0, this.bagStart) + MESSAGE_ID + percentEncode(id);
    return { ok: true, value: bag.length === 0 ? head : `${head}&${bag}` };
  }
}
