import {
  findTask,
  limits,
  SubmitExecutionDto,
  taskCatalog,
  validateAs,
  type AnyTask,
  type FieldError,
  type Validated,
} from '@conveyor/contracts';
import type { SubmitOptions } from '@conveyor/executions';

/** A submission that passed every check, ready for the submitter. */
export interface Submission {
  task: AnyTask;
  input: object;
  options: SubmitOptions;
}

/** Whether the input is over the contract's size limit (→ 413, before any validation). */
export function isInputTooLarge(body: unknown): boolean {
  const input = (body as { input?: unknown } | null)?.input;
  return input !== undefined && Buffer.byteLength(JSON.stringify(input) ?? '') > limits.payloadBytes;
}

/**
 * Validates a submission: the envelope, the task name, and the input against the task's own class,
 * listing every bad field (`task`, `priority`, `input.steps` …) in one answer.
 */
export function validateSubmission(body: unknown, pathPrefix = ''): Validated<Submission> {
  const envelope = validateAs(SubmitExecutionDto, body, pathPrefix);
  const errors: FieldError[] = envelope.ok ? [] : [...envelope.errors];
  const raw = (body ?? {}) as Partial<SubmitExecutionDto>;
  const at = (field: string) => (pathPrefix ? `${pathPrefix}.${field}` : field);

  const task = typeof raw.task === 'string' ? findTask(raw.task) : undefined;
  if (typeof raw.task === 'string' && !task) {
    errors.push({ path: at('task'), message: `is not a known task (known: ${taskCatalog.map((t) => t.name).join(', ')})` });
  }
  const inputIsObject = raw.input === undefined || (typeof raw.input === 'object' && raw.input !== null && !Array.isArray(raw.input));
  const input = task && inputIsObject ? validateAs(task.input as new () => object, raw.input ?? {}, at('input')) : null;
  if (input && !input.ok) errors.push(...input.errors);
  if (raw.delayMs !== undefined && raw.runAt !== undefined) {
    errors.push({ path: at('runAt'), message: 'cannot be combined with delayMs: give one or the other' });
  }

  if (errors.length > 0 || !envelope.ok || !task || !input?.ok) return { ok: false, errors };
  const dto = envelope.value;
  return {
    ok: true,
    value: {
      task,
      input: input.value,
      options: {
        priority: dto.priority,
        runAt: dto.runAt !== undefined ? new Date(dto.runAt) : dto.delayMs !== undefined ? new Date(Date.now() + dto.delayMs) : undefined,
        attempts: dto.attempts,
        backoff: dto.backoff ? { ...dto.backoff } : undefined,
        timeoutMs: dto.timeoutMs,
        tags: dto.tags,
      },
    },
  };
}
