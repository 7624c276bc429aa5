// The hub explorer: devices, telemetry (table and chart), twin, direct methods, C2D, faults, DPS and the log,
// all from the event stream. Actions go to the control API, which validates them; its error text is shown
// beside the action that failed.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api';
import { Chart } from './chart';
import type { Store, TelemetryRow } from './store';

type Props = { store: Store; api: Api };

function ago(iso: string | undefined, now: number): string {
  if (iso === undefined) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

function time(iso: string): string {
  return iso.slice(11, 23);
}

function ErrorLine(props: { error: string | undefined; testid: string }) {
  return props.error ? (
    <p class="error" role="alert" data-testid={props.testid}>
      {props.error}
    </p>
  ) : null;
}

/** Runs an action, keeps its error text (the server's) for the panel. */
function useAction(): [string | undefined, boolean, (run: () => Promise<void>) => void] {
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const go = (run: () => Promise<void>): void => {
    setBusy(true);
    setError(undefined);
    run().then(
      () => setBusy(false),
      (e: unknown) => {
        setBusy(false);
        setError((e as Error).message);
      },
    );
  };
  return [error, busy, go];
}

/** A number field's text as the request carries it: a number when it reads as one, else the text (the server says why not). */
function numberOrText(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

function Devices({ store, now }: { store: Store; now: number }) {
  return (
    <section class="card devices">
      <h2>Devices</h2>
      {store.devices.length === 0 ? <p class="muted">No devices registered yet.</p> : null}
      <table data-testid="devices">
        <thead>
          <tr>
            <th>device</th>
            <th>state</th>
            <th>auth</th>
            <th>last activity</th>
          </tr>
        </thead>
        <tbody>
          {store.devices.map((d) => (
            <tr
              key={d.deviceId}
              data-device={d.deviceId}
              data-state={d.connected ? 'connected' : 'disconnected'}
              class={d.deviceId === store.selected ? 'selected' : ''}
              onClick={() => store.select(d.deviceId)}
            >
              <td>
                <button class="link">{d.deviceId}</button>
                {d.status === 'disabled' ? <span class="badge off">disabled</span> : null}
              </td>
              <td>
                <span class={`badge ${d.connected ? 'on' : 'off'}`} data-testid="state">
                  {d.connected ? 'connected' : 'disconnected'}
                </span>
                {!d.connected && d.lastDisconnect ? (
                  <span class="muted small" title={d.lastDisconnect.detail}>
                    {' '}
                    {d.lastDisconnect.reason}
                  </span>
                ) : null}
              </td>
              <td>{d.authType}</td>
              <td title={d.lastActivity ?? ''}>{ago(d.lastActivity, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function props(record: Record<string, string | null>): string {
  return Object.entries(record)
    .map(([k, v]) => (v === null ? k : `${k}=${v}`))
    .join(' ');
}

function Telemetry({ store }: { store: Store }) {
  const rows: TelemetryRow[] = store.telemetry.slice(0, 25);
  const series = store.selected === undefined ? undefined : store.series.get(store.selected);
  return (
    <section class="card telemetry">
      <h2>
        Telemetry <span class="muted small">{store.telemetryCount} received; chart: {store.selected ?? '-'}</span>
      </h2>
      <Chart deviceId={store.selected} series={series} version={store.telemetryCount} />
      <div class="scroll">
        <table data-testid="telemetry" data-count={String(store.telemetryCount)}>
          <thead>
            <tr>
              <th>received</th>
              <th>device</th>
              <th>body</th>
              <th>properties</th>
              <th>system</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.seq} data-testid="telemetry-row">
                <td>{time(m.receivedAt)}</td>
                <td>{m.moduleId ? `${m.deviceId}/${m.moduleId}` : m.deviceId}</td>
                <td class="mono">{m.body ?? `(base64) ${m.bodyBase64 ?? ''}`}</td>
                <td class="mono">{props(m.properties)}</td>
                <td class="mono small">{props(m.systemProperties)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Twin({ store, api, deviceId }: Props & { deviceId: string }) {
  const twin = store.twin(deviceId);
  const [patch, setPatch] = useState('{"telemetryInterval": 2000}');
  const [error, busy, go] = useAction();
  const [result, setResult] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (twin.loaded) return;
    twin.loaded = true;
    go(async () => {
      const read = await api.call<{ desired: Record<string, unknown>; reported: Record<string, unknown> }>('GET', `/devices/${encodeURIComponent(deviceId)}/twin`);
      twin.desired = read.desired;
      twin.reported = read.reported;
      store.changed();
    });
  }, [deviceId]);
  const send = (): void =>
    go(async () => {
      setResult(undefined);
      const answer = await api.call<{ desired: { $version: number } }>('PATCH', `/devices/${encodeURIComponent(deviceId)}/twin`, { desiredJson: patch });
      setResult(`desired version ${answer.desired.$version}`);
    });
  return (
    <section class="card twin">
      <h2>Twin</h2>
      <div class="cols">
        <div>
          <h3>desired (version {String(twin.desired['$version'] ?? '-')})</h3>
          <pre data-testid="twin-desired">{JSON.stringify(twin.desired, null, 1)}</pre>
        </div>
        <div>
          <h3>reported (version {String(twin.reported['$version'] ?? '-')})</h3>
          <pre data-testid="twin-reported">{JSON.stringify(twin.reported, null, 1)}</pre>
        </div>
      </div>
      <label>
        desired patch (JSON; null deletes)
        <textarea data-testid="twin-patch" rows={2} value={patch} onInput={(e) => setPatch((e.target as HTMLTextAreaElement).value)} />
      </label>
      <button data-testid="twin-send" disabled={busy} onClick={send}>
        Update desired
      </button>
      {result ? <span class="ok" data-testid="twin-result"> {result}</span> : null}
      <ErrorLine error={error} testid="twin-error" />
      <h3>updates</h3>
      <ul class="updates" data-testid="twin-updates">
        {twin.updates.map((u) => (
          <li key={`${u.section}-${u.version}-${u.at}`} data-section={u.section}>
            <span class={`badge ${u.section === 'reported' ? 'on' : 'info'}`}>{u.section === 'reported' ? 'device ack' : 'desired'}</span> v{u.version}{' '}
            <span class="mono">{JSON.stringify(u.patch)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Methods({ api, deviceId }: Props & { deviceId: string }) {
  const [name, setName] = useState('getStatus');
  const [payload, setPayload] = useState('null');
  const [timeout, setTimeoutText] = useState('10');
  const [error, busy, go] = useAction();
  const [answer, setAnswer] = useState<{ status: number; payload: unknown } | undefined>(undefined);
  const invoke = (): void =>
    go(async () => {
      setAnswer(undefined);
      const seconds = numberOrText(timeout);
      const result = await api.call<{ status: number; payload: unknown }>('POST', `/devices/${encodeURIComponent(deviceId)}/methods/${encodeURIComponent(name)}`, {
        payloadJson: payload,
        ...(seconds === undefined ? {} : { timeoutMs: typeof seconds === 'number' ? Math.round(seconds * 1000) : seconds }),
      });
      setAnswer(result);
    });
  return (
    <section class="card methods">
      <h2>Direct method</h2>
      <div class="row">
        <label>
          name
          <input data-testid="method-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          timeout (s)
          <input data-testid="method-timeout" size={4} value={timeout} onInput={(e) => setTimeoutText((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <label>
        payload (JSON)
        <textarea data-testid="method-payload" rows={2} value={payload} onInput={(e) => setPayload((e.target as HTMLTextAreaElement).value)} />
      </label>
      <button data-testid="method-invoke" disabled={busy} onClick={invoke}>
        {busy ? 'Waiting...' : 'Invoke'}
      </button>
      <ErrorLine error={error} testid="method-error" />
      {answer ? (
        <div data-testid="method-result" data-status={String(answer.status)}>
          <span class={`badge ${answer.status >= 200 && answer.status < 300 ? 'on' : 'off'}`}>status {answer.status}</span>
          <pre>{JSON.stringify(answer.payload, null, 1)}</pre>
        </div>
      ) : null}
    </section>
  );
}

function C2D({ store, api, deviceId }: Props & { deviceId: string }) {
  const [body, setBody] = useState('hello from the explorer');
  const [properties, setProperties] = useState('{"kind": "explorer"}');
  const [ttl, setTtl] = useState('');
  const [error, busy, go] = useAction();
  const send = (): void =>
    go(async () => {
      const ttlSeconds = numberOrText(ttl);
      const result = await api.call<{ messageId: string }>('POST', `/devices/${encodeURIComponent(deviceId)}/c2d`, {
        body,
        propertiesJson: properties,
        ...(ttlSeconds === undefined ? {} : { options: { ttlMs: typeof ttlSeconds === 'number' ? Math.round(ttlSeconds * 1000) : ttlSeconds } }),
      });
      let parsed: Record<string, string> = {};
      try {
        parsed = JSON.parse(properties) as Record<string, string>;
      } catch {
        // the server took it, so it was JSON
      }
      store.addC2D({ messageId: result.messageId, deviceId, body, properties: parsed, sentAt: new Date().toISOString() });
    });
  const mine = store.c2d.filter((m) => m.deviceId === deviceId);
  return (
    <section class="card c2d">
      <h2>Cloud-to-device</h2>
      <label>
        body
        <textarea data-testid="c2d-body" rows={2} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
      </label>
      <div class="row">
        <label class="grow">
          properties (JSON object of text)
          <input data-testid="c2d-properties" value={properties} onInput={(e) => setProperties((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          expires after (s)
          <input data-testid="c2d-ttl" size={4} value={ttl} onInput={(e) => setTtl((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <button data-testid="c2d-send" disabled={busy} onClick={send}>
        Send
      </button>
      <ErrorLine error={error} testid="c2d-error" />
      <ul class="updates" data-testid="c2d-sent">
        {mine.map((m) => (
          <li key={m.messageId} data-message-id={m.messageId} data-outcome={m.outcome ?? 'pending'}>
            <span class={`badge ${m.outcome === 'completed' ? 'on' : m.outcome ? 'off' : 'info'}`}>{m.outcome ?? 'queued'}</span>{' '}
            <span class="mono">{m.body}</span> <span class="muted small">{m.messageId}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

const FAULT_FIELDS: Record<string, string[]> = {
  drop: ['graceful'],
  'drop-after-bytes': ['bytes'],
  'drop-mid-packet': [],
  'withhold-pubacks': ['count', 'durationMs'],
  twin: ['status', 'delayMs', 'drop', 'count', 'durationMs'],
  method: ['delayMs', 'drop', 'count', 'durationMs'],
  'refuse-connect': ['returnCode', 'count', 'durationMs'],
  latency: ['inboundMs', 'outboundMs'],
  'late-subscription': ['holdMs', 'count', 'durationMs'],
  'out-of-order': ['hold', 'after', 'maxHoldMs', 'count'],
  clear: [],
};
const FLAGS = new Set(['graceful', 'drop']);

function Faults({ store, api, deviceId }: Props & { deviceId: string }) {
  const [kind, setKind] = useState('drop');
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, busy, go] = useAction();
  const [done, setDone] = useState<string | undefined>(undefined);
  const fields = FAULT_FIELDS[kind] ?? [];
  const apply = (chosen: string): void =>
    go(async () => {
      setDone(undefined);
      const body: Record<string, unknown> = { kind: chosen, target: deviceId };
      if (chosen === kind) {
        for (const field of fields) {
          const text = values[field] ?? '';
          if (FLAGS.has(field)) {
            if (text === 'true') body[field] = true;
          } else if (field === 'hold') {
            if (text !== '') body[field] = text;
          } else {
            const v = numberOrText(text);
            if (v !== undefined) body[field] = v;
          }
        }
      }
      await api.call('POST', '/faults', body);
      setDone(chosen === 'clear' ? `faults cleared for ${deviceId}` : `${chosen} switched on for ${deviceId}`);
    });
  return (
    <section class="card faults">
      <h2>Fault injection</h2>
      <div class="row">
        <label>
          fault
          <select data-testid="fault-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
            {(store.faultKinds.length > 0 ? store.faultKinds : Object.keys(FAULT_FIELDS))
              .filter((k) => k !== 'clear')
              .map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
          </select>
        </label>
        {fields.map((field) =>
          FLAGS.has(field) ? (
            <label key={field} class="check">
              <input
                type="checkbox"
                data-testid={`fault-${field}`}
                checked={values[field] === 'true'}
                onChange={(e) => setValues({ ...values, [field]: (e.target as HTMLInputElement).checked ? 'true' : '' })}
              />
              {field}
            </label>
          ) : (
            <label key={field}>
              {field}
              <input data-testid={`fault-${field}`} size={7} value={values[field] ?? ''} onInput={(e) => setValues({ ...values, [field]: (e.target as HTMLInputElement).value })} />
            </label>
          ),
        )}
      </div>
      <button data-testid="fault-apply" disabled={busy} onClick={() => apply(kind)}>
        Switch on
      </button>{' '}
      <button data-testid="fault-clear" disabled={busy} onClick={() => apply('clear')}>
        Clear faults
      </button>
      {done ? <span class="ok" data-testid="fault-result"> {done}</span> : null}
      <ErrorLine error={error} testid="fault-error" />
    </section>
  );
}

function Dps({ store }: { store: Store }) {
  return (
    <section class="card dps">
      <h2>DPS {store.dps ? <span class="muted small">id scope {store.dps.idScope}, port {store.dps.port}</span> : <span class="muted small">not running</span>}</h2>
      <h3>enrollments</h3>
      <table data-testid="enrollments">
        <thead>
          <tr>
            <th>kind</th>
            <th>id</th>
            <th>attestation</th>
            <th>status</th>
          </tr>
        </thead>
        <tbody>
          {store.enrollments.map((e) => (
            <tr key={`${e.kind}-${e.id}`}>
              <td>{e.kind}</td>
              <td>{e.id}</td>
              <td>{e.attestation}</td>
              <td>{e.provisioningStatus}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>registrations</h3>
      <table data-testid="registrations">
        <thead>
          <tr>
            <th>registration</th>
            <th>enrollment</th>
            <th>status</th>
            <th>device</th>
            <th>updated</th>
          </tr>
        </thead>
        <tbody>
          {store.registrations.map((r) => (
            <tr key={r.registrationId}>
              <td>{r.registrationId}</td>
              <td>{r.enrollment}</td>
              <td>
                {r.status}
                {r.errorCode === undefined ? '' : ` (${r.errorCode})`}
              </td>
              <td>{r.deviceId ?? '-'}</td>
              <td title={r.lastUpdatedDateTimeUtc}>{r.lastUpdatedDateTimeUtc.slice(11, 19)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Log({ store }: { store: Store }) {
  const box = useRef<HTMLDivElement>(null);
  const last = store.log[store.log.length - 1]?.seq;
  useEffect(() => {
    const element = box.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [last]);
  return (
    <section class="card log">
      <h2>Log</h2>
      <div class="logbox mono" ref={box} data-testid="log">
        {store.log.map((line) => (
          <div key={line.seq} class={`line ${line.level}`}>
            <span class="muted">{time(line.at)}</span> <span class="level">{line.level}</span> {line.message}
          </div>
        ))}
      </div>
    </section>
  );
}

export function App({ store, api }: Props) {
  const [, setTick] = useState(0);
  const [now, setNow] = useState(Date.now());
  useEffect(() => store.onChange(() => setTick((t) => t + 1)), [store]);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const deviceId = store.selected;
  return (
    <div class="page">
      <header>
        <h1>Hub explorer</h1>
        <span class="muted">
          {store.hub ? `hub ${store.hub.hostName} (port ${store.hub.port})` : ''}
          {store.dps ? `, DPS port ${store.dps.port}` : ''}
        </span>
        <span class={`badge ${store.stream === 'live' ? 'on' : 'off'}`} data-testid="stream-state" title={store.streamProblem ?? ''}>
          {store.stream === 'live' ? 'live' : store.stream === 'connecting' ? 'connecting...' : `stream lost: ${store.streamProblem ?? ''}`}
        </span>
      </header>
      <div class="grid">
        <div class="left">
          <Devices store={store} now={now} />
          {deviceId ? <Faults store={store} api={api} deviceId={deviceId} /> : null}
          <Dps store={store} />
        </div>
        <div class="middle">
          <Telemetry store={store} />
          <Log store={store} />
        </div>
        <div class="right">
          {deviceId ? (
            <>
              <p class="selected-device">
                Acting on <strong data-testid="selected-device">{deviceId}</strong> (click a device to choose)
              </p>
              <Twin store={store} api={api} deviceId={deviceId} key={`twin-${deviceId}`} />
              <Methods store={store} api={api} deviceId={deviceId} key={`m-${deviceId}`} />
              <C2D store={store} api={api} deviceId={deviceId} key={`c-${deviceId}`} />
            </>
          ) : (
            <p class="muted">Select a device to see its twin, call methods and send messages.</p>
          )}
        </div>
      </div>
    </div>
  );
}
