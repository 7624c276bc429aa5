// Footprint: the minified bundle of each layer of src/ and, when the Moddable SDK is at hand, the XS bytecode
// each layer compiles to, next to the published sizes of Moddable's own MQTT client and Azure's Embedded C SDK.
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from '../lib/config';
import { formatBytes } from '../lib/format';
import { shortfallText, type Headline, type SectionResult, type Table } from '../lib/report';
import { bundleSize } from './bundle-size';
import { footprintLayers, WHOLE_CLIENT_LAYER } from './layers';
import { buildXsb, type XsbSizes } from './moddable-build';
import { HEAP_BUDGET_BYTES, heapBytes, searchSmallestHeap, type HeapSearch, type HeapTry } from './heap-search';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Published: Moddable's modules/network/mqtt/mqtt.js, QoS 0 only (measured on these machines, see moddable-notes). */
export const MODDABLE_MQTT_PUBLISHED_BYTES = 9389;
/** Published: Azure SDK for Embedded C, hub + DPS + IoT Plug and Play, ROM. */
export const EMBEDDED_C_PUBLISHED_KB = 26.15;
export const WHOLE_CLIENT_GOAL_KB = 26;
/** Issue 11: our own .xsb (src/ + hosts/moddable/) at most 128 KB. */
export const OUR_XSB_GOAL_BYTES = 128 * 1024;

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(2)} KB`;
}

/** Modules with no code of their own (types, re-exports) have no .xsb and count nothing. */
function xsbOf(modules: string[], sizes: XsbSizes): number {
  return modules.reduce((sum, path) => sum + (sizes.modules.get(path.replace(/\.ts$/, '')) ?? 0), 0);
}

export async function runFootprintBench(config: BenchConfig): Promise<SectionResult> {
  const layers = footprintLayers(REPO_ROOT);
  const bundles = await Promise.all(layers.map((layer) => bundleSize(REPO_ROOT, layer.entries)));
  const xsb = config.profile === 'smoke' && !process.env.BENCH_SMOKE_XSB ? { ok: false as const, reason: 'smoke run: XS bytecode build skipped' } : await buildXsb(REPO_ROOT);
  const skipped = xsb.ok ? [] : [xsb.reason];

  const rows = layers.map((layer, i) => {
    const bundle = bundles[i];
    const row = [layer.name, `${bundle.modules.length}`, formatBytes(bundle.bytes), formatBytes(bundle.gzipBytes)];
    row.push(xsb.ok ? formatBytes(xsbOf(bundle.modules, xsb.sizes)) : 'skipped');
    return row;
  });
  rows.push(['Moddable mqtt.js, QoS 0 only (published)', '1', '', '', formatBytes(MODDABLE_MQTT_PUBLISHED_BYTES)]);
  if (xsb.ok && xsb.sizes.moddableMqtt !== undefined) {
    rows.push(['Moddable mqtt.js, compiled here with the same xsc options', '1', '', '', formatBytes(xsb.sizes.moddableMqtt)]);
  }
  rows.push(['Azure SDK for Embedded C: hub + DPS + PnP, ROM (published)', '', '', '', `${EMBEDDED_C_PUBLISHED_KB} KB`]);

  const tables: Table[] = [
    {
      title: 'Footprint per layer: minified bundle (esbuild, minify, iife, es2022) and XS bytecode (mcconfig -m -p lin)',
      header: ['layer', 'modules', 'minified', 'gzip -9', 'XS bytecode (.xsb)'],
      rows,
      notes: [
        'Each layer counts every src/ module it imports (a layer cannot ship without them), so the rows overlap; "whole client" is the hub client and the DPS client together with everything they use.',
        'XS bytecode is the sum of the .xsb files mcconfig compiled for those modules (release, from the top-level manifest). Each .xsb carries its own names and strings; linking the ROM image stores shared names once, so the sum is an upper bound on what our code adds to flash (the runtime and TLS stack come on top, the same for any client).',
        `Published figures are quoted, not measured here: Moddable's mqtt.js bytecode ${MODDABLE_MQTT_PUBLISHED_BYTES.toLocaleString('en-US')} B (QoS 0 only, no reconnect), Azure SDK for Embedded C ${EMBEDDED_C_PUBLISHED_KB} KB of ROM for hub + DPS + Plug and Play (compiled C, not bytecode).`,
      ],
    },
  ];

  if (xsb.ok) {
    const srcModules = [...xsb.sizes.modules].filter(([path]) => path.startsWith('src/') || path.startsWith('hosts/')).sort(([a], [b]) => a.localeCompare(b));
    const total = (prefix: string): number => srcModules.filter(([p]) => p.startsWith(prefix)).reduce((sum, [, bytes]) => sum + bytes, 0);
    const all = [...xsb.sizes.modules.values()].reduce((a, b) => a + b, 0);
    tables.push({
      title: `XS bytecode per module (mcconfig -m -p lin -t build, ${xsb.sizes.seconds.toFixed(0)} s)`,
      header: ['module', '.xsb bytes'],
      rows: [
        ...srcModules.map(([path, bytes]) => [path, bytes.toLocaleString('en-US')]),
        ['total src/', total('src/').toLocaleString('en-US')],
        ['total hosts/moddable/', total('hosts/').toLocaleString('en-US')],
        ['total of every .xsb in the app (Moddable runtime modules and TLS included)', all.toLocaleString('en-US')],
      ],
    });
  }

  const wholeIndex = layers.findIndex((l) => l.name === WHOLE_CLIENT_LAYER);
  const whole = bundles[wholeIndex];
  const headlines: Headline[] = [];
  if (xsb.ok) {
    const bytes = xsbOf(whole.modules, xsb.sizes);
    const achievedKb = bytes / 1024;
    const met = achievedKb <= WHOLE_CLIENT_GOAL_KB;
    headlines.push({
      section: 'footprint',
      metric: 'whole client (hub + DPS) XS bytecode',
      ours: kb(bytes),
      peer: `${EMBEDDED_C_PUBLISHED_KB} KB ROM (Embedded C, published)`,
      comparison: `${(achievedKb / EMBEDDED_C_PUBLISHED_KB).toFixed(2)}x its size`,
      goal: `<= ${WHOLE_CLIENT_GOAL_KB} KB`,
      verdict: met ? 'met' : 'short',
      shortfall: met ? undefined : shortfallText(achievedKb, WHOLE_CLIENT_GOAL_KB, ' KB', false),
    });
  } else {
    headlines.push({
      section: 'footprint',
      metric: 'whole client (hub + DPS) XS bytecode',
      ours: `skipped (minified JS: ${kb(whole.bytes)})`,
      peer: `${EMBEDDED_C_PUBLISHED_KB} KB ROM (Embedded C, published)`,
      comparison: '',
      goal: `<= ${WHOLE_CLIENT_GOAL_KB} KB`,
      verdict: 'skipped',
      shortfall: xsb.reason,
    });
  }
  headlines.push({
    section: 'footprint',
    metric: 'MQTT codec + session, minified',
    ours: formatBytes(bundles[1].bytes),
    peer: `${formatBytes(MODDABLE_MQTT_PUBLISHED_BYTES)} bytecode (Moddable mqtt.js, QoS 0, published)`,
    comparison: '',
    goal: '',
    verdict: 'info',
  });
  if (xsb.ok) {
    const ours = [...xsb.sizes.modules].filter(([path]) => path.startsWith('src/') || path.startsWith('hosts/')).reduce((sum, [, bytes]) => sum + bytes, 0);
    const sdk = [...xsb.sizes.modules].filter(([path]) => !path.startsWith('src/') && !path.startsWith('hosts/')).reduce((sum, [, bytes]) => sum + bytes, 0);
    headlines.push({
      section: 'footprint',
      metric: 'our .xsb total (src/ + hosts/moddable/, device image)',
      ours: `${ours.toLocaleString('en-US')} B`,
      peer: `${sdk.toLocaleString('en-US')} B of Moddable SDK modules in the same image (TLS, crypto, socket, preference)`,
      comparison: `${(ours / sdk).toFixed(2)}x the SDK's`,
      goal: `<= ${OUR_XSB_GOAL_BYTES.toLocaleString('en-US')} B`,
      verdict: ours <= OUR_XSB_GOAL_BYTES ? 'met' : 'short',
      ...(ours <= OUR_XSB_GOAL_BYTES ? {} : { shortfall: shortfallText(ours / 1024, OUR_XSB_GOAL_BYTES / 1024, ' KB', false) }),
    });
  }
  if (config.profile === 'full' && process.env.MODDABLE && process.env.BENCH_HEAP !== '0') {
    const search = await searchSmallestHeap((line) => process.stdout.write(`${line}\n`));
    tables.push(heapTable(search));
    headlines.push(...heapHeadlines(search));
  } else {
    skipped.push(process.env.MODDABLE ? 'XS heap search skipped (smoke run or BENCH_HEAP=0)' : '$MODDABLE is not set: XS heap search in mcsim skipped');
  }
  return { name: 'footprint', tables, headlines, skipped };
}

