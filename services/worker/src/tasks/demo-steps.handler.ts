import { Injectable } from '@nestjs/common';
import type { demoSteps, DemoStepsInput, DemoStepsOutput } from '@conveyor/contracts';
import type { ExecutionContext } from '../runtime/execution-context.js';
import type { TaskHandler } from './task-handler.js';

interface DemoStepsState {
  /** Steps done so far. */
  done: number;
  padding?: string;
}

@Injectable()
export class DemoStepsHandler implements TaskHandler<typeof demoSteps> {
  async run(input: DemoStepsInput, ctx: ExecutionContext): Promise<DemoStepsOutput> {
    const failAtStep = input.failAtStep ?? 1;
    const failing = ctx.attempt <= (input.failTimes ?? 0);
    const state = ctx.state as DemoStepsState | undefined;
    ctx.log(`attempt ${ctx.attempt}: ${state ? `resuming after step ${state.done}` : 'starting'} (${input.steps} steps of ${input.stepMs} ms)`);
    for (let step = (state?.done ?? 0) + 1; step <= input.steps; step++) {
      if (failing && step === failAtStep) throw new Error(`Failing attempt ${ctx.attempt} at step ${step} as asked (failTimes ${input.failTimes})`);
      await sleep(input.stepMs, input.ignoreSignal ? new AbortController().signal : ctx.signal);
      // Checkpoint first: a step reported done is a step that never runs again.
      await ctx.checkpoint({ done: step, ...padding(input.checkpointBytes) } satisfies DemoStepsState);
      ctx.progress((step / input.steps) * 100, step, `step ${step} of ${input.steps}`);
    }
    return { steps: input.steps, ...padding(input.resultBytes) };
  }
}

function padding(bytes: number | undefined): { padding?: string } {
  return bytes ? { padding: 'x'.repeat(bytes) } : {};
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (ms === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
