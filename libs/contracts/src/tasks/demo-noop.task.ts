import { Allow, IsOptional } from 'class-validator';
import { defineTask, type } from './define-task.js';

export class DemoNoopInput {
  /** Anything: returned as it came. */
  @IsOptional()
  @Allow()
  payload?: unknown;
}

export type DemoNoopOutput = DemoNoopInput;

/** Returns its input at once: for throughput measurements. */
export const demoNoop = defineTask({
  name: 'demo.noop', // persisted: never rename (see task-catalog.ts)
  queue: 'demo',
  version: 1,
  description: 'Returns its input at once: for throughput measurements.',
  input: DemoNoopInput,
  output: type<DemoNoopOutput>(),
  defaults: { attempts: 1, backoff: { type: 'fixed', delayMs: 0 }, timeoutMs: null, priority: 'normal' },
  demo: true,
});
