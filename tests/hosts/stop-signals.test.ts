// Ctrl-C handling for the Node command lines: one Ctrl-C arrives several times (the terminal signals the
// process group, npm and tsx relay it to their child), and only a later signal means "stop now".
import { describe, expect, test } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { handleStopSignals, SAME_REQUEST_MS, type StopSignal } from '../../hosts/node/stop-signals';

function setup() {
  const target = new EventEmitter();
  let now = 0;
  const calls: string[] = [];
  const dispose = handleStopSignals(
    { stop: (s) => void calls.push(`stop ${s}`), force: (s) => void calls.push(`force ${s}`) },
    { target: target as unknown as Pick<NodeJS.Process, 'on' | 'off'>, now: () => now },
  );
  const signal = (s: StopSignal, atMs: number) => {
    now = atMs;
    target.emit(s, s);
  };
  return { target, calls, dispose, signal };
}

describe('stop signals', () => {
  test('the same Ctrl-C delivered three times (group, npm, tsx) is one stop request', () => {
    const { calls, signal } = setup();
    signal('SIGINT', 0);
    signal('SIGINT', 2);
    signal('SIGINT', 35);
    expect(calls).toEqual(['stop SIGINT']);
  });

  test('a signal a second or more after the first forces the exit, once', () => {
    const { calls, signal } = setup();
    signal('SIGTERM', 0);
    signal('SIGINT', SAME_REQUEST_MS);
    signal('SIGINT', SAME_REQUEST_MS + 5000);
    expect(calls).toEqual(['stop SIGTERM', 'force SIGINT']);
  });

  test('the listeners stay until disposed, so no repeat reaches the default action; dispose removes both', () => {
    const { target, dispose } = setup();
    expect([target.listenerCount('SIGINT'), target.listenerCount('SIGTERM')]).toEqual([1, 1]);
    dispose();
    expect([target.listenerCount('SIGINT'), target.listenerCount('SIGTERM')]).toEqual([0, 0]);
  });
});
