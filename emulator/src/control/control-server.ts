// The local control API of a running emulator (`cli.ts start`), so other CLI invocations can add devices,
// send C2D, invoke methods, patch twins, inject faults and watch events. HTTP on 127.0.0.1 only, JSON bodies,
// and a random token (kept in the state folder) so a web page in a browser cannot drive it. The hub explorer page
// (explorer.ts) is served here too: only its static shell and script go out without the token; the page sends the
// token (from its URL fragment) in the same header as every other client.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ImageFault } from '../fota/image-server';
import type { Emulator } from '../emulator';
import type { DeviceAuth, DeviceRecord, DeviceStatus } from '../registry';
import type { FaultWindow, OutOfOrderFault } from '../hub/faults';
import type { IndividualEnrollmentInput, GroupEnrollmentInput } from '../dps/enrollment-types';
import type { DpsFaults, FaultTarget } from '../dps/faults';
import type { LogFeed } from '../log';
import { DeviceActivity, openExplorerStream, serveExplorerPage, serveExplorerScript } from './explorer';
import { EXPLORER_EVENTS_PATH, EXPLORER_PATH, EXPLORER_SCRIPT_PATH } from './explorer-protocol';

export const TOKEN_HEADER = 'x-emulator-token';
const MAX_BODY = 1024 * 1024;
/** What a handler returns when it has taken over the response (the event stream). */
const STREAMING = Symbol('streaming');

export interface ControlServer {
  readonly port: number;
  readonly token: string;
  /** `http://127.0.0.1:{port}/explorer#token={token}` when the page is served (the token stays in the fragment). */
  readonly explorerUrl: string | undefined;
  close(): Promise<void>;
}

export interface ControlServerOptions {
  port?: number;
  token?: string;
  /** The hub explorer's bundled script (emulator/explorer/build.ts); without it `/explorer` answers 404. */
  explorer?: { script: string };
  /** Emulator log lines for the explorer's log pane. */
  logFeed?: LogFeed;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

export interface DeviceView {
  deviceId: string;
  status: DeviceStatus;
  authType: DeviceAuth['type'];
  connected: boolean;
  modules: Array<{ moduleId: string; authType: DeviceAuth['type']; connected: boolean; connectionString?: string }>;
  connectionString?: string;
}

function deviceView(emulator: Emulator, device: DeviceRecord): DeviceView {
  return {
    deviceId: device.deviceId,
    status: device.status,
    authType: device.auth.type,
    connected: emulator.isConnected(device.deviceId),
    connectionString: emulator.connectionString(device.deviceId),
    modules: Object.values(device.modules).map((m) => ({
      moduleId: m.moduleId,
      authType: m.auth.type,
      connected: emulator.isConnected(device.deviceId, m.moduleId),
      connectionString: emulator.connectionString(device.deviceId, m.moduleId),
    })),
  };
}

/** JSON-safe copy of a hub event, its type in `event`: bodies become text when they are UTF-8, base64 otherwise. */
export function eventToJson(kind: string, payload: unknown): Json {
  if (kind === 'telemetry') {
    const { body, ...rest } = payload as { body: Uint8Array };
    const text = Buffer.from(body).toString('utf8');
    const isText = Buffer.from(text, 'utf8').equals(Buffer.from(body));
    return { event: kind, ...rest, ...(isText ? { body: text } : { bodyBase64: Buffer.from(body).toString('base64') }) };
  }
  return { event: kind, ...(payload as Json) };
}

function readBody(req: IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'request body over 1 MB'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size === 0) return resolve({});
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        resolve(parsed as Json);
      } catch {
        reject(new HttpError(400, 'request body must be a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

function str(body: Json, name: string, required = true): string | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new HttpError(400, `${name} must be a non-empty string`);
  return value;
}

function num(body: Json, name: string): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new HttpError(400, `${name} must be a number`);
  return value;
}

/** An optional integer within [min, max]; the error names the field and the range. */
function int(body: Json, name: string, min: number, max: number): number | undefined {
  const value = num(body, name);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) throw new HttpError(400, `${name} must be a whole number from ${min} to ${max}`);
  return value;
}

