import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import type { TaskView } from '@conveyor/contracts';
import { ApiClient, Stack, submitAndWatch } from '@conveyor/testing';

describe('demo tasks turned off (CONVEYOR_DEMO_TASKS=false)', () => {
  let stack: Stack;
  let client: ConveyorClient;
  /** A second gateway, with the demo tasks off; the stack's own keeps the default (on). */
  let off: ApiClient;

  before(async () => {
    stack = await Stack.start({ workers: 0 });
    client = stack.client();
    off = new ApiClient((await stack.startGateway({ CONVEYOR_DEMO_TASKS: 'false' })).url!);
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  const unknownTask = (path: string) => [{ path, message: 'is not a known task (known: http.request)' }];

  it('hides them from the task list, which shows them by default', async () => {
    const names = async (api: ApiClient) => ((await api.get<{ items: TaskView[] }>('/v1/tasks')).body.items).map((task) => task.name);
    assert.deepEqual(await names(off), ['http.request']);
    assert.deepEqual(await names(stack.api), ['demo.steps', 'demo.noop', 'http.request']);
  });

  it('refuses them on submit, in a batch and in a schedule, as unknown tasks', async () => {
    const single = await off.post('/v1/executions', { task: 'demo.noop' });
    assert.equal(single.status, 400);
    assert.equal(single.body.code, 'validation_failed');
    assert.deepEqual(single.body.details, unknownTask('task'));

    const batch = await off.post('/v1/executions/batch', { executions: [{ task: 'demo.steps', input: { steps: 1, stepMs: 0 } }] });
    assert.equal(batch.status, 400);
    assert.deepEqual(batch.body.details, unknownTask('executions[0].task'));

    const schedule = await off.post('/v1/schedules', { name: 'demo', task: 'demo.noop', every: 60_000 });
    assert.equal(schedule.status, 400);
    assert.deepEqual(schedule.body.details, unknownTask('task'));
  });

  it('fails a job of a demo task at once on a worker that has them off, saying why', async () => {
    await stack.startWorker({ CONVEYOR_DEMO_TASKS: 'false', WORKER_QUEUES: 'demo' });
    const run = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0 }, { attempts: 3 });
    const done = await run.done;
    assert.equal(done.status, 'failed');
    assert.deepEqual(done.error, {
      name: 'NonRetryableError',
      code: 'task_disabled',
      message: 'Task "demo.steps" is a demo task, turned off on this worker (CONVEYOR_DEMO_TASKS=false)',
      retryable: false,
    });
    assert.deepEqual(done.attempts, { made: 1, max: 3 });
  });
});
