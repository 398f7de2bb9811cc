import type { Type } from '@nestjs/common';
import type { AnyTask, TaskInput, TaskName, TaskOf, TaskOutput } from '@conveyor/contracts';
import type { ExecutionContext } from '../runtime/execution-context.js';

/** Runs one task: throw to retry with the task's backoff, `NonRetryableError` to fail at once. */
export interface TaskHandler<T extends AnyTask> {
  run(input: TaskInput<T>, ctx: ExecutionContext): Promise<TaskOutput<T>>;
}

/** A handler class for every task of the catalogue, checked by the compiler. */
export type TaskHandlerMap = { [N in TaskName]: Type<TaskHandler<TaskOf<N>>> };