/** A JSON value given as text (`{name}Json`, what the explorer page sends) or as JSON (`name`). */
function jsonValue(body: Json, name: string): unknown {
  const text = body[`${name}Json`];
  if (text === undefined) return body[name];
  if (typeof text !== 'string') throw new HttpError(400, `${name}Json must be a string of JSON`);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `${name} is not valid JSON: ${(error as Error).message}`);
  }
}

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function c2dProperties(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'properties must be an object of name: text');
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Json)) {
    if (name.length === 0 || CONTROL_CHARS.test(name)) throw new HttpError(400, `property name ${JSON.stringify(name)} must be non-empty, without control characters`);
    if (name.startsWith('$') || name.startsWith('iothub-')) throw new HttpError(400, `property ${name}: names starting with $ or iothub- are the hub's own`);
    if (typeof v !== 'string') throw new HttpError(400, `property ${name} must be text`);
    out[name] = v;
  }
  return out;
}

function c2dOptions(value: unknown): Json {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'options must be an object');
  const options = value as Json;
  const out: Json = {};
  for (const name of ['messageId', 'correlationId', 'contentType', 'contentEncoding']) {
    const v = str(options, name, false);
    if (v !== undefined) out[name] = v;
  }
  const ttlMs = int(options, 'ttlMs', 1, 2 * 24 * 3600 * 1000);
  if (ttlMs !== undefined) out.ttlMs = ttlMs;
  const unknown = Object.keys(options).filter((k) => !['messageId', 'correlationId', 'contentType', 'contentEncoding', 'ttlMs'].includes(k));
  if (unknown.length > 0) throw new HttpError(400, `unknown C2D option ${unknown[0]}`);
  return out;
}

function windowOf(body: Json): FaultWindow {
  const window: FaultWindow = {};
  const count = int(body, 'count', 1, 1_000_000);
  const durationMs = int(body, 'durationMs', 1, 24 * 3600 * 1000);
  if (count !== undefined) window.count = count;
  if (durationMs !== undefined) window.durationMs = durationMs;
  return window;
}

function applyFault(emulator: Emulator, body: Json): Json {
  const kind = str(body, 'kind')!;
  const target = str(body, 'target', false) ?? '*';
  const faults = emulator.faults;
  switch (kind) {
    case 'drop':
      return { dropped: faults.dropConnection(target, { graceful: body.graceful === true }) };
    case 'drop-after-bytes':
      faults.dropAfterBytes(target, int(body, 'bytes', 0, 1 << 30) ?? 0);
      return {};
    case 'drop-mid-packet':
      faults.dropMidPacket(target);
      return {};
    case 'withhold-pubacks':
      faults.withholdPubacks(target, windowOf(body));
      return {};
    case 'twin': {
      const status = int(body, 'status', 100, 599);
      const delayMs = int(body, 'delayMs', 0, 600_000);
      faults.twinResponses(target, { ...(status === undefined ? {} : { status }), ...(delayMs === undefined ? {} : { delayMs }), drop: body.drop === true }, windowOf(body));
      return {};
    }
    case 'method': {
      const delayMs = int(body, 'delayMs', 0, 600_000);
      faults.methodResponses(target, { ...(delayMs === undefined ? {} : { delayMs }), drop: body.drop === true }, windowOf(body));
      return {};
    }
    case 'late-subscription': {
      const holdMs = int(body, 'holdMs', 0, 600_000);
      if (holdMs === undefined) throw new HttpError(400, 'holdMs must be a number');
      faults.lateSubscription(target, { holdMs }, windowOf(body));
      return {};
    }
    case 'out-of-order': {
      const hold = str(body, 'hold', false);
      const after = int(body, 'after', 1, 1000);
      const maxHoldMs = int(body, 'maxHoldMs', 0, 600_000);
      faults.outOfOrder(
        target,
        {
          ...(hold === undefined ? {} : { hold: hold as OutOfOrderFault['hold'] }),
          ...(after === undefined ? {} : { after }),
          ...(maxHoldMs === undefined ? {} : { maxHoldMs }),
        },
        windowOf(body),
      );
      return {};
    }
    case 'refuse-connect':
      faults.refuseConnect(target, int(body, 'returnCode', 1, 5) ?? 3, windowOf(body));
      return {};
    case 'latency':
      faults.latency(target, { inboundMs: int(body, 'inboundMs', 0, 60_000) ?? 0, outboundMs: int(body, 'outboundMs', 0, 60_000) ?? 0 });
      return {};
    case 'clear':
      faults.clear(target === '*' ? undefined : target);
      return {};
    default:
      throw new HttpError(400, `unknown fault kind ${kind}`);
  }
}

