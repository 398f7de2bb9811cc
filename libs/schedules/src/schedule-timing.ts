import { CronExpressionParser } from 'cron-parser';
import type { RepeatOptions } from 'bullmq';
import type { FieldError, ScheduleDefinition } from '@conveyor/contracts';

/** How a schedule's ticks come: a BullMQ job scheduler, one delayed job, or none (run by hand). */
export type TickPlan =
  | { kind: 'scheduler'; repeat: Omit<RepeatOptions, 'key'> }
  | { kind: 'once'; at: number }
  | { kind: 'none' };

type Trigger = Pick<ScheduleDefinition, 'cron' | 'tz' | 'every' | 'at' | 'runImmediately' | 'startAt' | 'endAt'>;

/** Checks a trigger beyond its fields' types: one kind at most, a cron and zone that parse, times ahead. */
export function triggerProblems(trigger: Trigger, now: number): FieldError[] {
  const problems: FieldError[] = [];
  const given = (['cron', 'every', 'at'] as const).filter((field) => trigger[field] !== null);
  if (given.length > 1) problems.push({ path: given[1], message: `cannot be combined with ${given[0]}: give one trigger` });
  if (trigger.cron !== null) {
    const fields = trigger.cron.trim().split(/\s+/).length;
    if (fields !== 5 && fields !== 6) problems.push({ path: 'cron', message: `must have 5 or 6 fields, not ${fields}` });
    else {
      try {
        CronExpressionParser.parse(trigger.cron, { tz: 'UTC' });
        const step = oversizeStep(trigger.cron);
        if (step) problems.push({ path: 'cron', message: step });
      } catch (error) {
        problems.push({ path: 'cron', message: `is not a valid cron expression: ${(error as Error).message}` });
      }
    }
  }
  if (!isTimeZone(trigger.tz)) problems.push({ path: 'tz', message: 'is not a known IANA time zone' });
  if (trigger.at !== null && Date.parse(trigger.at) <= now) problems.push({ path: 'at', message: 'must be in the future' });
  if (trigger.runImmediately && trigger.startAt !== null) problems.push({ path: 'runImmediately', message: 'cannot be combined with startAt' });
  if (trigger.startAt !== null && trigger.endAt !== null && Date.parse(trigger.endAt) <= Date.parse(trigger.startAt)) {
    problems.push({ path: 'endAt', message: 'must be after startAt' });
  }
  return problems;
}

const cronFields = [
  { name: 'minute', max: 59 },
  { name: 'hour', max: 23 },
  { name: 'day-of-month', max: 31 },
  { name: 'month', max: 12 },
  { name: 'day-of-week', max: 7 },
];

/** Why a step is larger than its field (a step of 90 in minutes fires once an hour, not every 90 minutes), or `null`. */
function oversizeStep(cron: string): string | null {
  const parts = cron.trim().split(/\s+/);
  const fields = parts.length === 6 ? [{ name: 'second', max: 59 }, ...cronFields] : cronFields;
  for (const [i, part] of parts.entries()) {
    for (const [, step] of part.matchAll(/\/(\d+)/g)) {
      const { name, max } = fields[i];
      if (Number(step) > max) return `has a step of ${step} in its ${name} field, larger than the field (at most ${max}): it would not repeat as it reads`;
    }
  }
  return null;
}

/** The zones found valid: making a formatter to check one costs about a fifth of a millisecond. */
const knownZones = new Set<string>();

function isTimeZone(tz: string): boolean {
  if (knownZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return false;
  }
  if (knownZones.size < 1000) knownZones.add(tz);
  return true;
}

/**
 * The ticks from `from` on. The first `every` tick is at startAt, or now + every (now with
 * runImmediately); a schedule coming back (enabled again) resumes at the next slot after `from`,
 * counted from `anchor` (its first tick), so it never bursts or fires at once.
 */
export function planTicks(trigger: Trigger, options: { from: number; anchor: number | null }): TickPlan {
  const startAt = trigger.startAt === null ? null : Date.parse(trigger.startAt);
  const endDate = trigger.endAt === null ? undefined : Date.parse(trigger.endAt);
  if (trigger.at !== null) return { kind: 'once', at: Date.parse(trigger.at) };
  if (trigger.every !== null) {
    const every = trigger.every;
    const first = options.anchor ?? startAt ?? (trigger.runImmediately ? options.from : options.from + every);
    const startDate = first >= options.from ? first : first + Math.ceil((options.from - first) / every) * every;
    return { kind: 'scheduler', repeat: { every, startDate, endDate } };
  }
  if (trigger.cron !== null) {
    const begin = Math.max(options.from, startAt ?? 0);
    const immediately = trigger.runImmediately && options.anchor === null;
    return { kind: 'scheduler', repeat: { pattern: trigger.cron, tz: trigger.tz, endDate, ...(immediately ? { immediately } : { startDate: begin }) } };
  }
  return { kind: 'none' };
}

/** The first cron time after `from` in the zone (for `nextRunAt` of a schedule that is not registered). */
export function nextCronTime(cron: string, tz: string, from: number): number {
  return CronExpressionParser.parse(cron, { tz, currentDate: new Date(from) }).next().getTime();
}

/**
 * The next `count` ticks of a new cron or `every` trigger, planned as `planTicks` registers it and
 * stepped as BullMQ's job scheduler steps (the cron's next time after the last; `every` on from the first).
 */
export function previewTicks(trigger: Trigger, from: number, count: number): number[] {
  const plan = planTicks(trigger, { from, anchor: null });
  if (plan.kind !== 'scheduler') return plan.kind === 'once' ? [plan.at] : [];
  const { every, pattern, tz, startDate } = plan.repeat as { every?: number; pattern?: string; tz?: string; startDate: number };
  const next = every ? (tick: number) => tick + every : (tick: number) => nextCronTime(pattern!, tz!, tick);
  const ticks = [every ? startDate : next(startDate)];
  while (ticks.length < count) ticks.push(next(ticks.at(-1)!));
  return ticks;
}
