// The time-series chart of the selected device's numeric telemetry fields (uPlot: canvas, a few tens of KB,
// redraws thousands of points in well under a frame). The store keeps a bounded window; this only draws it.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Series } from './store';

const COLORS = ['#0b6bcb', '#d9480f', '#2b8a3e', '#ae3ec9', '#e8590c', '#1098ad', '#c92a2a', '#5f3dc4'];

export function Chart(props: { deviceId: string | undefined; series: Series | undefined; version: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<{ chart: uPlot; key: string } | undefined>(undefined);
  const names = props.series ? [...props.series.fields.keys()] : [];
  const key = `${props.deviceId ?? ''}|${names.join(',')}`;

  useEffect(() => {
    const element = box.current;
    const series = props.series;
    if (!element) return;
    if (!series || names.length === 0) {
      plot.current?.chart.destroy();
      plot.current = undefined;
      return;
    }
    const data = [series.times, ...names.map((n) => series.fields.get(n)!)] as uPlot.AlignedData;
    if (plot.current?.key !== key) {
      plot.current?.chart.destroy();
      const chart = new uPlot(
        {
          width: Math.max(300, element.clientWidth),
          height: 220,
          series: [{}, ...names.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length]!, width: 1.5, spanGaps: true }))],
          axes: [{}, { size: 70 }],
          legend: { live: false },
          cursor: { drag: { x: false, y: false } },
        },
        data,
        element,
      );
      plot.current = { chart, key };
    } else {
      plot.current.chart.setData(data);
    }
  }, [props.version, key]);

  useEffect(() => () => plot.current?.chart.destroy(), []);
  const points = props.series?.times.length ?? 0;
  return (
    <div class="chart" data-testid="chart" data-points={String(points)} data-fields={names.join(',')}>
      <div ref={box} />
      {names.length === 0 ? <p class="muted">No numeric telemetry fields from {props.deviceId ?? 'any device'} yet.</p> : null}
    </div>
  );
}
