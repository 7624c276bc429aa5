// How this build restarts the board, if it can. Moddable's ECMA-419 `system` module (modules/io/system in the SDK,
// preloaded by the io manifests many board targets include) puts `System` on the global object, and on ESP32,
// ESP8266 and Pico its `restart()` resets the chip. The plain simulator build has no such module, or one without
// `restart` (modules/io/manifests/lin): then there is nothing to call and the firmware restarts in place.
// Looked up at run time through globalThis, so it compiles against our typings and the SDK's alike.

interface SystemGlobal {
  restart?: unknown;
}

/** The board's restart, or undefined when this build has none. */
export function findBoardRestart(global: object = globalThis): (() => void) | undefined {
  const system = (global as { System?: SystemGlobal }).System;
  if (system === undefined || system === null || typeof system.restart !== 'function') return undefined;
  const restart = system.restart as () => void;
  return () => restart.call(system);
}
