import { VirtualClock, settle } from '../../hosts/virtual';
import { utf8Decode, utf8Encode } from '../../src/encoding/utf8';
import type { HubError } from '../../src/hub/hub-error';
import { MethodDispatcher, type MethodCall, type MethodReply } from '../../src/hub/method-dispatcher';

function setup(timeoutMs = 1000) {
  const clock = new VirtualClock();
  const replies: Array<{ rid: string; status: number; body: string }> = [];
  const reports: HubError[] = [];
  const dispatcher = new MethodDispatcher(clock, {
    timeoutMs,
    send: (reply: MethodReply) => replies.push({ rid: reply.rid, status: reply.status, body: utf8Decode(reply.body) ?? '?' }),
    report: (error) => reports.push(error),
  });
  return { clock, replies, reports, dispatcher };
}

const json = (value: unknown): Uint8Array => utf8Encode(JSON.stringify(value));

describe('method replies: 200', () => {
  it('passes the parsed request and sends the handler result as JSON', async () => {
    const t = setup();
    const calls: MethodCall[] = [];
    t.dispatcher.register('reboot', (call) => {
      calls.push(call);
      return { status: 200, payload: { ok: true } };
    });
    t.dispatcher.dispatch('reboot', '7', json({ delay: 5 }));
    expect(calls).toEqual([{ name: 'reboot', command: 'reboot', payload: { delay: 5 }, rid: '7' }]);
    expect(t.replies).toEqual([{ rid: '7', status: 200, body: '{"ok":true}' }]);
    expect(t.clock.pendingCount).toBe(0);
  });

  it('awaits async handlers, sends an empty body without payload, and splits PnP names', async () => {
    const t = setup();
    const calls: MethodCall[] = [];
    t.dispatcher.register('thermostat*getMaxMinReport', async (call) => {
      calls.push(call);
      await settle(2);
      return { status: 201 };
    });
    t.dispatcher.dispatch('thermostat*getMaxMinReport', '1', new Uint8Array(0));
    expect(t.dispatcher.runningCount).toBe(1);
    await settle();
    expect(calls[0]).toMatchObject({ component: 'thermostat', command: 'getMaxMinReport', payload: null });
    expect(t.replies).toEqual([{ rid: '1', status: 201, body: '' }]);
    expect(t.dispatcher.runningCount).toBe(0);
  });
});

describe('method replies: 404 and 400', () => {
  it('answers an unknown method with 404 and a JSON error body', () => {
    const t = setup();
    t.dispatcher.dispatch('nope', '3', json({}));
    expect(t.replies).toEqual([{ rid: '3', status: 404, body: JSON.stringify({ error: "no handler for method 'nope'" }) }]);
  });

  it('answers an unreadable request with 400 without calling the handler', () => {
    const t = setup();
    let called = false;
    t.dispatcher.register('m', () => {
      called = true;
      return { status: 200 };
    });
    t.dispatcher.dispatch('m', '4', utf8Encode('{not json'));
    expect(called).toBe(false);
    expect(t.replies[0]!.status).toBe(400);
  });

  it('a removed handler is unknown again', () => {
    const t = setup();
    const off = t.dispatcher.register('m', () => ({ status: 200 }));
    off();
    t.dispatcher.dispatch('m', '5', json(null));
    expect(t.replies[0]!.status).toBe(404);
  });
});

describe('method replies: 500', () => {
  it('answers a throwing handler with 500 and its message, and reports it', () => {
    const t = setup();
    t.dispatcher.register('m', () => {
      throw new Error('sensor offline');
    });
    t.dispatcher.dispatch('m', '9', json(null));
    expect(t.replies).toEqual([{ rid: '9', status: 500, body: '{"error":"sensor offline"}' }]);
    expect(t.reports.map((e) => e.code)).toEqual(['handler-failed']);
  });

  it('answers a rejecting handler and a malformed result with 500', async () => {
    const t = setup();
    t.dispatcher.register('r', () => Promise.reject(new Error('nope')));
    t.dispatcher.register('bad', () => ({ status: 'x' }) as unknown as { status: number });
    t.dispatcher.dispatch('r', '1', json(null));
    t.dispatcher.dispatch('bad', '2', json(null));
    await settle();
    expect(t.replies.map((r) => `${r.rid}:${r.status}`).sort()).toEqual(['1:500', '2:500']);
  });

  it('answers a reply over 128 KB with 500', () => {
    const t = setup();
    t.dispatcher.register('big', () => ({ status: 200, payload: 'x'.repeat(130 * 1024) }));
    t.dispatcher.dispatch('big', '1', json(null));
    expect(t.replies[0]!.status).toBe(500);
  });
});

describe('method replies: late handlers', () => {
  it('sends 504 at the time limit and never a second reply', async () => {
    const t = setup(1000);
    let finish!: () => void;
    t.dispatcher.register('slow', () => new Promise((resolve) => (finish = () => resolve({ status: 200, payload: 'late' }))));
    t.dispatcher.dispatch('slow', '11', json(null));
    await t.clock.advanceSettled(999);
    expect(t.replies).toEqual([]);
    await t.clock.advanceSettled(1);
    expect(t.replies.map((r) => r.status)).toEqual([504]);
    expect(t.dispatcher.runningCount).toBe(0);
    finish();
    await settle();
    expect(t.replies.map((r) => r.status)).toEqual([504]);
    expect(t.reports.map((e) => e.code)).toEqual(['timeout']);
  });

  it('cancelAll stops every time limit and drops later results', async () => {
    const t = setup(1000);
    let finish!: () => void;
    t.dispatcher.register('slow', () => new Promise((resolve) => (finish = () => resolve({ status: 200 }))));
    t.dispatcher.dispatch('slow', '1', json(null));
    t.dispatcher.cancelAll();
    expect(t.clock.pendingCount).toBe(0);
    finish();
    await settle();
    expect(t.replies).toEqual([]);
  });
});
