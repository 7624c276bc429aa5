// The firmware on the real XS engine (@agoric/xsnap), measured with the worker's meter: compute per QoS 1
// telemetry publish at several payload sizes, per incoming direct-method call and per SAS token, and the live
// heap after 100 and after 10,000 messages. Compute is XS's own deterministic work count (not time); the
// differences between a run of 1 and a run of 1+N operations cancel the per-command overhead.
import { existsSync } from 'node:fs';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';
import { startXsnap, XSNAP_WORKER_PATH, type XsMeter, type XsnapDriver } from '../../tests/helpers/xsnap-driver';
import { sizeLabel } from '../codec/fixtures';
import type { BenchConfig } from '../lib/config';
import { formatBytes, formatCount } from '../lib/format';
import type { Headline, SectionResult } from '../lib/report';

export const HEAP_FLAT_GOAL_PERCENT = 1;
const ENTRY = 'bench/xs/xs-entry.ts';

type Reply = Record<string, number | string | boolean>;

async function call(xs: XsnapDriver, request: object): Promise<{ reply: Reply; meter: XsMeter }> {
  const { reply, meter } = await xs.command(new TextEncoder().encode(JSON.stringify(request)));
  const parsed = JSON.parse(new TextDecoder().decode(reply)) as Reply;
  if (typeof parsed.error === 'string') throw new Error(`XS ${JSON.stringify(request)}: ${parsed.error}`);
  return { reply: parsed, meter };
}

/** Compute of one operation: (run of 1 + n) minus (run of 1), divided by n. */
async function perOperation(xs: XsnapDriver, request: object, n: number, field = 'count'): Promise<{ compute: number; one: Reply; many: Reply }> {
  const one = await call(xs, { ...request, [field]: 1 });
  const many = await call(xs, { ...request, [field]: 1 + n });
  return { compute: (many.meter.compute - one.meter.compute) / n, one: one.reply, many: many.reply };
}

