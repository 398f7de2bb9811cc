import type { Priority } from '../executions/priority.js';
import type { BackoffPolicy } from '../executions/backoff-policy.js';

/** What a tick does while the schedule's previous run is still going. */
export const overlapPolicies = ['allow', 'skip'] as const;
export type OverlapPolicy = (typeof overlapPolicies)[number];

export const scheduleStates = ['active', 'disabled', 'paused-after-failures', 'finished'] as const;
/** `active` fires; `disabled` by the user; `paused-after-failures` by itself; `finished` after `limit` or `endAt`. */
export type ScheduleState = (typeof scheduleStates)[number];

/** What a schedule runs and when: the stored definition. */
export interface ScheduleDefinition {
  name: string;
  task: string;
  input: Record<string, unknown>;
  cron: string | null;
  tz: string;
  every: number | null;
  at: string | null;
  runImmediately: boolean;
  startAt: string | null;
  endAt: string | null;
  limit: number | null;
  overlap: OverlapPolicy;
  pauseAfterFailures: number | null;
  priority: Priority | null;
  attempts: number | null;
  backoff: BackoffPolicy | null;
  timeoutMs: number | null;
  tags: string[];
}

/** The REST representation of a schedule (also the monitor's snapshot). */
export interface ScheduleView extends ScheduleDefinition {
  id: string;
  tenant: string;
  state: ScheduleState;
  /** The user's flag only (a finished or failure-paused schedule may still be enabled). */
  enabled: boolean;
  nextRunAt: string | null;
  lastRunAt: string | null;
  runCount: number;
  failureStreak: number;
  seq: number;
  createdAt: string;
  updatedAt: string;
}

/** How many times a preview lists: by default, and at most. */
export const schedulePreviewCount = { default: 5, max: 100 } as const;

/** `POST /v1/schedules/preview`: a cron (with its zone) or an `every` (from `startAt`). */
export interface SchedulePreviewRequest {
  cron?: string;
  /** IANA zone of `cron` (default UTC). */
  tz?: string;
  every?: number;
  startAt?: string;
  count?: number;
}

/** The next times the trigger would fire, as the scheduler plans them (UTC ISO 8601). */
export interface SchedulePreviewView {
  items: string[];
}
