import type { ExecutionStatus, ScheduleView } from '@conveyor/contracts/core';

/** Every status with its label, in the order the dashboard shows them. */
export const statusLabels: Record<ExecutionStatus, string> = {
  running: 'Running',
  queued: 'Queued',
  scheduled: 'Scheduled',
  paused: 'Paused',
  failed: 'Failed',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

export const statuses = Object.keys(statusLabels) as ExecutionStatus[];

export const isActive = (status: ExecutionStatus) => status !== 'completed' && status !== 'failed' && status !== 'cancelled';

/** `in 12 s`, `3 min ago`: for times near `now`. */
export function relativeTime(iso: string | null, now: number): string {
  if (!iso) return '—';
  const ms = Date.parse(iso) - now;
  const text = duration(Math.abs(ms));
  if (Math.abs(ms) < 1000) return 'now';
  return ms > 0 ? `in ${text}` : `${text} ago`;
}

/** `850 ms`, `12 s`, `4 min 5 s`, `2 h 10 min`, `3 d`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return s % 60 ? `${min} min ${s % 60} s` : `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

export function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false });
}

export function dateTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString(undefined, { hour12: false }) : '—';
}

/** When a schedule fires, in words. */
export function timing(schedule: ScheduleView): string {
  if (schedule.cron) return `cron ${schedule.cron}${schedule.tz === 'UTC' ? '' : ` (${schedule.tz})`}`;
  if (schedule.every) return `every ${duration(schedule.every)}`;
  return `once at ${dateTime(schedule.at)}`;
}

export const shortId = (id: string) => `…${id.slice(-8)}`;
