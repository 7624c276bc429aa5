// MQTT 3.1.1 topic syntax (section 4.7), shared by the encoder and the decoder so both refuse the same things.
// Each check returns what is wrong, or undefined when the topic is fine.

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;

/** A topic name, as in PUBLISH and the will: at least one character, no wildcards. */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'is empty';
  if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) return 'holds a wildcard (+ or #)';
  return undefined;
}

/** A topic filter, as in SUBSCRIBE and UNSUBSCRIBE: `+` fills a whole level, `#` only the whole last level. */
export function topicFilterProblem(filter: string): string | undefined {
  const n = filter.length;
  if (n === 0) return 'is empty';
  for (let i = 0; i < n; i++) {
    const unit = filter.charCodeAt(i);
    if (unit !== PLUS && unit !== HASH) continue;
    const startsLevel = i === 0 || filter.charCodeAt(i - 1) === SLASH;
    const endsLevel = i + 1 === n || filter.charCodeAt(i + 1) === SLASH;
    if (!startsLevel || !endsLevel) return 'has a wildcard that is not a whole level';
    if (unit === HASH && i + 1 !== n) return 'has # before its last level';
  }
  return undefined;
}
