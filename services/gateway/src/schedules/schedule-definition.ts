import {
  CreateScheduleDto,
  isPlainObject,
  schedulePreviewCount,
  SchedulePreviewDto,
  toBackoffPolicy,
  validateAs,
  type AnyTask,
  type FieldError,
  type ScheduleDefinition,
  type Validated,
} from '@conveyor/contracts';
import { previewTicks, triggerProblems } from '@conveyor/schedules';
import { ApiError } from '@conveyor/service';
import { unknownTask, validateTaskInput } from '../executions/submission.js';

/**
 * Validates a new schedule: the fields, the task and its input (exactly as a submission's), and the
 * trigger (one at most; a cron and zone that parse; `at` ahead), listing every problem at once.
 */
export function validateScheduleDefinition(
  body: unknown,
  tasks: readonly AnyTask[],
  now = Date.now(),
): Validated<{ definition: ScheduleDefinition; enabled: boolean }> {
  const envelope = validateAs(CreateScheduleDto, body);
  const raw = (body ?? {}) as Partial<CreateScheduleDto>;
  const errors: FieldError[] = envelope.ok ? [] : [...envelope.errors];
  const { task, input } = validateTaskInput(raw, (field) => field, tasks);
  if (typeof raw.task === 'string' && !task) errors.push(unknownTask('task', tasks));
  if (input && !input.ok) errors.push(...input.errors);
  if (!envelope.ok || !task || !input?.ok) return { ok: false, errors };

  const dto = envelope.value;
  const definition: ScheduleDefinition = {
    name: dto.name,
    task: dto.task,
    input: { ...input.value } as Record<string, unknown>,
    cron: dto.cron ?? null,
    tz: dto.tz ?? 'UTC',
    every: dto.every ?? null,
    at: dto.at ?? null,
    runImmediately: dto.runImmediately ?? false,
    startAt: dto.startAt ?? null,
    endAt: dto.endAt ?? null,
    limit: dto.limit ?? null,
    overlap: dto.overlap ?? 'skip',
    pauseAfterFailures: dto.pauseAfterFailures ?? null,
    priority: dto.priority ?? null,
    attempts: dto.attempts ?? null,
    backoff: dto.backoff ? toBackoffPolicy(dto.backoff) : null,
    timeoutMs: dto.timeoutMs ?? null,
    tags: dto.tags ?? [],
  };
  errors.push(...triggerProblems(definition, now));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { definition, enabled: dto.enabled ?? true } };
}

/** The next times of a cron or `every` trigger, or the same `400` details a schedule with that trigger would get. */
export function previewSchedule(body: unknown, now = Date.now()): Validated<string[]> {
  const fields = validateAs(SchedulePreviewDto, body);
  if (!fields.ok) return fields;
  const { cron = null, tz = 'UTC', every = null, startAt = null, count = schedulePreviewCount.default } = fields.value;
  const trigger = { cron, tz, every, at: null, runImmediately: false, startAt, endAt: null };
  const errors = cron === null && every === null ? [{ path: 'cron', message: 'or every is required: the trigger to preview' }] : triggerProblems(trigger, now);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: previewTicks(trigger, now, count).map((tick) => new Date(tick).toISOString()) };
}

const triggerFields = ['cron', 'tz', 'every', 'at', 'runImmediately'] as const;

/**
 * A JSON merge patch applied to a definition, as a create request: `null` clears a field, and the
 * trigger fields are replaced together (a patch naming one of them drops the others it does not name).
 */
export function mergeSchedulePatch(definition: ScheduleDefinition, enabled: boolean, patch: unknown): Record<string, unknown> {
  if (!isPlainObject(patch)) {
    throw ApiError.validation([{ path: '(body)', message: 'must be an object: a JSON merge patch of the schedule' }]);
  }
  const changes = patch;
  const base: Record<string, unknown> = { ...definition, enabled };
  if (triggerFields.some((field) => field in changes)) triggerFields.forEach((field) => delete base[field]);
  const merged = { ...base, ...changes };
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== null));
}
