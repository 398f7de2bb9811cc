import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { limits } from '../limits.js';
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

  /** Pad the result with this many bytes (to show what happens to a result over the size limit). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(limits.requestBodyBytes)
  resultBytes?: number;

  /** Pad every checkpoint with this many bytes (to show what happens to a checkpoint over the size limit). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(limits.requestBodyBytes)
  checkpointBytes?: number;
}

export interface DemoStepsOutput {
  steps: number;
  /** `resultBytes` bytes of filler, when asked for. */
  padding?: string;
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
