// The late-subscription fault: the hub holds each SUBACK, and a publish to a filter whose SUBACK has not gone out
// is lost, as the real hub may do (it does not promise delivery on a subscription it has not acknowledged).
import type { Emulator } from '../../emulator/src/emulator';
import { startControlServer } from '../../emulator/src/control/control-server';
import { ControlClient, ControlError } from '../../emulator/src/control/control-client';
import type { AnyPacket, RawMqttClient } from '../helpers/raw-mqtt';
import { sasDeviceEachTest } from './hub-fixture';
import type { FaultEvent } from '../../emulator/src/hub/faults';

const bed = sasDeviceEachTest('d1');
let emulator: Emulator;
let faults: FaultEvent[];
beforeEach(() => {
  emulator = bed.emulator;
  faults = bed.faults;
});

const TWIN_RES = '$iothub/twin/res/#';

function subscribe(client: RawMqttClient, messageId: number, ...topics: string[]): void {
  client.send({ cmd: 'subscribe', messageId, subscriptions: topics.map((topic) => ({ topic, qos: 0 as const })) });
}

/** The commands of everything the device received after CONNACK, publishes by topic. */
function trail(client: RawMqttClient): string[] {
  return client.received
    .filter((p: AnyPacket) => p.cmd !== 'connack')
    .map((p: AnyPacket) => (p.cmd === 'publish' ? `publish ${p.topic}` : `${p.cmd} ${'messageId' in p ? String(p.messageId) : ''}`.trim()));
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition never held');
}

describe('late-subscription fault: a twin GET sent before its SUBACK loses its answer', () => {
  it('holds the SUBACK and drops the answer to a GET pipelined behind the SUBSCRIBE', async () => {
    const client = await bed.connect();
    emulator.faults.lateSubscription('d1', { holdMs: 400 });
    subscribe(client, 7, TWIN_RES);
    client.publish('$iothub/twin/GET/?$rid=1', '', 0);
    expect(await client.receives('suback', 150)).toBe(false);
    const suback = await client.next('suback');
    expect(suback).toEqual(expect.objectContaining({ messageId: 7, granted: [0] }));
    expect(faults).toEqual([
      { kind: 'late-subscription', target: 'd1', detail: 'SUBACK 7 held 400 ms' },
      { kind: 'late-subscription-drop', target: 'd1', detail: '$iothub/twin/res/200/?$rid=1' },
    ]);
    expect(await client.receives('publish', 200)).toBe(false);

    // Asked again once the SUBACK is in, the GET is answered at once.
    client.publish('$iothub/twin/GET/?$rid=2', '', 0);
    expect((await client.next('publish')).topic).toBe('$iothub/twin/res/200/?$rid=2');
    expect(trail(client)).toEqual(['suback 7', 'publish $iothub/twin/res/200/?$rid=2']);
  });

  it('without the fault, the same pipelined GET is answered after an immediate SUBACK', async () => {
    const client = await bed.connect();
    subscribe(client, 7, TWIN_RES);
    client.publish('$iothub/twin/GET/?$rid=1', '', 0);
    expect((await client.next('publish')).topic).toBe('$iothub/twin/res/200/?$rid=1');
    expect(trail(client)).toEqual(['suback 7', 'publish $iothub/twin/res/200/?$rid=1']);
    expect(faults).toEqual([]);
  });
});

describe('late-subscription fault: other traffic while a SUBACK is held', () => {
  it('drops a desired patch pushed before the SUBACK, and answers method calls 404 (not subscribed yet)', async () => {
    const client = await bed.connect();
    emulator.faults.lateSubscription('d1', { holdMs: 300 });
    subscribe(client, 3, '$iothub/twin/PATCH/properties/desired/#', '$iothub/methods/POST/#');
    await until(() => emulator.subscriptions('d1').length === 2);
    emulator.patchDesired('d1', { rate: 5 });
    expect((await emulator.invokeMethod('d1', 'ping', null, { timeoutMs: 1000 })).status).toBe(404);
    await client.next('suback');
    expect(faults.map((f) => `${f.kind} ${f.detail}`)).toEqual([
      'late-subscription SUBACK 3 held 300 ms',
      'late-subscription-drop $iothub/twin/PATCH/properties/desired/?$version=2',
    ]);
    expect(trail(client)).toEqual(['suback 3']);
  });

  it('keeps C2D queued (not lost) and delivers it right after the held SUBACK', async () => {
    const client = await bed.connect();
    emulator.faults.lateSubscription('d1', { holdMs: 200 });
    emulator.sendC2D('d1', 'hello', {}, { messageId: 'm1' });
    subscribe(client, 4, 'devices/d1/messages/devicebound/#');
    const publish = await client.next('publish');
    expect(publish.payload.toString()).toBe('hello');
    expect(trail(client)).toEqual(['suback 4', `publish ${publish.topic}`]);
  });

  it('a count window holds only that many SUBACKs', async () => {
    const client = await bed.connect();
    emulator.faults.lateSubscription('d1', { holdMs: 300 }, { count: 1 });
    subscribe(client, 1, TWIN_RES);
    await client.next('suback');
    subscribe(client, 2, '$iothub/methods/POST/#');
    client.publish('$iothub/twin/GET/?$rid=9', '', 0);
    await client.next('suback');
    expect((await client.next('publish')).topic).toBe('$iothub/twin/res/200/?$rid=9');
    expect(faults.filter((f) => f.kind === 'late-subscription')).toHaveLength(1);
  });

  it('clear() stops holding SUBACKs', async () => {
    const client = await bed.connect();
    emulator.faults.lateSubscription('*', { holdMs: 5000 });
    emulator.faults.clear();
    subscribe(client, 5, TWIN_RES);
    expect((await client.next('suback', 1000)).messageId).toBe(5);
  });

  it('refuses a negative holdMs', () => {
    expect(() => emulator.faults.lateSubscription('d1', { holdMs: -1 })).toThrow(RangeError);
  });
});

describe('late-subscription fault through the control API (what `cli.ts fault late-subscription` sends)', () => {
  it('is switched on by POST /faults {kind: late-subscription, holdMs}', async () => {
    const control = await startControlServer(emulator);
    try {
      const api = new ControlClient({ port: control.port, token: control.token, pid: process.pid, hubHostName: emulator.hubHostName, hubPort: emulator.hubPort });
      await expect(api.request('POST', '/faults', { kind: 'late-subscription', target: 'd1' })).rejects.toThrow(ControlError);
      expect(await api.request('POST', '/faults', { kind: 'late-subscription', target: 'd1', holdMs: 300, count: 1 })).toEqual({});
      const client = await bed.connect();
      subscribe(client, 6, TWIN_RES);
      client.publish('$iothub/twin/GET/?$rid=1', '', 0);
      await client.next('suback');
      expect(faults.map((f) => f.kind)).toEqual(['late-subscription', 'late-subscription-drop']);
      expect(trail(client)).toEqual(['suback 6']);
    } finally {
      await control.close();
    }
  });
});
