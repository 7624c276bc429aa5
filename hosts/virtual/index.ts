// The virtual host: a clock and a transport that tests (and the XS test runner) drive by hand.
// Everything here is host-neutral so it bundles for XS with the firmware core.

export { VirtualClock, settle } from './virtual-clock';
export { ScriptedConnection, ScriptedTransportFactory } from './scripted-transport';
export type { ScriptedTransportObserver } from './scripted-transport';
export { ascii, fromHex, toHex } from './hex';
export { runSessionScript } from './session-script';
export type { ScriptStep, SessionScriptOptions, SessionScriptResult } from './session-script';
