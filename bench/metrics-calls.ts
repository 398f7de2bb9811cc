// What Conveyor's metrics calls cost in themselves: the same calls a service makes per submission and
// per execution, timed in a process of their own (so that the benchmark process keeps metrics off).
// The on/off runs beside it measure the whole service, but on a shared machine their difference is
// often within the noise.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { countExecutionEvent, countSubmitted, observeHttpRequest, observeQueueWait, observeRun, startMetrics } from '@conveyor/metrics';

const rounds = 200_000;
const ref = { queue: 'demo', task: 'demo.noop' };

/** Microseconds per submission and per execution. */
export interface MetricsCallCost {
  perSubmit: number;
  perExecution: number;
}

export function metricsCallCost(): MetricsCallCost {
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`timing the metrics calls failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as MetricsCallCost;
}

/** Microseconds per round of `calls`, after a warm-up. */
function timed(calls: (i: number) => void): number {
  for (let i = 0; i < rounds / 10; i++) calls(i);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) calls(i);
  return ((performance.now() - started) * 1000) / rounds;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  startMetrics(true);
  const cost: MetricsCallCost = {
    // The gateway's, for one `POST /v1/executions`: the request's timing and the submission.
    perSubmit: timed((i) => {
      observeHttpRequest('POST', '/v1/executions', 202, (i % 50) / 1000);
      countSubmitted(ref);
    }),
    // The worker's, for one execution: its start, wait, run and completion.
    perExecution: timed((i) => {
      countExecutionEvent('execution.started', ref);
      observeQueueWait(ref, i % 7);
      observeRun(ref, (i % 10) / 1000);
      countExecutionEvent('execution.completed', ref);
    }),
  };
  console.log(JSON.stringify(cost));
}