export async function runXsBench(config: BenchConfig): Promise<SectionResult> {
  if (!existsSync(XSNAP_WORKER_PATH)) {
    return { name: 'xs', tables: [], headlines: [], skipped: [`xsnap worker missing at ${XSNAP_WORKER_PATH}: run npm rebuild @agoric/xsnap`] };
  }
  const script = await bundleForXs(ENTRY);
  const { xs: settings } = config;

  const compute = startXsnap({ name: 'bench-xs-compute', meteringLimit: 0 });
  const rows: string[][] = [];
  const pieceRows: string[][] = [];
  const perPublish: number[] = [];
  let setupCompute = 0;
  let methodCompute = 0;
  let sasJs = 0;
  let sasNone = 0;
  try {
    await compute.evaluate(script);
    setupCompute = (await call(compute, { op: 'setup' })).meter.compute;
    for (const size of settings.payloadSizes) {
      const r = await perOperation(compute, { op: 'publish', size }, settings.publishes);
      perPublish.push(r.compute);
      const wire = (Number(r.many.wireBytes) - Number(r.one.wireBytes)) / settings.publishes;
      rows.push([`QoS 1 telemetry publish, ${sizeLabel(size)}`, formatCount(r.compute), `${(r.compute / perPublish[0]).toFixed(2)}x`, formatBytes(wire)]);
    }
    await call(compute, { op: 'prepareMethods', count: 2 + settings.methodCalls });
    methodCompute = (await perOperation(compute, { op: 'methods' }, settings.methodCalls)).compute;
    rows.push(['direct method call (parse, handler, JSON reply)', formatCount(methodCompute), '', '']);
    sasJs = (await perOperation(compute, { op: 'sas', hmac: 'js' }, settings.sasTokens)).compute;
    sasNone = (await perOperation(compute, { op: 'sas', hmac: 'none' }, settings.sasTokens)).compute;
    rows.push(['SAS token, HMAC-SHA-256 in JS', formatCount(sasJs), '', '']);
    rows.push(['SAS token, without the HMAC (a board uses native crypto)', formatCount(sasNone), '', '']);
    rows.push(['connect to ready (token, CONNECT, SUBSCRIBE, twin GET and parse)', formatCount(setupCompute), '', '']);

    const size = settings.payloadSizes[0];
    const topic = (await perOperation(compute, { op: 'topic' }, settings.publishes)).compute;
    const encode = (await perOperation(compute, { op: 'encode', size }, settings.publishes)).compute;
    const puback = (await perOperation(compute, { op: 'puback' }, settings.publishes)).compute;
    const whole = perPublish[0];
    const share = (part: number): string => `${((part / whole) * 100).toFixed(0)}%`;
    pieceRows.push(['telemetry topic and property bag (hub client topic cache, new $.mid each)', formatCount(topic), share(topic)]);
    pieceRows.push(['PUBLISH encoding (encodePublish)', formatCount(encode), share(encode)]);
    pieceRows.push(['PUBACK framing and decoding (MqttStreamParser.push)', formatCount(puback), share(puback)]);
    const rest = whole - topic - encode - puback;
    pieceRows.push(['the rest: hub client, outbox, session, promises, loopback', formatCount(rest), share(rest)]);
    pieceRows.push([`whole publish, ${sizeLabel(size)}`, formatCount(whole), '100%']);
  } finally {
    await compute.close();
  }

  const fota = await runFotaCompute(config);
  rows.push(...fota.rows);

  const heap = startXsnap({ name: 'bench-xs-heap', meteringLimit: 0 });
  const heapRows: string[][] = [];
  let growthPercent = Number.NaN;
  let small = 0;
  let large = 0;
  try {
    await heap.evaluate(script);
    await call(heap, { op: 'setup' });
    const idle = (await call(heap, { op: 'gc' })).meter;
    await call(heap, { op: 'publish', count: settings.heapSmall, size: 256 });
    const afterSmall = (await call(heap, { op: 'gc' })).meter;
    await call(heap, { op: 'publish', count: settings.heapLarge - settings.heapSmall, size: 256 });
    const afterLarge = (await call(heap, { op: 'gc' })).meter;
    small = afterSmall.currentHeapCount;
    large = afterLarge.currentHeapCount;
    growthPercent = ((large - small) / small) * 100;
    const slotRow = (label: string, meter: XsMeter): string[] => [
      label,
      meter.currentHeapCount.toLocaleString('en-US'),
      formatBytes(meter.currentHeapCount * 32),
      formatBytes(meter.currentHeapCount * 16),
    ];
    heapRows.push(slotRow('connected, before any telemetry', idle));
    heapRows.push(slotRow(`after ${settings.heapSmall.toLocaleString('en-US')} messages`, afterSmall));
    heapRows.push(slotRow(`after ${settings.heapLarge.toLocaleString('en-US')} messages`, afterLarge));
  } finally {
    await heap.close();
  }

  const flat = Math.abs(growthPercent) <= HEAP_FLAT_GOAL_PERCENT;
  const headlines: Headline[] = [
    {
      section: 'xs',
      metric: `XS live heap, ${settings.heapLarge.toLocaleString('en-US')} vs ${settings.heapSmall} messages`,
      ours: `${large.toLocaleString('en-US')} vs ${small.toLocaleString('en-US')} slots`,
      peer: '',
      comparison: `${growthPercent >= 0 ? '+' : ''}${growthPercent.toFixed(2)}%`,
      goal: `flat (within ${HEAP_FLAT_GOAL_PERCENT}%)`,
      verdict: Number.isFinite(growthPercent) ? (flat ? 'met' : 'short') : 'skipped',
      shortfall: flat ? undefined : `grew ${growthPercent.toFixed(2)}% (${(large - small).toLocaleString('en-US')} slots)`,
    },
    {
      section: 'xs',
      metric: `XS compute per QoS 1 publish, ${sizeLabel(settings.payloadSizes[0])} to ${sizeLabel(settings.payloadSizes[settings.payloadSizes.length - 1])}`,
      ours: perPublish.map(formatCount).join(' / '),
      peer: '',
      comparison: '',
      goal: '',
      verdict: 'info',
    },
    fota.headline,
    { section: 'xs', metric: 'XS compute per method call / per SAS token (JS HMAC)', ours: `${formatCount(methodCompute)} / ${formatCount(sasJs)}`, peer: '', comparison: '', goal: '', verdict: 'info' },
  ];
  return {
    name: 'xs',
    skipped: [],
    headlines,
    tables: [
      {
        title: `XS engine (xsnap, XS 13.3): compute per operation (meter units, deterministic), ${settings.publishes} operations after one`,
        header: ['operation', 'compute', 'vs smallest', 'MQTT bytes per message'],
        rows,
        notes: [
          'compute counts XS work; it does not depend on the machine or its load, so it needs no repeated runs. Built-ins that copy memory are metered by size, which is most of the growth with payload size.',
          'Publishes go through the whole hub client (topic with $.mid, $.ct, $.ce and one property, MQTT session, codec) to a loopback hub inside XS that answers each with a PUBACK.',
          'Method calls: the hub client parses the request topic and JSON body, runs a handler and publishes its JSON reply.',
        ],
      },
      {
        title: `Where the compute of one ${sizeLabel(settings.payloadSizes[0])} publish goes (the pieces run alone, same method)`,
        header: ['piece', 'compute', 'share'],
        rows: pieceRows,
      },
      {
        title: 'XS live heap (after a full GC), 256 B telemetry',
        header: ['moment', 'live slots', 'x 32 B (64-bit)', 'x 16 B (ESP32)'],
        rows: heapRows,
        notes: [
          `Goal: flat, i.e. the live slot count after ${settings.heapLarge.toLocaleString('en-US')} messages within ${HEAP_FLAT_GOAL_PERCENT}% of the count after ${settings.heapSmall}. The whole bundle (client, loopback hub, benchmark driver) is in the count.`,
        ],
      },
    ],
  };
}

