import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findRegistryProblems, taskHandlers } from './task-handlers.js';

describe('the handler registry', () => {
  it('covers the whole catalogue', () => {
    assert.deepEqual(findRegistryProblems(taskHandlers, ['demo', 'http', 'schedules']), []);
  });

  it('says what to add or remove when it does not', () => {
    const { 'http.request': _missing, ...incomplete } = taskHandlers;
    assert.deepEqual(findRegistryProblems({ ...incomplete, 'report.make': class {} }, ['demo', 'http', 'mail']), [
      'task "http.request" (queue "http") has no handler: add it to taskHandlers in services/worker/src/tasks/task-handlers.ts',
      'handler "report.make" has no task: add the task to taskCatalog in libs/contracts or remove the handler',
      'queue "mail" is used by no task (known: demo, http, schedules)',
    ]);
  });

  it('asks only for the handlers of consumed queues', () => {
    const { 'http.request': _missing, ...demoOnly } = taskHandlers;
    assert.deepEqual(findRegistryProblems(demoOnly, ['demo']), []);
  });
});
