import type { ConveyorEvent } from '@conveyor/contracts/core';
import { clockTime, duration } from './format';
import { useNow } from './live';

export type SegmentKind = 'scheduled' | 'queued' | 'running' | 'paused' | 'retrying';

export interface Segment {
  kind: SegmentKind;
  from: number;
  to: number;
}

const kindLabels: Record<SegmentKind, string> = {
  scheduled: 'Scheduled',
  queued: 'Queued',
  running: 'Running',
  paused: 'Paused',
  retrying: 'Retry wait',
};

/** A state the execution enters, and when it turns `queued` by itself (its `runAt`, its `retryAt`: no event says so). */
type State = { kind: SegmentKind; until?: number };

/** The state an event starts: `null` once ended; `undefined` for events that change none (progress, logs). */
function stateAfter(event: ConveyorEvent): State | null | undefined {
  switch (event.type) {
    case 'execution.queued':
      return event.data.status === 'scheduled' ? { kind: 'scheduled', until: Date.parse(event.data.runAt) } : { kind: 'queued' };
    case 'execution.started':
    case 'execution.recovered':
      return { kind: 'running' };
    case 'execution.retrying':
      return { kind: 'retrying', until: Date.parse(event.data.retryAt) };
    case 'execution.paused':
      return { kind: 'paused' };
    case 'execution.resumed':
    case 'execution.retried':
      return { kind: 'queued' };
    case 'execution.completed':
    case 'execution.failed':
    case 'execution.cancelled':
      return null;
    default:
      return undefined;
  }
}

/** An execution's course as spans of time, from its events in order; one still going runs to `now`. */
export function segmentsOf(events: readonly ConveyorEvent[], now: number): Segment[] {
  const segments: Segment[] = [];
  const add = (kind: SegmentKind, from: number, to: number) => {
    if (to > from) segments.push({ kind, from, to });
  };
  let current: (State & { from: number }) | null = null;
  const closeAt = (at: number) => {
    if (!current) return;
    const due = Math.max(current.from, Math.min(current.until ?? at, at));
    add(current.kind, current.from, due);
    add('queued', due, at);
  };
  for (const event of events) {
    const next = stateAfter(event);
    if (next === undefined) continue;
    const at = Date.parse(event.ts);
    closeAt(at);
    current = next && { ...next, from: at };
  }
  closeAt(now);
  return segments;
}

/** The timeline as one bar over time: a colored span per state, with its times on hover and a total per state below. */
export function TimelineBar({ events }: { events: readonly ConveyorEvent[] }) {
  const now = useNow();
  const segments = segmentsOf(events, now);
  if (segments.length === 0) return null;
  const start = segments[0].from;
  const end = segments.at(-1)!.to;
  const span = end - start;
  const totals = new Map<SegmentKind, number>();
  for (const { kind, from, to } of segments) totals.set(kind, (totals.get(kind) ?? 0) + to - from);
  return (
    <div class="timeline-bar">
      <div class="timeline-track" role="img" aria-label={segments.map((s) => `${kindLabels[s.kind]} ${duration(s.to - s.from)}`).join(', ')}>
        {segments.map((s, i) => (
          <span
            key={i}
            class={`segment segment-${s.kind}`}
            data-segment={s.kind}
            title={`${kindLabels[s.kind]} · ${clockTime(new Date(s.from).toISOString())} – ${clockTime(new Date(s.to).toISOString())} · ${duration(s.to - s.from)}`}
            style={{ left: `${((s.from - start) / span) * 100}%`, width: `${((s.to - s.from) / span) * 100}%` }}
          />
        ))}
      </div>
      <div class="timeline-scale">
        <time>{clockTime(new Date(start).toISOString())}</time>
        <span>{duration(span)}</span>
        <time>{clockTime(new Date(end).toISOString())}</time>
      </div>
      <ul class="timeline-legend">
        {[...totals].map(([kind, ms]) => (
          <li key={kind} class={`segment-${kind}`}>
            {kindLabels[kind]} <strong>{duration(ms)}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}
