import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { defineTask, type } from './define-task.js';

export class DemoStepsInput {
  @IsInt()
  @Min(1)
  @Max(10_000)
  steps!: number;

  @IsInt()
  @Min(0)
  @Max(600_000)
  stepMs!: number;

  /** Fail this many attempts before succeeding. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  failTimes?: number;

  /** The step at which those attempts fail (default 1). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  failAtStep?: number;

  /** Go on as if `ctx.signal` had not aborted (to show what happens to handlers that ignore it); demo-only, like the task. */
  @IsOptional()
  @IsBoolean()
  ignoreSignal?: boolean;
}

export interface DemoStepsOutput {
  steps: number;
}

/** Runs `steps` steps of `stepMs` each, reporting progress and checkpointing after every step. */
export const demoSteps = defineTask({
  name: 'demo.steps', // persisted: never rename (see task-catalog.ts)
  queue: 'demo',
  version: 1,
  description: 'Runs a number of timed steps, with progress, checkpoints and optional failures: for demos and tests.',
  input: DemoStepsInput,
  output: type<DemoStepsOutput>(),
  defaults: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 0.2 }, timeoutMs: null, priority: 'normal' },
  demo: true,
});
