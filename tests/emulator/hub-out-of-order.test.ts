// The out-of-order fault: one publish to the device is held and sent right after the next one(s), so answers
// cross topics (a twin answer after a later method request, C2D or twin answer). Nothing here depends on timing
// except the deadline case: the order is fixed by what the hub sends next.
import type { Emulator } from '../../emulator/src/emulator';
import { startControlServer } from '../../emulator/src/control/control-server';
import { ControlClient, ControlError } from '../../emulator/src/control/control-client';
import type { RawMqttClient } from '../helpers/raw-mqtt';
import { sasDeviceEachTest } from './hub-fixture';
import type { FaultEvent } from '../../emulator/src/hub/faults';

const bed = sasDeviceEachTest('d1');
let emulator: Emulator;
let faults: FaultEvent[];
beforeEach(() => {
  emulator = bed.emulator;
  faults = bed.faults;
});

const ALL = ['$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#', '$iothub/methods/POST/#', 'devices/d1/messages/devicebound/#'];
const C2D_TOPIC = 'devices/d1/messages/devicebound/%24.mid=c1&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound';

async function topics(client: RawMqttClient, n: number): Promise<string[]> {
  const got: string[] = [];
  for (let i = 0; i < n; i++) got.push((await client.next('publish')).topic);
  return got;
}

