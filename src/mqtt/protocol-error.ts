// The one error type the MQTT codec produces, for bad packets we were asked to send and for bad bytes we received.
// Messages name the field and never quote its value: a password or token must not reach a log through an error.

export type MqttProtocolErrorCode =
  /** Remaining-length field longer than 4 bytes. */
  | 'malformed-length'
  /** Fixed-header flag bits, or other reserved bits, not what MQTT 3.1.1 requires. */
  | 'reserved-flags'
  /** A field runs past the end of the packet, or the bytes end before the packet does. */
  | 'truncated'
  /** The remaining length disagrees with the packet's content (bytes left over, wrong fixed size). */
  | 'length-mismatch'
  /** A string is not strict UTF-8 (or, when encoding, not well-formed UTF-16), or holds U+0000. */
  | 'invalid-utf8'
  /** A string or binary field longer than its 16-bit length prefix allows. */
  | 'string-too-long'
  /** QoS 3, or a value that is no QoS at all. */
  | 'invalid-qos'
  /** QoS 2 flows (PUBLISH QoS 2, PUBREC, PUBREL, PUBCOMP, QoS 2 will or subscription): recognised, refused. */
  | 'qos2-unsupported'
  /** Larger than the configured maximum, or than MQTT's 268,435,455-byte remaining length. */
  | 'packet-too-large'
  /** Packet type 0 or 15, or an unknown `type` handed to the encoder. */
  | 'unknown-type'
  /** A packet only the other side sends: a CONNECT or SUBSCRIBE reaching a client, a CONNACK reaching a broker. */
  | 'unexpected-type'
  /** CONNECT with a protocol name other than "MQTT" or a level other than 4. */
  | 'invalid-protocol'
  /** Empty topic, wildcard in a topic name, or a misplaced wildcard in a topic filter. */
  | 'invalid-topic'
  /** Packet identifier missing, 0, above 65535, or present where MQTT forbids it. */
  | 'invalid-packet-id'
  /** Any other field out of range or inconsistent with another. */
  | 'invalid-field';

export class MqttProtocolError extends Error {
  // A field, not an assignment in the constructor: once Moddable preloads the module, Error.prototype is frozen
  // and assigning `name` throws; defining it on the instance does not. Logs rely on the name.
  override readonly name: string = 'MqttProtocolError';
  readonly code: MqttProtocolErrorCode;

  constructor(code: MqttProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