function describeTry(attempt: HeapTry): string[] {
  const { size, peaks } = attempt;
  return [
    `${size.chunkBytes.toLocaleString('en-US')} B + ${size.slots.toLocaleString('en-US')} slots, stack ${size.stack}`,
    `${heapBytes(size).toLocaleString('en-US')} B`,
    attempt.complete ? 'complete' : `no${attempt.aborted ? ` (${attempt.aborted})` : ''}`,
    peaks ? `${peaks.chunkBytes.toLocaleString('en-US')} / ${peaks.slotBytes.toLocaleString('en-US')} / ${peaks.stackSlots}` : '',
    peaks ? `${peaks.lastChunkBytes.toLocaleString('en-US')} / ${peaks.lastSlotBytes.toLocaleString('en-US')}` : '',
  ];
}

function heapTable(search: HeapSearch): Table {
  return {
    title: 'XS heap on the Moddable simulator: the whole flow (DPS, hub, telemetry, desired, method, C2D, SAS renewal) in fixed heaps',
    header: ['fixed heap (chunks + slots, stack)', 'chunks + slots at 32 B', 'flow', 'peak chunks B / slots B / stack slots', 'connected at the end: chunks B / slots B'],
    rows: search.tries.map(describeTry),
    notes: [
      'mcconfig -m -p lin -i of manifest.json (every module preloaded) with creation.chunk and creation.heap fixed (incremental 0), run in mcsim under Xvfb against the emulator; figures from the instrumentation XS prints each second.',
      'Slots are 32 B on 64-bit lin and 16 B on an ESP32, so the slot figures halve on a board; chunk figures are shown as measured.',
      `The ESP32-sized budget is ${HEAP_BUDGET_BYTES.toLocaleString('en-US')} B of chunks plus slots at 32 B a slot, with a 384-slot stack (Moddable's ESP32-C3 targets: a 94,208 B static arena, 384-slot stack).`,
    ],
  };
}

