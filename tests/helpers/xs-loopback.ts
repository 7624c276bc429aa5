// Runs the XS-side host (hosts/xsnap) inside Node against XsHostBridge, with the worker's rules kept:
// events are delivered one at a time and never while a request is being served, and an async app handler's
// answer is read after promise jobs have run. Bridge logic can be tested here quickly; tests/xs runs it on XS.
import { createXsnapHost, type XsnapHost } from '../../hosts/xsnap/xsnap-host';
import { toArrayBuffer } from '../../hosts/xsnap/bridge-protocol';
import { XsHostBridge, type XsHostBridgeOptions } from './xs-host-bridge';

async function drainPromiseJobs(): Promise<void> {
  for (let i = 0; i < 100; i++) await Promise.resolve();
}

export function createXsLoopback(options: XsHostBridgeOptions): { host: XsnapHost; bridge: XsHostBridge } {
  let queue: Promise<unknown> = Promise.resolve();
  const command = (bytes: Uint8Array): Promise<{ reply: Uint8Array }> => {
    const result = queue.then(async () => {
      const out = host.handleCommand(toArrayBuffer(bytes));
      if (out instanceof ArrayBuffer) return { reply: new Uint8Array(out) };
      await drainPromiseJobs();
      return { reply: new Uint8Array(out.result) };
    });
    queue = result.catch(() => undefined);
    return result;
  };
  const bridge = new XsHostBridge({ command }, options);
  const host = createXsnapHost({ issue: (request) => toArrayBuffer(bridge.handleRequest(new Uint8Array(request))) });
  return { host, bridge };
}
