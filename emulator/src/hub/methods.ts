// Direct method calls in flight: each waits for the device's reply on its $rid, or times out with 504.
// A reply after the timeout finds nothing and is dropped, as on the real hub.

export interface MethodResult {
  status: number;
  /** The device's JSON reply parsed; null for an empty body; the raw text when it is not JSON. */
  payload: unknown;
}

interface Pending {
  identityKey: string;
  methodName: string;
  resolve: (result: MethodResult) => void;
  timer: NodeJS.Timeout;
}

export const METHOD_PAYLOAD_LIMIT = 128 * 1024;

/** Method names travel in the topic: no `/`, `#`, `+`, `?` or control characters. */
export function validMethodName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length > 0 && name.length <= 256 && !/[/#+?\u0000-\u001f\u007f]/.test(name);
}

export function parseMethodPayload(body: Uint8Array): unknown {
  if (body.length === 0) return null;
  const text = Buffer.from(body).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function errorResult(status: number, errorCode: number, message: string): MethodResult {
  return { status, payload: { errorCode, message } };
}

export class PendingMethods {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  /** Registers a call and returns its request id; the promise resolves with the reply or a 504. */
  start(identityKey: string, methodName: string, timeoutMs: number): { rid: string; result: Promise<MethodResult> } {
    const rid = (++this.counter).toString(16);
    const result = new Promise<MethodResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        resolve(errorResult(504, 504101, `timed out waiting for the response of ${methodName} after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(rid, { identityKey, methodName, resolve, timer });
    });
    return { rid, result };
  }

  /** Delivers a device reply; false when no call of that identity waits on `rid` (late or unknown). */
  settle(identityKey: string, rid: string, result: MethodResult): boolean {
    const call = this.pending.get(rid);
    if (!call || call.identityKey !== identityKey) return false;
    clearTimeout(call.timer);
    this.pending.delete(rid);
    call.resolve(result);
    return true;
  }

  has(rid: string): boolean {
    return this.pending.has(rid);
  }

  /** Fails every waiting call (hub stopping). */
  abortAll(status: number, message: string): void {
    for (const [rid, call] of this.pending) {
      clearTimeout(call.timer);
      call.resolve(errorResult(status, status * 1000 + 1, message));
      this.pending.delete(rid);
    }
  }
}
