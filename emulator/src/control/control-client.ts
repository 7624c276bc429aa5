// The other side of the control API: how a second CLI invocation finds the running emulator (control.json in
// the state folder) and talks to it.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TOKEN_HEADER } from './control-server';
import type { DpsEnrollmentControl } from '../dps/cli-commands';
import type { GroupEnrollment, IndividualEnrollment } from '../dps/enrollment-types';

export interface ControlInfo {
  port: number;
  token: string;
  pid: number;
  hubHostName: string;
  hubPort: number;
  dpsPort?: number;
  idScope?: string;
  caFile?: string;
}

export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export function controlFilePath(stateDir: string): string {
  return join(stateDir, 'control.json');
}

export function writeControlInfo(stateDir: string, info: ControlInfo): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(controlFilePath(stateDir), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
}

export function readControlInfo(stateDir: string): ControlInfo | undefined {
  const path = controlFilePath(stateDir);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ControlInfo;
  } catch {
    return undefined;
  }
}

export function removeControlInfo(stateDir: string): void {
  rmSync(controlFilePath(stateDir), { force: true });
}

export class ControlClient {
  constructor(readonly info: ControlInfo) {}

  private open(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: this.info.port,
          method,
          path,
          headers: { [TOKEN_HEADER]: this.info.token, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
        },
        resolve,
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.open(method, path, body);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      throw new ControlError(res.statusCode ?? 500, `emulator answered non-JSON: ${text.slice(0, 200)}`);
    }
    if ((res.statusCode ?? 500) >= 400) {
      throw new ControlError(res.statusCode ?? 500, (parsed as { error?: string }).error ?? `HTTP ${res.statusCode}`);
    }
    return parsed as T;
  }

  /** Streams hub events until `close()` or until the emulator stops. */
  async events(onEvent: (event: Record<string, unknown>) => void): Promise<{ close(): void; done: Promise<void> }> {
    const res = await this.open('GET', '/events');
    if ((res.statusCode ?? 500) >= 400) throw new ControlError(res.statusCode ?? 500, 'event stream refused');
    let buffered = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim().length > 0) onEvent(JSON.parse(line) as Record<string, unknown>);
      }
    });
    const done = new Promise<void>((resolve) => {
      res.on('close', () => resolve());
      res.on('error', () => resolve());
    });
    return { close: () => res.destroy(), done };
  }

  /** The DPS enrollment commands (emulator/src/dps/cli-commands.ts) run against the live DPS through this. */
  dpsControl(): DpsEnrollmentControl {
    return {
      addIndividual: (input, options) => this.request<IndividualEnrollment>('POST', '/dps/enrollments/individual', { input, replace: options?.replace === true }),
      addGroup: (input, options) => this.request<GroupEnrollment>('POST', '/dps/enrollments/group', { input, replace: options?.replace === true }),
      removeIndividual: async (id) => (await this.request<{ removed: boolean }>('DELETE', `/dps/enrollments/individual/${encodeURIComponent(id)}`)).removed,
      removeGroup: async (id) => (await this.request<{ removed: boolean }>('DELETE', `/dps/enrollments/group/${encodeURIComponent(id)}`)).removed,
      list: () => this.request<{ individual: IndividualEnrollment[]; groups: GroupEnrollment[] }>('GET', '/dps/enrollments'),
    };
  }
}
