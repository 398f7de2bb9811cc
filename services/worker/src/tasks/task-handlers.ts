import { taskCatalog, tasksOfQueue, workerQueues } from '@conveyor/contracts';
import { DemoNoopHandler } from './demo-noop.handler.js';
import { DemoStepsHandler } from './demo-steps.handler.js';
import { HttpRequestHandler } from './http-request.handler.js';
import type { TaskHandlerMap } from './task-handler.js';

/** THE handler registry: the compiler rejects a missing, extra or mistyped entry. */
export const taskHandlers = {
  'demo.steps': DemoStepsHandler,
  'demo.noop': DemoNoopHandler,
  'http.request': HttpRequestHandler,
} satisfies TaskHandlerMap;

/**
 * The start-up check for what types cannot see (a handler map built at run time, a queue named
 * in the environment): every task of every consumed queue has a handler, and every handler a task.
 * Returns the problems, each saying what to add or remove.
 */
export function findRegistryProblems(handlers: Record<string, unknown>, queues: readonly string[]): string[] {
  const names = new Set<string>(taskCatalog.map((task) => task.name));
  const missing = queues
    .flatMap((queue) => tasksOfQueue(queue))
    .filter((task) => !handlers[task.name])
    .map((task) => `task "${task.name}" (queue "${task.queue}") has no handler: add it to taskHandlers in services/worker/src/tasks/task-handlers.ts`);
  const orphans = Object.keys(handlers)
    .filter((name) => !names.has(name))
    .map((name) => `handler "${name}" has no task: add the task to taskCatalog in libs/contracts or remove the handler`);
  const unknownQueues = queues
    .filter((queue) => !workerQueues.includes(queue))
    .map((queue) => `queue "${queue}" is used by no task (known: ${workerQueues.join(', ')})`);
  return [...missing, ...orphans, ...unknownQueues];
}
