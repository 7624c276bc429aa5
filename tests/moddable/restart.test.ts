// The Moddable host's board restart (hosts/moddable/restart.ts): found through the `System` global that Moddable's
// io `system` module installs, absent on builds without it, so reboots fall back to the in-place restart.
import { describe, expect, test } from '@jest/globals';
import { findBoardRestart } from '../../hosts/moddable/restart';

describe('findBoardRestart', () => {
  test('calls System.restart() with System as its receiver', () => {
    const calls: unknown[] = [];
    const System = {
      restart(this: unknown) {
        calls.push(this);
      },
    };
    const restart = findBoardRestart({ System });
    expect(restart).toBeDefined();
    restart?.();
    expect(calls).toEqual([System]);
  });

  test('nothing to call without System, or with a System that has no restart (the lin simulator build)', () => {
    expect(findBoardRestart({})).toBeUndefined();
    expect(findBoardRestart({ System: { resolve: () => undefined } })).toBeUndefined();
    expect(findBoardRestart({ System: null })).toBeUndefined();
  });
});
