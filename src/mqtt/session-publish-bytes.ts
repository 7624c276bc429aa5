// In-place edits of an encoded PUBLISH, so a QoS 1 message is encoded (and validated) once when publish() is
// called and only its packet id and DUP flag change later. Avoids holding two copies of a large payload.
// Layout (MQTT 3.1.1 section 3.3): fixed header byte, remaining length (1-4 bytes), topic (2-byte length +
// UTF-8), then, for QoS > 0, the 2-byte packet id.

const DUP_FLAG = 0x08;

function packetIdOffset(bytes: Uint8Array): number {
  let offset = 1;
  while (offset < 5 && (bytes[offset] & 0x80) !== 0) offset++;
  offset++; // the last remaining-length byte
  const topicLength = (bytes[offset] << 8) | bytes[offset + 1];
  return offset + 2 + topicLength;
}

/** Writes `packetId` into an encoded QoS 1 PUBLISH. */
export function setPublishPacketId(bytes: Uint8Array, packetId: number): void {
  const at = packetIdOffset(bytes);
  bytes[at] = packetId >> 8;
  bytes[at + 1] = packetId & 0xff;
}

/** Sets the DUP flag of an encoded PUBLISH (a resend of a QoS 1 message). */
export function setPublishDup(bytes: Uint8Array): void {
  bytes[0] |= DUP_FLAG;
}

/** Clears the DUP flag: the message is handed to the session as a new one. */
export function clearPublishDup(bytes: Uint8Array): void {
  bytes[0] &= ~DUP_FLAG;
}
