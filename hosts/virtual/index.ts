// The virtual host: a clock and a transport that tests (and the XS test runner) drive by hand.
// Everything here is host-neutral so it bundles for XS with the firmware core.
// To check the session on XS: bundle an entry that calls runSessionScript(steps) (esbuild --bundle
// --format=iife --target=es2020), run it in xsnap, and compare its transcript with the one Node produces
// for the same steps; they must be identical (virtual time, no host timers, no Node APIs).

export { VirtualClock, settle } from './virtual-clock';
export { ScriptedConnection, ScriptedTransportFactory } from './scripted-transport';
export type { ScriptedTransportObserver } from './scripted-transport';
export { ascii, fromHex, toHex } from './hex';
export { runSessionScript } from './session-script';
export type { ScriptStep, SessionScriptOptions, SessionScriptResult } from './session-script';
