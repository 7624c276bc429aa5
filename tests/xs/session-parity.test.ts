// The acceptance test of the XS runner: the same scripted MQTT session (transport bytes fed in, virtual time
// advanced) produces byte-identical output and the same event log on the real XS engine and on Node.
import { startXsnap, type XsnapDriver } from '../helpers/xsnap-driver';
import { callXsApp } from '../helpers/xs-host-bridge';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';
import { runSessionScenario, type SessionScenarioResult } from './scenarios/session-script';
import { runSessionScript, type ScriptStep } from '../../hosts/virtual';
import type { BridgeValue } from '../../hosts/xsnap/bridge-protocol';

let xs: XsnapDriver;
let bundleSize = 0;

beforeAll(async () => {
  const script = await bundleForXs('tests/xs/entries/session-scenario.ts');
  bundleSize = script.length;
  xs = startXsnap({ name: 'session-parity' });
  await xs.evaluate(script);
});

afterAll(async () => {
  await xs?.close();
});

describe('the scripted session scenario is byte-identical on XS and Node', () => {
  let onNode: SessionScenarioResult;
  let onXs: SessionScenarioResult;
  let compute = 0;

  beforeAll(async () => {
    onNode = await runSessionScenario();
    const sink = {
      command: async (bytes: Uint8Array) => {
        const result = await xs.command(bytes);
        compute = result.meter.compute;
        return result;
      },
    };
    onXs = (await callXsApp(sink, 'session-scenario')) as unknown as SessionScenarioResult;
  });

  test('same written chunks, same event log', () => {
    expect(onXs.written).toEqual(onNode.written);
    expect(onXs.events).toEqual(onNode.events);
  });

  test('the scenario did what it says (checked on the Node run)', () => {
    const hex = (text: string): string => Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, '0')).join('');
    const c2d = hex('devices/dev-xs/messages/devicebound/#');
    const d2c = hex('devices/dev-xs/messages/events/');
    expect(onNode.written.slice(1)).toEqual([
      `822a00010025${c2d}01`, // SUBSCRIBE id 1, QoS 1
      `302b001f${d2c}${hex('{"t":21.5}')}`, // PUBLISH QoS 0
      `322a001f${d2c}0002${hex('{"n":1}')}`, // PUBLISH QoS 1, id 2
      '40020007', // PUBACK for the incoming id 7, only after its handler
      'c000', // PINGREQ once keepalive elapsed with no traffic
      'e000', // DISCONNECT
    ]);
    expect(onNode.written[0].startsWith(`1088010004${hex('MQTT')}04c0001e0006${hex('dev-xs')}`)).toBe(true); // CONNECT, keepalive 30
    // Everything but state changes and the CONNECT bytes, to keep the story readable.
    expect(onNode.events.filter((e) => !e.includes(' state ') && !e.includes(' out 10'))).toEqual([
      '0 > connect',
      '0 transport #0 open hub.test:8883',
      '0 > tls up',
      '0 > CONNACK',
      '0 connected sessionPresent=false',
      '0 resolved connect {"sessionPresent":false}',
      '0 > subscribe',
      `0 out 822a00010025${c2d}01`,
      '0 > SUBACK',
      '0 resolved subscribe [1]',
      '0 > publish qos0',
      `0 out 302b001f${d2c}${hex('{"t":21.5}')}`,
      '0 resolved publish qos0',
      '0 > publish qos1',
      `0 out 322a001f${d2c}0002${hex('{"n":1}')}`,
      '0 > PUBACK',
      '0 resolved publish qos1',
      '0 > incoming qos1 part 1',
      '0 > incoming qos1 part 2',
      `0 message devices/dev-xs/messages/devicebound/%24.to=%2Fdevices%2Fdev-xs qos=1 dup=false id=7 payload=${hex('reboot')}`,
      '0 > advance 50',
      '50 > advance 50',
      '100 handled devices/dev-xs/messages/devicebound/%24.to=%2Fdevices%2Fdev-xs',
      '100 out 40020007',
      '100 > advance 30000',
      '30100 out c000',
      '30100 > PINGRESP',
      '30100 > disconnect',
      '30100 out e000',
      '30100 transport #0 closed by local',
      '30100 close local',
      '30100 resolved disconnect',
      '30100 > advance 10',
    ]);
  });

  test('the XS run stays within its compute budget', () => {
    // Deterministic for a given bundle; a budget, not an exact figure, so ordinary changes do not break it.
    expect(compute).toBeGreaterThan(0);
    expect(compute).toBeLessThan(2_000_000); // about 370k when written
    expect(bundleSize).toBeLessThan(200_000);
  });
});

describe("the session team's script runner gives the same transcript on XS and Node", () => {
  const scripts: Record<string, ScriptStep[]> = {
    'keepalive then ping timeout': [
      { op: 'connect', options: { keepAlive: 5 } },
      { op: 'open' },
      { op: 'receive', hex: '20020000' },
      { op: 'publish', label: 'p', topic: 't', payload: 'x', qos: 1 },
      { op: 'advance', ms: 5000 },
      { op: 'advance', ms: 10000 },
    ],
    'refused CONNACK, transport failure, reconnect, throwing handler, blocked writes, protocol error': [
      { op: 'connect' },
      { op: 'open' },
      { op: 'receive', hex: '20020005' },
      { op: 'connect' },
      { op: 'fail', code: 'tls-verify', message: 'bad cert' },
      { op: 'connect', options: { cleanSession: false } },
      { op: 'open' },
      { op: 'receive', hex: '20020100' },
      { op: 'handler', mode: 'throw' },
      { op: 'receive', hex: '3208000161000968690a' },
      { op: 'block-writes' },
      { op: 'publish', label: 'q', topic: 'a', payload: 'yy', qos: 1 },
      { op: 'drain' },
      { op: 'receive', hex: 'ff00' },
    ],
  };

  test.each(Object.keys(scripts))('%s', async (name) => {
    const { transcript } = await runSessionScript(scripts[name]);
    const onXs = await callXsApp(xs, 'session-script', scripts[name] as unknown as BridgeValue);
    expect(onXs).toEqual(transcript);
    expect(transcript.length).toBeGreaterThan(5);
  });
});
