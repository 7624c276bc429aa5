// The page's way to the control server: the token from the URL fragment (kept in sessionStorage and removed
// from the address bar, so it is never sent in a URL, a Referer or a copied link), sent as `x-emulator-token`.
import type { ExplorerEventName, ExplorerEvents } from '../../src/control/explorer-protocol';
import { EXPLORER_EVENTS_PATH } from '../../src/control/explorer-protocol';

const TOKEN_HEADER = 'x-emulator-token';
const STORAGE_KEY = 'emulator-control-token';

export function takeToken(): string | undefined {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromUrl = fragment.get('token');
  if (fromUrl) {
    sessionStorage.setItem(STORAGE_KEY, fromUrl);
    history.replaceState(null, '', location.pathname);
    return fromUrl;
  }
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  constructor(private readonly token: string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: { [TOKEN_HEADER]: this.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ApiError(0, `the emulator did not answer (${(error as Error).message}); is it still running?`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new ApiError(response.status, `unexpected answer (${response.status}): ${text.slice(0, 200)}`);
    }
    if (!response.ok) {
      const message = typeof parsed === 'object' && parsed !== null && 'error' in parsed ? String((parsed as { error: unknown }).error) : text;
      throw new ApiError(response.status, message);
    }
    return parsed as T;
  }

  /**
   * Reads the Server-Sent Events stream (over fetch, so the token goes in a header, which EventSource cannot do)
   * and calls `onEvent` for each event; reconnects after a loss, each time starting with a fresh snapshot.
   */
  stream(
    onEvent: <K extends ExplorerEventName>(name: K, data: ExplorerEvents[K]) => void,
    onState: (state: 'connecting' | 'live' | 'lost', why?: string) => void,
  ): () => void {
    let stopped = false;
    let controller: AbortController | undefined;
    const run = async (): Promise<void> => {
      let delay = 500;
      while (!stopped) {
        onState('connecting');
        controller = new AbortController();
        try {
          const response = await fetch(EXPLORER_EVENTS_PATH, { headers: { [TOKEN_HEADER]: this.token }, signal: controller.signal });
          if (!response.ok || !response.body) {
            const text = await response.text();
            let message = text;
            try {
              message = String((JSON.parse(text) as { error?: unknown }).error ?? text);
            } catch {
              // keep the text
            }
            throw new Error(`${response.status} ${message}`);
          }
          onState('live');
          delay = 500;
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              let name = '';
              let data = '';
              for (const line of block.split('\n')) {
                if (line.startsWith('event: ')) name = line.slice(7);
                else if (line.startsWith('data: ')) data += line.slice(6);
              }
              if (name !== '' && data !== '') onEvent(name as ExplorerEventName, JSON.parse(data) as ExplorerEvents[ExplorerEventName]);
            }
          }
          onState('lost', 'the emulator closed the event stream');
        } catch (error) {
          if (stopped) return;
          onState('lost', (error as Error).message);
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    };
    void run();
    return () => {
      stopped = true;
      controller?.abort();
    };
  }
}
