import { runSessionScript } from '../../hosts/virtual';
import type { ScriptStep } from '../../hosts/virtual';

// A whole session life in plain data: the same steps give the same transcript on Node and on XS.
const LIFE: ScriptStep[] = [
  { op: 'connect', options: { username: 'u', password: 'p', keepAlive: 10 } },
  { op: 'open' },
  { op: 'receive', hex: '20020000' },
  { op: 'subscribe', label: 'sub', filters: [{ topic: 'c/#', qos: 1 }, { topic: 'no', qos: 1 }] },
  { op: 'receive', hex: '900400010180' },
  { op: 'handler', mode: 'delay', delayMs: 50 },
  { op: 'receive', hex: '320700016300056869' },
  { op: 'publish', label: 'p1', topic: 'a/b', payload: 'hi', qos: 1 },
  { op: 'publish', label: 'p2', topic: 'a/b', payload: 'hi', qos: 2 },
  { op: 'advance', ms: 10050 },
  { op: 'receive', hex: 'd000' },
  { op: 'peer-close' },
  { op: 'connect', options: { username: 'u', password: 'p', keepAlive: 10 } },
  { op: 'open' },
  { op: 'receive', hex: '20020100' },
  { op: 'receive', hex: '40020002' },
  { op: 'disconnect', label: 'bye' },
];

describe('scripted session runner', () => {
  it('produces the exact transcript of bytes, states, events and promise outcomes', async () => {
    const { transcript, session } = await runSessionScript(LIFE);
    expect(transcript).toEqual([
      '0 state connecting',
      '0 transport #0 broker.test:8883',
      '0 state awaiting-connack',
      '0 out 101600044d51545404c0000a000464657631000175000170',
      '0 state connected',
      '0 connected sessionPresent=false',
      '0 resolved connect {"sessionPresent":false}',
      '0 out 820d00010003632f230100026e6f01',
      '0 resolved sub [1,128]',
      '0 message c qos=1 dup=false retain=false id=5 payload=6869',
      '0 out 32090003612f6200026869',
      '0 rejected p2 MqttSessionError qos2-unsupported',
      '50 handled c',
      '50 out 40020005',
      '10050 out c000',
      '10050 transport #0 closed by peer',
      '10050 state closed',
      '10050 close peer-closed',
      '10050 state connecting',
      '10050 transport #1 broker.test:8883',
      '10050 state awaiting-connack',
      '10050 out 101600044d51545404c0000a000464657631000175000170',
      '10050 out 3a090003612f6200026869',
      '10050 state connected',
      '10050 connected sessionPresent=true',
      '10050 resolved connect {"sessionPresent":true}',
      '10050 resolved p1',
      '10050 state disconnecting',
      '10050 out e000',
      '10050 transport #1 closed by local',
      '10050 state closed',
      '10050 close local',
      '10050 resolved bye',
    ]);
    expect(session.state).toBe('closed');
  });

  it('is deterministic and takes scripts that went through JSON', async () => {
    const a = await runSessionScript(LIFE);
    const b = await runSessionScript(JSON.parse(JSON.stringify(LIFE)) as ScriptStep[]);
    expect(b.transcript).toEqual(a.transcript);
  });

  it('records refused connections, handler failures and queue bounds', async () => {
    const refused = await runSessionScript([{ op: 'connect' }, { op: 'open' }, { op: 'receive', hex: '20020005' }]);
    expect(refused.transcript.slice(-3)).toEqual(['0 state closed', '0 close connack-refused returnCode=5', '0 rejected connect MqttConnectError returnCode=5']);

    const failing = await runSessionScript(
      [
        { op: 'connect' },
        { op: 'open' },
        { op: 'receive', hex: '20020000' },
        { op: 'handler', mode: 'reject', delayMs: 5 },
        { op: 'receive', hex: '320700016300056869' },
        { op: 'advance', ms: 5 },
        { op: 'publish', label: 'a', topic: 't', qos: 1 },
        { op: 'publish', label: 'b', topic: 't', qos: 1 },
        { op: 'publish', label: 'c', topic: 't', qos: 1 },
      ],
      { session: { maxInflight: 1, maxQueued: 1 } },
    );
    // 'a' waits for its PUBACK and 'b' sits in the queue: neither settles; 'c' is over the queue bound.
    expect(failing.transcript.slice(-6)).toEqual([
      '0 message c qos=1 dup=false retain=false id=5 payload=6869',
      '5 handled c',
      '5 error handler-failed',
      '5 out 40020005',
      '5 out 32050001740001',
      '5 rejected c MqttSessionError queue-full',
    ]);
  });
});
