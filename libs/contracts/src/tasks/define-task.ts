import type { BackoffPolicy } from '../executions/backoff-policy.js';
import type { Priority } from '../executions/priority.js';

/** Retry, timeout and priority a task gets unless a submission overrides them. */
export interface TaskDefaults {
  /** Total tries, the first included. */
  attempts: number;
  backoff: BackoffPolicy;
  /** Per attempt, running time only; `null` = no limit. */
  timeoutMs: number | null;
  priority: Priority;
}

/**
 * A named kind of work: its queue, its typed input (a class-validator class) and its defaults.
 * `name` and `queue` are persisted in Redis with every job: renaming one strands its jobs.
 */
export interface TaskDefinition<Name extends string = string, Input extends object = object, Output = unknown> {
  readonly name: Name;
  readonly queue: string;
  readonly version: number;
  readonly description: string;
  readonly input: new () => Input;
  /** Phantom: carries the result type to producers; never read at run time. */
  readonly output?: Output;
  readonly defaults: TaskDefaults;
  /** A task for demos and tests: offered and run only while `CONVEYOR_DEMO_TASKS` is on (the default). */
  readonly demo?: boolean;
}

/** A task as `GET /v1/tasks` shows it: the input as a JSON Schema built from the validating class. */
export type TaskView = Pick<TaskDefinition, 'name' | 'queue' | 'version' | 'description' | 'defaults'> & { inputSchema: Record<string, unknown> };

/** Declares a task once, for both the producer (gateway) and the consumer (worker). */
export function defineTask<const Name extends string, Input extends object, Output>(
  definition: TaskDefinition<Name, Input, Output>,
): TaskDefinition<Name, Input, Output> {
  return Object.freeze(definition);
}

/** A phantom value that only carries a type: `output: type<ReportOutput>()`. */
export function type<T>(): T | undefined {
  return undefined;
}
