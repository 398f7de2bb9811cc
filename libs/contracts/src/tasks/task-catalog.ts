import { demoNoop } from './demo-noop.task.js';
import { demoSteps } from './demo-steps.task.js';
import type { TaskDefinition } from './define-task.js';
import { httpRequest } from './http-request.task.js';

/**
 * Every task Conveyor runs.
 * Task names and queue names are persisted in Redis with every job: DO NOT RENAME them —
 * renaming one strands its jobs. Add a new task (or version) instead.
 */
export const taskCatalog = [demoSteps, demoNoop, httpRequest] as const;

export type AnyTask = (typeof taskCatalog)[number];
export type TaskName = AnyTask['name'];
export type TaskOf<N extends TaskName> = Extract<AnyTask, { name: N }>;
export type TaskInput<T extends TaskDefinition> = InstanceType<T['input']>;
export type TaskOutput<T extends TaskDefinition> = NonNullable<T['output']>;

const tasksByName = new Map<string, AnyTask>(taskCatalog.map((task) => [task.name, task]));

export function findTask(name: string): AnyTask | undefined {
  return tasksByName.get(name);
}

/** The tasks a deployment offers: the whole catalogue, or all but the demo tasks (`CONVEYOR_DEMO_TASKS=false`). */
export function offeredTasks(demoTasks: boolean): readonly AnyTask[] {
  return demoTasks ? taskCatalog : taskCatalog.filter((task) => !task.demo);
}

/** The queues of the catalogue, each once, in catalogue order. */
export const catalogQueues: readonly string[] = [...new Set(taskCatalog.map((task) => task.queue))];

/** Conveyor's own queue of schedule ticks (persisted name: never rename). */
export const scheduleQueue = 'schedules';

/** Every queue a worker can consume: the catalogue's and the schedule ticks'. */
export const workerQueues: readonly string[] = [...catalogQueues, scheduleQueue];

export function tasksOfQueue(queue: string): AnyTask[] {
  return taskCatalog.filter((task) => task.queue === queue);
}
