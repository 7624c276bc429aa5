// The packets the codec benchmark moves: an Azure telemetry PUBLISH as a device sends it (QoS 1, device topic
// with four properties in its bag) at several payload sizes, and the acknowledgements a device decodes most.

import { telemetryTopic } from '../../src/azure/telemetry-topic';
import { randomBytes, seededRandom } from '../lib/rng';

export const BENCH_DEVICE_ID = 'bench-device-01';

/** `devices/bench-device-01/messages/events/$.mid=...&$.ct=application%2Fjson&$.ce=utf-8&temperatureAlert=true` */
export function benchTelemetryTopic(deviceId = BENCH_DEVICE_ID, messageId = 'a1b2c3d4-0001'): string {
  const topic = telemetryTopic({
    deviceId,
    messageId,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    properties: { temperatureAlert: 'true' },
  });
  if (!topic.ok) throw new Error(`benchmark topic: ${topic.error.message}`);
  return topic.value;
}

export interface PayloadCase {
  label: string;
  size: number;
  payload: Uint8Array;
}

export function payloadCases(seed: number, sizes: readonly number[]): PayloadCase[] {
  const random = seededRandom(seed);
  return sizes.map((size) => ({ label: sizeLabel(size), size, payload: randomBytes(random, size) }));
}

export function sizeLabel(size: number): string {
  return size >= 1024 ? `${size / 1024} KB` : `${size} B`;
}

/** One SUBACK for the four subscriptions a hub client makes at once (C2D, methods, twin responses, desired). */
export const SUBACK_GRANTED = [1, 0, 0, 0] as const;
export const ACK_PACKET_ID = 0x1234;