function heapHeadlines(search: HeapSearch): Headline[] {
  const lines: Headline[] = [];
  const peaks = search.roomy.peaks;
  if (peaks) {
    lines.push({
      section: 'footprint',
      metric: 'XS heap allocation peak in a roomy heap (chunks + slots; XS seldom collects there)',
      ours: `${(peaks.chunkBytes + peaks.slotBytes).toLocaleString('en-US')} B on lin; about ${(peaks.chunkBytes + peaks.slotBytes / 2).toLocaleString('en-US')} B at 16 B a slot`,
      peer: '94,208 B static XS arena of Moddable\'s ESP32-C3 targets',
      comparison: `connected at the end: ${(peaks.lastChunkBytes + peaks.lastSlotBytes).toLocaleString('en-US')} B on lin, about ${(peaks.lastChunkBytes + peaks.lastSlotBytes / 2).toLocaleString('en-US')} B at 16 B a slot`,
      goal: 'the live need is the smallest fixed heap below',
      verdict: 'info',
    });
    lines.push({
      section: 'footprint',
      metric: 'XS stack peak during the flow',
      ours: `${peaks.stackSlots} slots`,
      peer: '384 slots (Moddable ESP32-C3 targets)',
      comparison: '',
      goal: '<= 384 slots',
      verdict: peaks.stackSlots <= 384 ? 'met' : 'short',
    });
  }
  const smallest = search.smallest;
  lines.push({
    section: 'footprint',
    metric: 'smallest fixed XS heap in which the whole flow completed',
    ours: smallest ? `${heapBytes(smallest).toLocaleString('en-US')} B (${smallest.chunkBytes.toLocaleString('en-US')} B + ${smallest.slots.toLocaleString('en-US')} slots, stack ${smallest.stack})` : 'none of the heaps tried',
    peer: '433,152 B before preloading (52,224 B + 10,880 slots, stack 1,024; measured at c7d5a6c)',
    comparison: search.esp32.complete ? 'the ESP32-sized heap of tests/moddable/esp32-heap.test.ts completes' : 'the ESP32-sized heap did not complete',
    goal: `<= ${HEAP_BUDGET_BYTES.toLocaleString('en-US')} B, stack 384`,
    verdict: smallest && heapBytes(smallest) <= HEAP_BUDGET_BYTES && smallest.stack <= 384 ? 'met' : 'short',
  });
  return lines;
}
