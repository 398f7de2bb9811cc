// What Conveyor's metrics calls cost in themselves, timed in this process: the same calls a service
// makes per submission and per execution. The on/off runs beside it measure the whole service, but
// on a shared machine their difference is often within the noise.
import { countExecutionEvent, countSubmitted, observeHttpRequest, observeQueueWait, observeRun, startMetrics } from '@conveyor/metrics';

const rounds = 200_000;
const ref = { queue: 'demo', task: 'demo.noop' };

/** Microseconds per round of `calls`, metrics on (as in a service: labels, histograms, counters). */
function timed(calls: (i: number) => void): number {
  startMetrics(true);
  for (let i = 0; i < rounds / 10; i++) calls(i);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) calls(i);
  return ((performance.now() - started) * 1000) / rounds;
}

/** The gateway's calls for one `POST /v1/executions`: the request's timing and the submission. */
export const metricsPerSubmit = () =>
  timed((i) => {
    observeHttpRequest('POST', '/v1/executions', 202, (i % 50) / 1000);
    countSubmitted(ref);
  });

/** The worker's calls for one execution: its start, wait, run and completion. */
export const metricsPerExecution = () =>
  timed((i) => {
    countExecutionEvent('execution.started', ref);
    observeQueueWait(ref, i % 7);
    observeRun(ref, (i % 10) / 1000);
    countExecutionEvent('execution.completed', ref);
  });
