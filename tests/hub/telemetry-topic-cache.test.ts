import { describe, expect, test } from '@jest/globals';
import { telemetryTopic, type TelemetryTopicOptions } from '../../src/azure/telemetry-topic';
import { TelemetryTopicCache } from '../../src/hub/telemetry-topic-cache';

const base: TelemetryTopicOptions = { deviceId: 'dev-1', contentType: 'application/json', contentEncoding: 'utf-8', properties: { alert: 'high temp' } };

describe('the telemetry topic cache', () => {
  test('gives exactly what telemetryTopic builds, for repeated and changing inputs', () => {
    const cache = new TelemetryTopicCache();
    const inputs: TelemetryTopicOptions[] = [
      base,
      { ...base },
      { ...base, properties: { alert: 'low temp' } },
      { ...base, properties: [{ name: 'alert', value: 'high temp' }] },
      { ...base, properties: { alert: null } },
      { ...base, messageId: 'm-1' },
      { ...base, messageId: 'm-2' },
      { ...base, creationTime: 0 },
      { ...base, creationTime: '1970-01-01T00:00:00.000Z' },
      { deviceId: 'dev-1', moduleId: 'm', component: 'thermostat1' },
      base,
    ];
    for (const input of inputs) expect(cache.topic(input)).toEqual(telemetryTopic(input));
    expect(cache.topic(base)).toEqual({ ok: true, value: 'devices/dev-1/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8&alert=high%20temp' });
  });

  test('values that only differ in how they split across properties do not collide', () => {
    const cache = new TelemetryTopicCache();
    const one: TelemetryTopicOptions = { deviceId: 'd', properties: [{ name: 'a', value: 'x\u0000b\u0000y' }] };
    const two: TelemetryTopicOptions = { deviceId: 'd', properties: [{ name: 'a', value: 'x' }, { name: 'b', value: 'y' }] };
    expect(cache.topic(one)).toEqual(telemetryTopic(one));
    expect(cache.topic(two)).toEqual(telemetryTopic(two));
  });

  test('a refused input is refused every time and never remembered', () => {
    const cache = new TelemetryTopicCache();
    const bad: TelemetryTopicOptions = { deviceId: 'd', properties: { 'bad name': 'v' } };
    expect(cache.topic(bad).ok).toBe(false);
    expect(cache.topic(bad).ok).toBe(false);
    expect(cache.topic({ deviceId: 'd' })).toEqual({ ok: true, value: 'devices/d/messages/events/' });
  });
});

describe('the telemetry topic cache with a message id per message', () => {
  test('matches telemetryTopic on 2,000 seeded inputs, ids and properties varying', () => {
    let seed = 20261122;
    const next = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const texts = ['', 'a', 'high temp', 'x/y?z=1&w', '°C', 'a\u0000b', '\ud800', 'm-' + 'q'.repeat(20)];
    const cache = new TelemetryTopicCache();
    for (let i = 0; i < 2000; i++) {
      const input: TelemetryTopicOptions = { deviceId: pick(['dev-1', 'dev-1', 'dev 2']) };
      if (next() < 0.8) input.messageId = pick([...texts, `id-${i}`, `id-${i}`]);
      if (next() < 0.5) input.contentType = pick(['application/json', 'text/plain']);
      if (next() < 0.3) input.component = pick(['thermostat1', '']);
      if (next() < 0.2) input.moduleId = 'mod';
      if (next() < 0.6) input.properties = next() < 0.5 ? { alert: pick(texts) } : [{ name: pick(['alert', 'bad name', '$.x']), value: pick([...texts, null]) }];
      expect(cache.topic(input)).toEqual(telemetryTopic(input));
    }
  });

  test('the message id goes first in the bag, the rest is reused', () => {
    const cache = new TelemetryTopicCache();
    expect(cache.topic({ ...base, messageId: 'm-1' })).toEqual({ ok: true, value: 'devices/dev-1/messages/events/%24.mid=m-1&%24.ct=application%2Fjson&%24.ce=utf-8&alert=high%20temp' });
    expect(cache.topic({ ...base, messageId: 'm/2' })).toEqual({ ok: true, value: 'devices/dev-1/messages/events/%24.mid=m%2F2&%24.ct=application%2Fjson&%24.ce=utf-8&alert=high%20temp' });
    expect(cache.topic({ deviceId: 'dev-1', messageId: 'only' })).toEqual({ ok: true, value: 'devices/dev-1/messages/events/%24.mid=only' });
  });
});
