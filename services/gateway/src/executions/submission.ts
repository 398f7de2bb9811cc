import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isPlainObject, limits, SubmitExecutionDto, toBackoffPolicy, validateAs, type AnyTask, type FieldError, type Validated } from '@conveyor/contracts';
import type { Submission } from '@conveyor/executions';
import { ApiError } from '@conveyor/service';

/** A submission that passed every check, ready for the submitter. */
export interface ValidSubmission extends Submission {
  idempotencyKey?: string;
}

/**
 * The task a request names, among the offered `tasks`, and its input validated against the task's
 * class (`null` when it cannot be checked).
 */
export function validateTaskInput(raw: { task?: unknown; input?: unknown }, at: (field: string) => string, tasks: readonly AnyTask[]) {
  const task = typeof raw.task === 'string' ? tasks.find((offered) => offered.name === raw.task) : undefined;
  const inputIsObject = raw.input === undefined || isPlainObject(raw.input);
  const input = task && inputIsObject ? validateAs(task.input as new () => object, raw.input ?? {}, at('input')) : null;
  return { task, input };
}

export function unknownTask(path: string, tasks: readonly AnyTask[]): FieldError {
  return { path, message: `is not a known task (known: ${tasks.map((t) => t.name).join(', ')})` };
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
export function validateSubmission(body: unknown, tasks: readonly AnyTask[], pathPrefix = ''): Validated<ValidSubmission> {
  const envelope = validateAs(SubmitExecutionDto, body, pathPrefix);
  const errors: FieldError[] = envelope.ok ? [] : [...envelope.errors];
  const raw = (body ?? {}) as Partial<SubmitExecutionDto>;
  const at = (field: string) => (pathPrefix ? `${pathPrefix}.${field}` : field);

  const { task, input } = validateTaskInput(raw, at, tasks);
  if (input && !input.ok) errors.push(...input.errors);
  if (typeof raw.task === 'string' && !task) errors.push(unknownTask(at('task'), tasks));
  if (raw.delayMs !== undefined && raw.runAt !== undefined) {
    errors.push({ path: at('runAt'), message: 'cannot be combined with delayMs: give one or the other' });
  }

  if (errors.length > 0 || !envelope.ok || !task || !input?.ok) return { ok: false, errors };
  const dto = envelope.value;
  return {
    ok: true,
    value: {
      task,
      input: input.value as never,
      idempotencyKey: dto.idempotencyKey,
      options: {
        priority: dto.priority,
        runAt: dto.runAt !== undefined ? new Date(dto.runAt) : dto.delayMs !== undefined ? new Date(Date.now() + dto.delayMs) : undefined,
        attempts: dto.attempts,
        backoff: dto.backoff ? toBackoffPolicy(dto.backoff) : undefined,
        timeoutMs: dto.timeoutMs,
        tags: dto.tags,
      },
    },
  };
}

/** A request's identity for idempotency: its canonical JSON without the key, hashed. */
export function fingerprint(body: unknown): string {
  const { idempotencyKey: _key, ...rest } = body as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(rest)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** How long a batch's validation runs before it lets other requests in (a 1 MiB batch takes far longer in all). */
const validationSliceMs = 10;

/**
 * A batch `{ executions: [...] }`: every item validated like a single submission, errors named by
 * index (`executions[3].input.steps`); any error rejects the whole batch. Yields to the event loop
 * every few milliseconds, so that large batches never stall the gateway's other requests.
 */
export async function validateBatch(body: unknown, tasks: readonly AnyTask[]): Promise<Submission[]> {
  const items = (body as { executions?: unknown } | null)?.executions;
  if (!Array.isArray(items) || items.length === 0 || items.length > limits.batchSize) {
    throw ApiError.validation([{ path: 'executions', message: `must be an array of 1 to ${limits.batchSize} submissions` }]);
  }
  const extra = Object.keys(body as object).filter((key) => key !== 'executions');
  const errors: FieldError[] = extra.map((key) => ({ path: key, message: 'should not exist' }));
  const submissions: Submission[] = [];
  let sliceStart = performance.now();
  for (const [index, item] of items.entries()) {
    if (performance.now() - sliceStart > validationSliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
    const at = `executions[${index}]`;
    if (isInputTooLarge(item)) throw ApiError.payloadTooLarge(`The input of ${at} is larger than 256 KiB.`);
    const result = validateSubmission(item, tasks, at);
    if (!result.ok) errors.push(...result.errors);
    else if (result.value.idempotencyKey) errors.push({ path: `${at}.idempotencyKey`, message: 'is not supported in a batch' });
    else submissions.push(result.value);
  }
  if (errors.length > 0) throw ApiError.validation(errors);
  return submissions;
}
