import { DEVICE, acceptConnection, connectFully, publishHex, pubackHex, settle, setupHub, track } from './hub-fixture';
import type { C2dMessage } from '../../src/hub/hub-types';

const methodRequest = (name: string, rid: string, body: unknown): string =>
  publishHex(`$iothub/methods/POST/${name}/?$rid=${rid}`, JSON.stringify(body));
const methodReply = (status: number, rid: string, body: string): string => publishHex(`$iothub/methods/res/${status}/?$rid=${rid}`, body);
const TELEMETRY = `devices/${DEVICE}/messages/events/`;

describe('direct method replies', () => {
  it('200: replies with the handler result on the response topic', async () => {
    const fx = setupHub();
    fx.client.onMethod('setInterval', async (call) => ({ status: 200, payload: { interval: (call.payload as { s: number }).s } }));
    await connectFully(fx);
    fx.link.push(methodRequest('setInterval', 'a1', { s: 30 }));
    await settle();
    expect(fx.link.takeHex()).toEqual([methodReply(200, 'a1', '{"interval":30}')]);
    await fx.client.close();
  });

  it('404: an unknown method gets a JSON error body', async () => {
    const fx = setupHub();
    await connectFully(fx);
    fx.link.push(methodRequest('missing', '7', null));
    await settle();
    expect(fx.link.takeHex()).toEqual([methodReply(404, '7', '{"error":"no handler for method \'missing\'"}')]);
    await fx.client.close();
  });

  it('500: a throwing handler replies with its message and raises a typed error', async () => {
    const fx = setupHub();
    fx.client.onMethod('explode', () => {
      throw new Error('boom');
    });
    await connectFully(fx);
    fx.link.push(methodRequest('explode', '8', {}));
    await settle();
    expect(fx.link.takeHex()).toEqual([methodReply(500, '8', '{"error":"boom"}')]);
    expect(fx.errors.map((e) => e.code)).toEqual(['handler-failed']);
    await fx.client.close();
  });

  it('late: 504 at the time limit and the handler’s result never sent', async () => {
    const fx = setupHub({ methodTimeoutMs: 5000 });
    let finish!: () => void;
    fx.client.onMethod('slow', () => new Promise((resolve) => (finish = () => resolve({ status: 200, payload: 'done' }))));
    await connectFully(fx);
    fx.link.push(methodRequest('slow', '9', {}));
    await fx.clock.advanceSettled(4999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.clock.advanceSettled(1);
    expect(fx.link.takeHex()).toEqual([methodReply(504, '9', '{"error":"method \'slow\' did not finish within 5000 ms"}')]);
    finish();
    await settle();
    expect(fx.link.takeHex()).toEqual([]);
    await fx.client.close();
  });

  it('routes Plug and Play commands by {component}*{command}', async () => {
    const fx = setupHub();
    const seen: string[] = [];
    fx.client.onCommand('thermostat1', 'getMaxMinReport', (call) => {
      seen.push(`${call.component}/${call.command}`);
      return { status: 200, payload: { max: 30 } };
    });
    await connectFully(fx);
    fx.link.push(methodRequest('thermostat1*getMaxMinReport', '5', '2024-01-01'));
    await settle();
    expect(seen).toEqual(['thermostat1/getMaxMinReport']);
    expect(fx.link.takeHex()).toEqual([methodReply(200, '5', '{"max":30}')]);
    await fx.client.close();
  });

  it('a handler that finishes during a reconnect replies on the next connection', async () => {
    const fx = setupHub({ methodTimeoutMs: 30_000 });
    let finish!: () => void;
    fx.client.onMethod('m', () => new Promise((resolve) => (finish = () => resolve({ status: 200 }))));
    await connectFully(fx);
    fx.link.push(methodRequest('m', 'r1', {}));
    await settle();
    fx.link.peerClose();
    finish();
    await fx.clock.advanceSettled(1000);
    fx.link.open();
    await settle();
    fx.link.takeHex();
    fx.link.push('20020000');
    await settle();
    expect(fx.link.takeHex().slice(1)).toEqual([methodReply(200, 'r1', '')]); // behind the SUBSCRIBE
    await fx.client.close();
  });
});

describe('cloud-to-device messages', () => {
  it('hands the message and its properties to the handler and PUBACKs after it finishes', async () => {
    const fx = setupHub();
    const got: C2dMessage[] = [];
    let release!: () => void;
    fx.client.onC2D(async (message) => {
      got.push(message);
      await new Promise<void>((resolve) => (release = resolve));
    });
    await connectFully(fx);
    const topic = `devices/${DEVICE}/messages/devicebound/%24.mid=m1&%24.to=%2Fdevices%2Fdev1%2Fmessages%2FdeviceBound&color=blue&flag`;
    fx.link.push(publishHex(topic, 'hello', 1, 42));
    await settle();
    expect(got).toHaveLength(1);
    expect(Buffer.from(got[0]!.payload).toString()).toBe('hello');
    expect(got[0]).toMatchObject({ messageId: 'm1', redelivered: false, properties: [{ name: 'color', value: 'blue' }, { name: 'flag', value: null }] });
    expect(fx.link.takeHex()).toEqual([]); // no PUBACK while the handler runs
    release();
    await settle();
    expect(fx.link.takeHex()).toEqual([pubackHex(42)]);
    await fx.client.close();
  });

  it('reports a failing handler and still completes the message', async () => {
    const fx = setupHub();
    fx.client.onC2D(() => {
      throw new Error('cannot parse');
    });
    await connectFully(fx);
    fx.link.push(publishHex(`devices/${DEVICE}/messages/devicebound/`, 'x', 1, 3));
    await settle();
    expect(fx.link.takeHex()).toEqual([pubackHex(3)]);
    expect(fx.errors.map((e) => e.code)).toEqual(['handler-failed']);
    await fx.client.close();
  });
});

describe('telemetry', () => {
  it('publishes QoS 1 with system and application properties and resolves on PUBACK', async () => {
    const fx = setupHub();
    await connectFully(fx);
    const sent = track(
      fx.client.sendTelemetry('{"t":21}', {
        systemProperties: { messageId: 'm-1', correlationId: 'c/1', contentType: 'application/json', contentEncoding: 'utf-8', component: 'thermostat1' },
        properties: { alert: 'high temp', level: '2' },
      }),
    );
    await settle();
    const topic = `${TELEMETRY}%24.mid=m-1&%24.cid=c%2F1&%24.ct=application%2Fjson&%24.ce=utf-8&%24.sub=thermostat1&alert=high%20temp&level=2`;
    expect(fx.link.takeHex()).toEqual([publishHex(topic, '{"t":21}', 1, 2)]);
    expect(sent.status).toBe('pending');
    fx.link.push(pubackHex(2));
    await settle();
    expect(sent.status).toBe('resolved');
    await fx.client.close();
  });

  it('QoS 0 resolves once written', async () => {
    const fx = setupHub();
    await connectFully(fx);
    const sent = track(fx.client.sendTelemetry(new Uint8Array([1, 2]), { qos: 0 }));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex(TELEMETRY, new Uint8Array([1, 2]))]);
    expect(sent.status).toBe('resolved');
    await fx.client.close();
  });

  it('resends unacknowledged QoS 1 telemetry with DUP after a reconnect', async () => {
    const fx = setupHub();
    await connectFully(fx);
    const sent = track(fx.client.sendTelemetry('a'));
    await settle();
    fx.link.takeHex();
    fx.link.fail({ code: 'reset', message: 'reset' });
    await fx.clock.advanceSettled(1000);
    expect((await acceptConnection(fx, '20020100'))[0]).toBe(publishHex(TELEMETRY, 'a', 1, 2, true));
    fx.link.push(pubackHex(2));
    await settle();
    expect(sent.status).toBe('resolved');
    await fx.client.close();
  });

  it('bounds what is pending: over the bound is rejected at once with queue-full', async () => {
    const fx = setupHub({ maxPendingTelemetry: 3, maxInflightTelemetry: 2 });
    const calls = ['1', '2', '3', '4'].map((b) => track(fx.client.sendTelemetry(b)));
    await settle();
    expect(calls.map((c) => c.status)).toEqual(['pending', 'pending', 'pending', 'rejected']);
    expect(calls[3]!.error).toMatchObject({ name: 'HubError', code: 'queue-full' });
    await connectFully(fx);
    // two in flight (the window), one waiting
    fx.link.push(pubackHex(2));
    fx.link.push(pubackHex(3));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex(TELEMETRY, '3', 1, 4)]);
    fx.link.push(pubackHex(4));
    await settle();
    expect(calls.slice(0, 3).map((c) => c.status)).toEqual(['resolved', 'resolved', 'resolved']);
    await fx.client.close();
  });

  it('checks limits before queueing', async () => {
    const fx = setupHub();
    const results = [
      track(fx.client.sendTelemetry(new Uint8Array(256 * 1024))),
      track(fx.client.sendTelemetry('x', { properties: { 'bad name': '1' } })),
      track(fx.client.sendTelemetry('x', { properties: { 'iothub-x': '1' } })),
      track(fx.client.sendTelemetry('x', { systemProperties: { messageId: '' } })),
      track(fx.client.sendTelemetry('x', { qos: 2 as 0 })),
    ];
    await settle();
    expect(results.map((r) => r.error?.code)).toEqual(['too-large', 'invalid-argument', 'invalid-argument', 'invalid-argument', 'invalid-argument']);
    expect(fx.client.pendingTelemetry).toBe(0);
    await fx.client.close();
  });

  it('reconnects when a PUBACK is withheld past ackTimeoutMs, and resends', async () => {
    const fx = setupHub({ ackTimeoutMs: 10_000 });
    await connectFully(fx);
    const sent = track(fx.client.sendTelemetry('stuck'));
    await fx.clock.advanceSettled(9_999);
    fx.link.takeHex();
    await fx.clock.advanceSettled(1);
    expect(fx.transport.connections[0]!.takeHex()).toEqual(['e000']);
    expect(fx.events).toContain('disconnected:ack-timeout');
    await fx.clock.advanceSettled(1000);
    expect((await acceptConnection(fx, '20020100'))[0]).toBe(publishHex(TELEMETRY, 'stuck', 1, 2, true));
    fx.link.push(pubackHex(2));
    await settle();
    expect(sent.status).toBe('resolved');
    await fx.client.close();
  });
});

describe('Plug and Play reported properties', () => {
  it('builds a writable-property acknowledgement inside its component', async () => {
    const fx = setupHub();
    await connectFully(fx);
    track(fx.client.ackWritableProperty({ name: 'targetTemperature', value: 22, ackCode: 200, ackVersion: 5, description: 'ok', component: 'thermostat1' }));
    track(fx.client.reportProperty('serialNumber', 'SN-1'));
    await settle();
    expect(fx.link.takeHex()).toEqual([
      publishHex(
        '$iothub/twin/PATCH/properties/reported/?$rid=2',
        '{"thermostat1":{"__t":"c","targetTemperature":{"ac":200,"av":5,"ad":"ok","value":22}}}',
      ),
      publishHex('$iothub/twin/PATCH/properties/reported/?$rid=3', '{"serialNumber":"SN-1"}'),
    ]);
    await fx.client.close();
  });
});