/** DPS faults (emulator/src/dps/faults.ts) over the control API: `{kind: error|final|drop|latency|clear, ...}`. */
function applyDpsFault(faults: DpsFaults, body: Json): Json {
  const kind = str(body, 'kind')!;
  const requests = str(body, 'requests', false) as FaultTarget | undefined;
  const count = num(body, 'count');
  const common = { ...(count === undefined ? {} : { count }), ...(requests === undefined ? {} : { requests }) };
  if (requests !== undefined && !['register', 'poll', 'any'].includes(requests)) throw new HttpError(400, 'requests must be register, poll or any');
  switch (kind) {
    case 'error': {
      const retryAfterSeconds = num(body, 'retryAfterSeconds');
      const errorCode = num(body, 'errorCode');
      faults.answerWith({
        status: num(body, 'status') ?? 503,
        ...common,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        ...(errorCode === undefined ? {} : { errorCode }),
        ...(typeof body.message === 'string' ? { message: body.message } : {}),
      });
      return {};
    }
    case 'final': {
      const errorCode = num(body, 'errorCode');
      faults.answerFinal({
        status: str(body, 'status') as 'disabled' | 'failed',
        ...common,
        ...(typeof body.operationId === 'string' ? { operationId: body.operationId } : {}),
        ...(errorCode === undefined ? {} : { errorCode }),
        ...(typeof body.errorMessage === 'string' ? { errorMessage: body.errorMessage } : {}),
      });
      return {};
    }
    case 'drop':
      faults.dropConnection(common);
      return {};
    case 'latency':
      faults.setLatency(num(body, 'ms') ?? 0);
      return {};
    case 'clear':
      faults.clear();
      return {};
    default:
      throw new HttpError(400, `unknown DPS fault kind ${kind}`);
  }
}

type Handler = (match: string[], body: Json, req: IncomingMessage, res: ServerResponse) => Promise<unknown> | unknown;