/**
 * FOTA's image check on XS: the streaming SHA-256 per KB (1 KB updates, as fragments arrive) beside the core's
 * one-shot sha256() per KB, and one tweetnacl Ed25519 verify of a manifest (tests/fota/fota-xs-entry.ts).
 */
async function runFotaCompute(config: BenchConfig): Promise<{ rows: string[][]; headline: Headline }> {
  const { signedFirmware, VENDOR_A, VENDOR_B, image } = await import('../../tests/fota/fota-fixture');
  const xs = startXsnap({ name: 'bench-xs-fota', meteringLimit: 0 });
  const smoke = config.profile === 'smoke';
  const kb = smoke ? 16 : 256;
  const verifies = smoke ? 1 : 3;
  try {
    await xs.evaluate(await bundleForXs('tests/fota/fota-xs-entry.ts'));
    const firmware = signedFirmware(image(1000), { version: '1.2.0' });
    const keys = [VENDOR_A.publicKey, VENDOR_B.publicKey].map((k) => Buffer.from(k).toString('base64'));
    const streaming = (await perOperation(xs, { op: 'hash', kb: 1 }, kb, 'kb')).compute;
    const oneShot = (await perOperation(xs, { op: 'oneshot', kb: 1 }, kb, 'kb')).compute;
    const verify = (await perOperation(xs, { op: 'verify', firmware, keys }, verifies)).compute;
    return {
      rows: [
        [`FOTA: SHA-256 per KB, streaming (1 KB updates; ${kb} KB measured)`, formatCount(streaming), '', ''],
        ['core: SHA-256 per KB, one-shot sha256() (fingerprints)', formatCount(oneShot), '', ''],
        [`FOTA: Ed25519 manifest verify (tweetnacl nacl.sign.detached.verify; ${verifies} measured)`, formatCount(verify), '', ''],
      ],
      headline: {
        section: 'xs',
        metric: 'XS compute, FOTA: SHA-256 per KB streaming vs one-shot / per Ed25519 verify',
        ours: `${formatCount(streaming)} vs ${formatCount(oneShot)} / ${formatCount(verify)}`,
        peer: '',
        comparison: `${(streaming / oneShot).toFixed(2)}x the one-shot per KB`,
        goal: '',
        verdict: 'info',
      },
    };
  } finally {
    await xs.close();
  }
}
