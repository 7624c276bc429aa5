// The device process of the journal soak (soak/journal-soak.ts starts it, kills it with SIGKILL, starts it again).
// The Node host's real parts: TLS transport, timers, clock, crypto, the file store, and the telemetry journal on
// it. It takes one reading every intervalMs until `total` readings have been journaled: reading k is the journal's
// sequence number k, so after a kill the next process carries on from the first number the journal does not hold
// (a reading that was never journaled is taken again, with the same number and $.mid, as a sensor would).
// stdout, one line each: `B <nextSeq> <depth>` at start, `J <seq>` once a reading is on flash, `W <text>` warnings.

import { createNodeClock, createNodeCrypto, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node';
import { FileStore } from '../../hosts/node/file-store';
import { HubClient } from '../../src/hub/hub-client';
import { TelemetryJournal } from '../../src/storage/telemetry-journal';
import { journaling } from '../../src/hub/journal-sender';

export interface JournalDeviceConfig {
  connectionString: string;
  caDerBase64: string;
  port: number;
  storePath: string;
  total: number;
  intervalMs: number;
  budgetBytes: number;
  segmentBytes: number;
  flushMs: number;
}

const config = JSON.parse(process.env['JOURNAL_DEVICE'] ?? '{}') as JournalDeviceConfig;
const out = (line: string): void => void process.stdout.write(`${line}\n`);

const crypto = createNodeCrypto();
const clock = createNodeClock();
const timers = createNodeTimers();
const store = new FileStore({ path: config.storePath });
const journal = new TelemetryJournal({
  store,
  budgetBytes: config.budgetBytes,
  segmentBytes: config.segmentBytes,
  newId: () => new DataView(crypto.randomBytes(4).buffer).getUint32(0),
  unixSeconds: () => (clock.unixMs() ?? 0) / 1000,
  log: (level, message) => out(`W ${level} ${message}`),
});
out(`B ${journal.nextSeq} ${journal.stats().depth}`);

const client = new HubClient(
  { transport: createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 3000, closeGraceMs: 100 }), timers, clock, crypto, logger: { log: (level, message) => level === 'error' && out(`W ${message}`) } },
  {
    credentials: { kind: 'connection-string', connectionString: config.connectionString },
    trustedCAs: [new Uint8Array(Buffer.from(config.caDerBase64, 'base64'))],
    endpoint: { host: '127.0.0.1', port: config.port, serverName: 'localhost' },
    journal: journaling(journal),
    journalFlushMs: config.flushMs,
    maxInflightTelemetry: 16,
    ackTimeoutMs: 1500,
    keepAliveSeconds: 30,
    backoff: { minDelayMs: 20, maxDelayMs: 1000, maxJitterMs: 50, throttledMinMs: 50, throttledMaxMs: 300 },
    stoppedRetryMs: 1000,
  },
);
client.connect().catch(() => undefined);

let busy = false;
function tick(): void {
  if (busy || journal.nextSeq >= config.total) return;
  const k = journal.nextSeq;
  const sent = client.sendTelemetry(JSON.stringify({ k, t: Date.now() }), { properties: { k: String(k) }, systemProperties: { contentType: 'application/json' } });
  if (journal.nextSeq === k) {
    // Refused (the journal was full or the store failing): the same reading is tried again on the next tick.
    sent.catch((error: unknown) => out(`W refused ${k}: ${(error as Error).message}`));
    busy = true;
    setTimeout(() => (busy = false), 100);
    return;
  }
  sent.then(
    () => out(`J ${k}`),
    (error: unknown) => out(`W ${k} ${(error as Error).message}`),
  );
}
setInterval(tick, config.intervalMs);