export async function startControlServer(emulator: Emulator, options: ControlServerOptions = {}): Promise<ControlServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const streams = new Set<ServerResponse>();
  const activity = new DeviceActivity(emulator);
  const explorerStreams = new Set<() => void>();
  const requireDevice = (id: string): void => {
    if (!emulator.registry.getDevice(id)) throw new HttpError(404, `device ${id} does not exist`);
  };

  const requireDps = () => {
    const dps = emulator.dps;
    if (!dps) throw new HttpError(409, 'DPS is not running in this emulator');
    return dps;
  };
  const moduleOf = (req: IncomingMessage): string | undefined => new URL(req.url ?? '/', 'http://x').searchParams.get('moduleId') ?? undefined;

  const routes: Array<[string, RegExp, Handler]> = [
    ['GET', /^\/status$/, () => ({
      hubHostName: emulator.hubHostName,
      hubPort: emulator.hubPort,
      dpsPort: emulator.dpsPort,
      idScope: emulator.dps?.idScope,
      caFile: emulator.caFile,
      stateDir: emulator.stateDir,
    })],
    ['GET', /^\/devices$/, () => emulator.registry.listDevices().map((d) => deviceView(emulator, d))],
    ['POST', /^\/devices$/, (_m, body) => {
      const deviceId = str(body, 'deviceId')!;
      const device = emulator.registry.addDevice({
        deviceId,
        auth: body.auth as DeviceAuth | undefined,
        status: body.status as DeviceStatus | undefined,
      });
      return deviceView(emulator, device);
    }],
    ['DELETE', /^\/devices\/([^/]+)$/, ([id]) => {
      if (!emulator.registry.removeDevice(id)) throw new HttpError(404, `device ${id} does not exist`);
      return {};
    }],
    ['POST', /^\/devices\/([^/]+)\/status$/, ([id], body) => deviceView(emulator, emulator.registry.setStatus(id, str(body, 'status') as DeviceStatus))],
    ['POST', /^\/devices\/([^/]+)\/modules$/, ([id], body) => {
      emulator.registry.addModule(id, str(body, 'moduleId')!, body.auth as DeviceAuth | undefined);
      return deviceView(emulator, emulator.registry.getDevice(id)!);
    }],
    ['POST', /^\/devices\/([^/]+)\/c2d$/, ([id], body) => {
      requireDevice(id);
      const text = typeof body.body === 'string' ? body.body : undefined;
      const base64 = typeof body.bodyBase64 === 'string' ? body.bodyBase64 : undefined;
      if (text === undefined && base64 === undefined) throw new HttpError(400, 'body (text) or bodyBase64 is required');
      const payload = text ?? new Uint8Array(Buffer.from(base64!, 'base64'));
      const properties = c2dProperties(jsonValue(body, 'properties'));
      const messageId = emulator.sendC2D(id, payload, properties, c2dOptions(body.options));
      activity.touch(id);
      return { messageId };
    }],
    ['POST', /^\/devices\/([^/]+)\/methods\/([^/]*)$/, ([id, method], body) => {
      requireDevice(id);
      if (method.length === 0) throw new HttpError(400, 'method name is required');
      if (method.length > 128 || CONTROL_CHARS.test(method)) throw new HttpError(400, 'method name must be at most 128 characters, without control characters');
      const payload = jsonValue(body, 'payload');
      const timeoutMs = int(body, 'timeoutMs', 1, 300_000);
      activity.touch(id);
      return emulator.invokeMethod(id, method, payload, { moduleId: str(body, 'moduleId', false), timeoutMs });
    }],
    ['GET', /^\/devices\/([^/]+)\/twin$/, ([id], _b, req) => emulator.getTwin(id, moduleOf(req))],
    ['PATCH', /^\/devices\/([^/]+)\/twin$/, ([id], body, req) => {
      requireDevice(id);
      const desired = jsonValue(body, 'desired');
      if (desired === null || typeof desired !== 'object' || Array.isArray(desired)) throw new HttpError(400, 'desired must be a JSON object');
      return emulator.patchDesired(id, desired as Json, moduleOf(req));
    }],
    ['POST', /^\/devices\/([^/]+)\/fota$/, async ([id], body) => {
      const firmware = body.firmware;
      if (firmware === null || typeof firmware !== 'object' || Array.isArray(firmware)) throw new HttpError(400, 'firmware must be a JSON object');
      const image = str(body, 'imageBase64')!;
      const deployed = await emulator.deployFirmware(id, new Uint8Array(Buffer.from(image, 'base64')), firmware as Json);
      return { firmware: deployed };
    }],
    ['POST', /^\/fota\/faults$/, async (_m, body) => {
      const images = await emulator.fotaImages();
      if (body.kind === 'clear') images.clearFaults();
      else images.inject(body as unknown as ImageFault);
      return {};
    }],
    ['GET', /^\/telemetry$/, (_m, _b, req) => {
      const deviceId = new URL(req.url ?? '/', 'http://x').searchParams.get('deviceId') ?? undefined;
      return emulator.telemetry(deviceId).map((t) => eventToJson('telemetry', t));
    }],
    ['GET', /^\/connections$/, () => emulator.connectionLog()],
    ['POST', /^\/faults$/, (_m, body) => applyFault(emulator, body)],
    ['POST', /^\/certificate-authorities$/, (_m, body) => {
      const ca = emulator.registry.addCertificateAuthority(str(body, 'name')!, str(body, 'certPem')!);
      return { name: ca.name, thumbprint: ca.thumbprint };
    }],
    ['GET', /^\/dps\/enrollments$/, () => requireDps().enrollments.list()],
    ['POST', /^\/dps\/faults$/, (_m, body) => applyDpsFault(requireDps().faults, body)],
    ['POST', /^\/dps\/enrollments\/individual$/, (_m, body) =>
      requireDps().enrollments.addIndividual(body.input as IndividualEnrollmentInput, { replace: body.replace === true })],
    ['POST', /^\/dps\/enrollments\/group$/, (_m, body) =>
      requireDps().enrollments.addGroup(body.input as GroupEnrollmentInput, { replace: body.replace === true })],
    ['DELETE', /^\/dps\/enrollments\/individual\/([^/]+)$/, ([id]) => ({ removed: requireDps().enrollments.removeIndividual(id) })],
    ['DELETE', /^\/dps\/enrollments\/group\/([^/]+)$/, ([id]) => ({ removed: requireDps().enrollments.removeGroup(id) })],
    ['GET', new RegExp(`^${EXPLORER_EVENTS_PATH}$`), (_m, _b, _req, res) => {
      const end = openExplorerStream(emulator, activity, options.logFeed, res);
      explorerStreams.add(end);
      res.on('close', () => explorerStreams.delete(end));
      return STREAMING;
    }],
    ['GET', /^\/events$/, (_m, _b, _req, res) => {
      // Newline-delimited JSON, one event per line, until the client goes away.
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const offs = (['telemetry', 'connection', 'c2d', 'twin', 'fault'] as const).map((kind) =>
        emulator.on(kind, (payload) => res.write(`${JSON.stringify(eventToJson(kind, payload))}\n`)),
      );
      streams.add(res);
      res.on('close', () => {
        streams.delete(res);
        for (const off of offs) off();
      });
      return STREAMING;
    }],
  ];

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        // The explorer's shell and script hold no state: the only answers given without the token.
        const pagePath = req.method === 'GET' ? new URL(req.url ?? '/', 'http://x').pathname : '';
        if (pagePath === EXPLORER_PATH || pagePath === EXPLORER_SCRIPT_PATH) {
          if (!options.explorer) throw new HttpError(404, 'this control server does not serve the explorer page');
          if (pagePath === EXPLORER_PATH) serveExplorerPage(res);
          else serveExplorerScript(res, options.explorer.script);
          return;
        }
        const presented = Buffer.from(String(req.headers[TOKEN_HEADER] ?? ''));
        const expected = Buffer.from(token);
        if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw new HttpError(401, 'missing or wrong control token');
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        const route = routes.find(([method, pattern]) => method === req.method && pattern.test(path));
        if (!route) throw new HttpError(404, `no route ${req.method} ${path}`);
        const match = route[1].exec(path)!.slice(1).map((part) => decodeURIComponent(part));
        const body = req.method === 'GET' || req.method === 'DELETE' ? {} : await readBody(req);
        const result = await route[2](match, body, req, res);
        if (result === STREAMING) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(result ?? {}));
      } catch (error) {
        const status = error instanceof HttpError ? error.status : 400;
        if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    token,
    explorerUrl: options.explorer ? `http://127.0.0.1:${port}${EXPLORER_PATH}#token=${token}` : undefined,
    close: async () => {
      activity.close();
      for (const end of explorerStreams) end();
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
