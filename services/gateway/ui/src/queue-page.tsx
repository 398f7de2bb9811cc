import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { QueueStatsMinute, QueueStatsView } from '@conveyor/contracts/core';
import { Card, ErrorNote } from './components';
import { duration } from './format';
import { describeError, useApp, useLive, useThrottled } from './live';

/** The window moves on by itself: the stats are read again this often, and soon after starts and endings. */
const refreshMs = 10_000;
const chartHeight = 200;
const totalLabels = { completed: 'Completed', failed: 'Failed', started: 'Started' };

/** A wait to a tenth of a second below a minute (the axis steps by half-seconds, which `duration` would round away). */
const waitLabel = (ms: number) => (ms >= 1000 && ms < 60_000 ? `${Number((ms / 1000).toFixed(1))} s` : duration(ms));

/** One of the status colors of the stylesheet, for the canvas. */
const cssColor = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

interface ChartSpec {
  name: string;
  title: string;
  /** Each line: its legend, its color (a variable of the stylesheet) and its value in a minute. */
  series: { label: string; color: string; value: (minute: QueueStatsMinute) => number | null }[];
  format: (value: number) => string;
  /** Dots on every value, for series with gaps (a lone minute draws no line). */
  dots?: boolean;
}

const charts: ChartSpec[] = [
  {
    name: 'ended',
    title: 'Ended per minute',
    series: [
      { label: 'Completed', color: '--completed', value: (m) => m.completed },
      { label: 'Failed', color: '--failed', value: (m) => m.failed },
    ],
    format: (n) => n.toLocaleString(),
  },
  {
    name: 'waits',
    title: 'Wait from when due to start',
    series: [
      { label: 'p50', color: '--running', value: (m) => m.waitP50Ms },
      { label: 'p95', color: '--scheduled', value: (m) => m.waitP95Ms },
    ],
    format: waitLabel,
    dots: true,
  },
];

/** A uPlot time chart of the minutes, as wide as its box, taking new minutes in place. */
function Chart({ spec, minutes }: { spec: ChartSpec; minutes: QueueStatsMinute[] }) {
  const { name, title, series, format, dots = false } = spec;
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = useMemo(() => [minutes.map((m) => Date.parse(m.at) / 1000), ...series.map(({ value }) => minutes.map(value))] as uPlot.AlignedData, [minutes]);
  useEffect(() => {
    const box = host.current!;
    const line = ({ label, color }: ChartSpec['series'][number]) => {
      const stroke = cssColor(color);
      return { label, stroke, width: 2, points: dots ? { show: true, size: 7, fill: stroke } : { size: 5 }, value: (_: uPlot, v: number | null) => (v === null ? '—' : format(v)) };
    };
    const chart = new uPlot(
      {
        width: box.clientWidth,
        height: chartHeight,
        series: [{}, ...series.map(line)],
        axes: [{}, { size: 64, values: (_: uPlot, splits: number[]) => splits.map(format) }],
        scales: { y: { range: (_: uPlot, _min: number | null, max: number | null) => [0, Math.max(max ?? 0, 1) * 1.1] } },
      },
      data,
      box,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: box.clientWidth, height: chartHeight }));
    resize.observe(box);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, []);
  useEffect(() => plot.current?.setData(data), [data]);
  return (
    <figure class="chart" data-chart={name}>
      <figcaption>{title}</figcaption>
      <div ref={host} />
    </figure>
  );
}

/** A queue's page: its last hour in charts. */
export function QueuePage({ name }: { name: string }) {
  return (
    <div class="queue-page" data-queue-page={name}>
      <a href="#/executions" class="back">
        ← Executions
      </a>
      <Card title={`Queue ${name}`}>
        <p class="hint">The last hour, minute by minute, of this tenant’s executions in the queue (a wait is from when an execution was due — submitted, or its run-at — to its first start).</p>
        <QueueCharts queue={name} />
      </Card>
    </div>
  );
}

/** The queue's last hour for the tenant: executions ended per minute, and the wait to start, live. */
function QueueCharts({ queue }: { queue: string }) {
  const { client } = useApp();
  const [stats, setStats] = useState<QueueStatsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    void client.queues.stats(queue).then(
      (view) => {
        setStats(view);
        setError(null);
      },
      (err) => setError(describeError(err)),
    );
  const soon = useThrottled(load, 2000);
  useEffect(() => {
    load();
    const timer = setInterval(load, refreshMs);
    return () => clearInterval(timer);
  }, [client, queue]);
  useLive((event) => {
    if (event.queue === queue && ['execution.started', 'execution.completed', 'execution.failed'].includes(event.type)) soon();
  }, load);

  if (!stats) return error ? <ErrorNote error={error} /> : <p class="empty">Loading…</p>;
  const total = (field: string) => stats.minutes.reduce((sum, m) => sum + m[field as keyof typeof totalLabels], 0);
  return (
    <div class="charts">
      <dl class="chart-totals">
        {Object.entries(totalLabels).map(([field, label]) => (
          <div key={field} data-total={field}>
            <dt>{label} in the hour</dt>
            <dd>{total(field).toLocaleString()}</dd>
          </div>
        ))}
      </dl>
      {charts.map((spec) => (
        <Chart key={spec.name} spec={spec} minutes={stats.minutes} />
      ))}
      <ErrorNote error={error} />
    </div>
  );
}
