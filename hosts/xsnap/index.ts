// The xsnap host: firmware ports for the real XS engine running in an @agoric/xsnap worker, bridged to Node.
export { createXsnapHost, installXsnapHost } from './xsnap-host';
export type { AppHandler, XsnapHost, XsnapHostOptions } from './xsnap-host';
export { BridgedTimers } from './bridged-timers';
export { BridgedTransportFactory } from './bridged-transport';
export * from './bridge-protocol';
