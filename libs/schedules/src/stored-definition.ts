import { CreateScheduleDto, findTask, validateStored, type AnyTask, type FieldError, type ScheduleDefinition, type Validated } from '@conveyor/contracts';
import { triggerProblems } from './schedule-timing.js';

/** What a create request sets for a field it leaves out: a stored definition may lack it (edited in Redis). */
const unset: Omit<ScheduleDefinition, 'name' | 'task'> = {
  input: {},
  cron: null,
  tz: 'UTC',
  every: null,
  at: null,
  runImmediately: false,
  startAt: null,
  endAt: null,
  limit: null,
  overlap: 'skip',
  pauseAfterFailures: null,
  priority: null,
  attempts: null,
  backoff: null,
  timeoutMs: null,
  tags: [],
};

/**
 * Checks a stored definition as a create request is checked — its fields, its task, its input
 * against the task's class as it is now, its trigger — before a tick runs it: the task's input class
 * may have become stricter since, or the stored JSON been edited.
 */
export function checkStoredDefinition(stored: unknown): Validated<{ definition: ScheduleDefinition; task: AnyTask }> {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return { ok: false, errors: [{ path: '(definition)', message: 'must be an object' }] };
  const given: Record<string, unknown> = Object.fromEntries(Object.entries(stored).filter(([, value]) => value !== null));
  // The input is checked against its task's class alone.
  const { input: _input, ...rest } = given;
  const fields = validateStored(CreateScheduleDto, rest);
  const errors: FieldError[] = fields.ok ? [] : [...fields.errors];
  const task = typeof given.task === 'string' ? findTask(given.task) : undefined;
  if (typeof given.task === 'string' && !task) errors.push({ path: 'task', message: 'is not a known task' });
  const input = task ? validateStored(task.input as new () => object, given.input ?? {}, 'input') : null;
  if (input && !input.ok) errors.push(...input.errors);
  if (!fields.ok || !task) return { ok: false, errors };
  const definition = { ...unset, ...given } as ScheduleDefinition;
  // A stored `at` has passed by the time its tick runs.
  errors.push(...triggerProblems(definition, Number.NEGATIVE_INFINITY));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { definition, task } };
}
