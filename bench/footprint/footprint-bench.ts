// Footprint: the minified bundle of each layer of src/ and, when the Moddable SDK is at hand, the XS bytecode
// each layer compiles to, next to the published sizes of Moddable's own MQTT client and Azure's Embedded C SDK.
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from '../lib/config';
import { formatBytes } from '../lib/format';
import { shortfallText, type Headline, type SectionResult, type Table } from '../lib/report';
import { bundleSize } from './bundle-size';
import { footprintLayers, WHOLE_CLIENT_LAYER } from './layers';
import { buildXsb, type XsbSizes } from './moddable-build';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Published: Moddable's modules/network/mqtt/mqtt.js, QoS 0 only (measured on these machines, see moddable-notes). */
export const MODDABLE_MQTT_PUBLISHED_BYTES = 9389;
/** Published: Azure SDK for Embedded C, hub + DPS + IoT Plug and Play, ROM. */
export const EMBEDDED_C_PUBLISHED_KB = 26.15;
export const WHOLE_CLIENT_GOAL_KB = 26;

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
  return { name: 'footprint', tables, headlines, skipped };
}
