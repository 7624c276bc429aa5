// The XS-side host: every port in src/ports.ts, reached through the bridge, plus the dispatcher the worker
// calls as handleCommand. Host-neutral TypeScript: it is bundled into the XS script with the firmware.
import { isThenable } from '../../src/errors';
import type { HostPorts } from '../../src/ports';
import { BridgeClient } from './bridge-client';
import { BridgedTimers } from './bridged-timers';
import { BridgedTransportFactory } from './bridged-transport';
import { bridgedClock, bridgedCrypto, bridgedLogger, bridgedStore } from './bridged-services';
import {
  decodeBridgeMessage,
  encodeBridgeMessage,
  toArrayBuffer,
  type BridgeValue,
  type XsEvent,
  type XsEventReply,
} from './bridge-protocol';
import { globalIssueCommand, xsnapGlobal, type HandleCommand, type IssueCommand } from './xsnap-globals';

/** A program-defined call from the Node side. A promise is awaited as long as XS has promise jobs to run. */
export type AppHandler = (data: BridgeValue | undefined) => BridgeValue | undefined | void | Promise<BridgeValue | undefined | void>;

export interface XsnapHost {
  ports: HostPorts;
  timers: BridgedTimers;
  transport: BridgedTransportFactory;
  onApp(name: string, handler: AppHandler): void;
  /** Tells the Node side something (a result, progress); returns whatever it answers. */
  notify(name: string, data?: BridgeValue): BridgeValue | undefined;
  handleCommand: HandleCommand;
}

export interface XsnapHostOptions {
  /** Defaults to the worker's global issueCommand; tests on Node pass a loopback. */
  issue?: IssueCommand;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const encodeReply = (reply: XsEventReply): ArrayBuffer => toArrayBuffer(encodeBridgeMessage(reply));

export function createXsnapHost(options: XsnapHostOptions = {}): XsnapHost {
  const bridge = new BridgeClient(options.issue ?? globalIssueCommand());
  const timers = new BridgedTimers(bridge);
  const transport = new BridgedTransportFactory(bridge);
  const apps = new Map<string, AppHandler>();

  const runApp = (name: string, data: BridgeValue | undefined): ArrayBuffer | { result: ArrayBuffer } => {
    const handler = apps.get(name);
    if (!handler) return encodeReply({ error: `no app handler named "${name}"` });
    const out = handler(data);
    if (!isThenable(out)) return encodeReply({ data: out ?? undefined });
    // The worker reads `result` only after every promise job has run, so a handler that settles by then answers.
    const box = { result: encodeReply({ error: `app handler "${name}" had not finished when XS went idle` }) };
    out.then(
      (value) => (box.result = encodeReply({ data: (value as BridgeValue | undefined) ?? undefined })),
      (error: unknown) => (box.result = encodeReply({ error: describeError(error) })),
    );
    return box;
  };

  const handleCommand: HandleCommand = (request) => {
    try {
      const event = decodeBridgeMessage<XsEvent>(new Uint8Array(request));
      switch (event.op) {
        case 'timer-fire':
          timers.fire(event.timer);
          return encodeReply({});
        case 'transport-connect':
        case 'transport-data':
        case 'transport-writable':
        case 'transport-error':
        case 'transport-close':
          transport.deliver(event);
          return encodeReply({});
        case 'app':
          return runApp(event.name, event.data);
        default:
          return encodeReply({ error: `unknown event "${String((event as { op?: unknown }).op)}"` });
      }
    } catch (error) {
      return encodeReply({ error: describeError(error) });
    }
  };

  return {
    ports: {
      transport,
      timers,
      clock: bridgedClock(bridge),
      crypto: bridgedCrypto(bridge),
      store: bridgedStore(bridge),
      logger: bridgedLogger(bridge),
    },
    timers,
    transport,
    onApp: (name, handler) => void apps.set(name, handler),
    notify: (name, data) => bridge.request({ op: 'app', name, data }).data,
    handleCommand,
  };
}

/** Creates the host and makes it the worker's handleCommand. */
export function installXsnapHost(options: XsnapHostOptions = {}): XsnapHost {
  const host = createXsnapHost(options);
  xsnapGlobal.handleCommand = host.handleCommand;
  return host;
}