describe('out-of-order fault: a twin answer delivered after what follows it', () => {
  it('sends the twin answer right after a later method request', async () => {
    const client = await bed.connect({ subscribe: ALL });
    emulator.faults.outOfOrder('d1', { hold: 'twin-response' }, { count: 1 });
    client.publish('$iothub/twin/GET/?$rid=1', '', 0);
    await emulator.waitFor('fault', (e) => e.kind === 'out-of-order');
    const call = emulator.invokeMethod('d1', 'ping', { a: 1 }, { timeoutMs: 2000 });
    const got = await topics(client, 2);
    expect(got[0]).toMatch(/^\$iothub\/methods\/POST\/ping\/\?\$rid=\w+$/);
    expect(got[1]).toBe('$iothub/twin/res/200/?$rid=1');
    client.publish(`$iothub/methods/res/200/?$rid=${/\$rid=(\w+)/.exec(got[0])![1]}`, '{}', 0);
    expect((await call).status).toBe(200);
    expect(faults).toEqual([{ kind: 'out-of-order', target: 'd1', detail: '$iothub/twin/res/200/?$rid=1 held until 1 later publish(es)' }]);
  });

  it('sends the twin answer right after a later C2D message', async () => {
    const client = await bed.connect({ subscribe: ALL });
    emulator.faults.outOfOrder('d1', {}, { count: 1 });
    client.publish('$iothub/twin/PATCH/properties/reported/?$rid=5', '{"a":1}', 0);
    await emulator.waitFor('fault', (e) => e.kind === 'out-of-order');
    emulator.sendC2D('d1', 'x', {}, { messageId: 'c1' });
    expect(await topics(client, 2)).toEqual([C2D_TOPIC, '$iothub/twin/res/204/?$rid=5&$version=2']);
  });

  it('swaps two twin answers: the later request is answered first', async () => {
    const client = await bed.connect({ subscribe: ALL });
    emulator.faults.outOfOrder('d1', { hold: 'twin-response' }, { count: 1 });
    client.publish('$iothub/twin/GET/?$rid=1', '', 0);
    client.publish('$iothub/twin/GET/?$rid=2', '', 0);
    expect(await topics(client, 2)).toEqual(['$iothub/twin/res/200/?$rid=2', '$iothub/twin/res/200/?$rid=1']);
  });

  it('holds a desired patch behind a later twin answer (the answer carries the newer $version)', async () => {
    const client = await bed.connect({ subscribe: ALL });
    emulator.faults.outOfOrder('d1', { hold: 'desired-patch' }, { count: 1 });
    emulator.patchDesired('d1', { rate: 1 });
    client.publish('$iothub/twin/GET/?$rid=3', '', 0);
    const first = await client.next('publish');
    expect(first.topic).toBe('$iothub/twin/res/200/?$rid=3');
    expect(JSON.parse(first.payload.toString()).desired).toEqual({ rate: 1, $version: 2 });
    expect((await client.next('publish')).topic).toBe('$iothub/twin/PATCH/properties/desired/?$version=2');
  });

  it('with after: 2, waits for two later publishes', async () => {
    const client = await bed.connect({ subscribe: ALL });
    emulator.faults.outOfOrder('d1', { hold: 'c2d', after: 2 }, { count: 1 });
    emulator.sendC2D('d1', 'x', {}, { messageId: 'c1' });
    client.publish('$iothub/twin/GET/?$rid=1', '', 0);
    client.publish('$iothub/twin/GET/?$rid=2', '', 0);
    expect(await topics(client, 3)).toEqual(['$iothub/twin/res/200/?$rid=1', '$iothub/twin/res/200/?$rid=2', C2D_TOPIC]);
  });

  it('sends a held answer at maxHoldMs when nothing follows', async () => {
    const client = await bed.connect({ subscribe: ALL });
    emulator.faults.outOfOrder('d1', { maxHoldMs: 200 }, { count: 1 });
    client.publish('$iothub/twin/GET/?$rid=7', '', 0);
    expect(await client.receives('publish', 100)).toBe(false);
    expect((await client.next('publish', 1000)).topic).toBe('$iothub/twin/res/200/?$rid=7');
  });

  it('without a count, every matching publish is held behind the next one', async () => {
    const client = await bed.connect({ subscribe: ALL });
    emulator.faults.outOfOrder('d1', { hold: 'twin-response', maxHoldMs: 5000 });
    for (const rid of [1, 2, 3]) client.publish(`$iothub/twin/GET/?$rid=${rid}`, '', 0);
    for (let i = 0; i < 200 && faults.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(faults.map((f) => f.detail)).toEqual([1, 2, 3].map((rid) => `$iothub/twin/res/200/?$rid=${rid} held until 1 later publish(es)`));
    emulator.sendC2D('d1', 'x', {}, { messageId: 'c1' });
    // Held answers do not release each other: the C2D releases all three, oldest first.
    expect(await topics(client, 4)).toEqual([C2D_TOPIC, '$iothub/twin/res/200/?$rid=1', '$iothub/twin/res/200/?$rid=2', '$iothub/twin/res/200/?$rid=3']);
  });

  it('refuses bad options', () => {
    expect(() => emulator.faults.outOfOrder('d1', { after: 0 })).toThrow(RangeError);
    expect(() => emulator.faults.outOfOrder('d1', { hold: 'telemetry' as never })).toThrow(RangeError);
  });
});

describe('out-of-order fault through the control API (what `cli.ts fault out-of-order` sends)', () => {
  it('is switched on by POST /faults {kind: out-of-order, hold, after}', async () => {
    const control = await startControlServer(emulator);
    try {
      const api = new ControlClient({ port: control.port, token: control.token, pid: process.pid, hubHostName: emulator.hubHostName, hubPort: emulator.hubPort });
      await expect(api.request('POST', '/faults', { kind: 'out-of-order', target: 'd1', hold: 'nonsense' })).rejects.toThrow(ControlError);
      expect(await api.request('POST', '/faults', { kind: 'out-of-order', target: 'd1', hold: 'twin-response', after: 1, count: 1 })).toEqual({});
      const client = await bed.connect({ subscribe: ALL });
      client.publish('$iothub/twin/GET/?$rid=1', '', 0);
      client.publish('$iothub/twin/GET/?$rid=2', '', 0);
      expect(await topics(client, 2)).toEqual(['$iothub/twin/res/200/?$rid=2', '$iothub/twin/res/200/?$rid=1']);
    } finally {
      await control.close();
    }
  });
});
