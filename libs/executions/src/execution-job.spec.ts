import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoSteps } from '@conveyor/contracts';
import { checkExecutionJob, checkJobInput, inputCheckMark, isJobRefusal } from './execution-job.js';
import type { ExecutionJobData } from './execution-record.js';

describe('checkExecutionJob', () => {
  const id = 'exec_01M862CJRHAMBFM3S2NG72JCRG';
  const data = { v: 1, tenant: 'acme', input: { payload: 1 }, timeoutMs: 5000, backoff: { type: 'fixed', delayMs: 10 } };

  it('accepts what Conveyor writes, and fills in what a job added by hand leaves out', () => {
    const full = checkExecutionJob('demo', { id, name: 'demo.noop', data: { ...data, scheduleId: 'sch_01M862CJRHAMBFM3S2NG72JCRG' } });
    assert.ok(!isJobRefusal(full));
    assert.deepEqual(full.ref, { id, queue: 'demo', task: 'demo.noop', tenant: 'acme', scheduleId: 'sch_01M862CJRHAMBFM3S2NG72JCRG' });
    assert.deepEqual(full.data, { ...data, scheduleId: 'sch_01M862CJRHAMBFM3S2NG72JCRG' });

    const bare = checkExecutionJob('demo', { id, name: 'demo.noop', data: {} });
    assert.ok(!isJobRefusal(bare));
    assert.deepEqual(bare.data, { v: 1, tenant: 'default', input: {}, timeoutMs: null, backoff: { type: 'fixed', delayMs: 0 } });
  });

  it('checks the mark of each job, however often its envelope was seen', () => {
    const check = (inputCheck: unknown) => checkExecutionJob('demo', { id, name: 'demo.noop', data: { ...data, inputCheck } });
    for (const mark of ['1:first', '1:second']) {
      const checked = check(mark);
      assert.ok(!isJobRefusal(checked));
      assert.equal(checked.data.inputCheck, mark);
    }
    for (const mark of [5, 'x'.repeat(101)]) {
      const checked = check(mark);
      assert.ok(isJobRefusal(checked));
      assert.match(checked.message, /data\.inputCheck/);
    }
    const unmarked = check(undefined);
    assert.ok(!isJobRefusal(unmarked));
    assert.equal(unmarked.data.inputCheck, undefined);
  });

  const refused: [string, { id?: string; name?: string; data?: unknown }, string, RegExp][] = [
    ['an auto id', { id: '1' }, 'invalid_job', /Job id "1" is not an execution id/],
    ['no id', { id: undefined }, 'invalid_job', /Job id "" is not an execution id/],
    ['an unknown task', { name: 'demo.nope' }, 'unknown_task', /No task "demo\.nope" runs on queue "demo"/],
    ["another queue's task", { name: 'http.request' }, 'unknown_task', /No task "http\.request" runs on queue "demo"/],
    ['data that is not an object', { data: 'x' }, 'invalid_job', /Job data must be an object/],
    ['a newer format', { data: { ...data, v: 2 } }, 'unsupported_format', /format v2 is newer/],
    ['a format that is no number', { data: { ...data, v: '1' } }, 'invalid_job', /data\.v: must be one of/],
    ['a malformed tenant', { data: { ...data, tenant: 'Acme:{x}' } }, 'invalid_job', /data\.tenant: must be a tenant name/],
    ['a tenant too long', { data: { ...data, tenant: 'a'.repeat(33) } }, 'invalid_job', /data\.tenant/],
    ['a malformed schedule id', { data: { ...data, scheduleId: 'sch_1:*' } }, 'invalid_job', /data\.scheduleId: must be a schedule id/],
    ['a bad timeout', { data: { ...data, timeoutMs: -1 } }, 'invalid_job', /data\.timeoutMs/],
    ['a bad backoff', { data: { ...data, backoff: { type: 'sometimes', delayMs: 1 } } }, 'invalid_job', /data\.backoff\.type/],
    ['an unknown field', { data: { ...data, queue: 'other' } }, 'invalid_job', /data\.queue: should not exist/],
    ['a prototype key', { data: JSON.parse('{"tenant":{"constructor":1}}') }, 'invalid_job', /data\.tenant\.constructor/],
  ];
  for (const [what, job, code, message] of refused) {
    it(`refuses ${what} (${code})`, () => {
      const checked = checkExecutionJob('demo', { id, name: 'demo.noop', data, ...job });
      assert.ok(isJobRefusal(checked), JSON.stringify(checked));
      assert.equal(checked.code, code);
      assert.match(checked.message, message);
    });
  }
});

describe('checkJobInput', () => {
  const task = demoSteps;
  const data = (input: unknown, inputCheck?: string): ExecutionJobData => ({
    v: 1,
    tenant: 'acme',
    input,
    timeoutMs: null,
    backoff: { type: 'fixed', delayMs: 0 },
    ...(inputCheck ? { inputCheck } : {}),
  });
  const valid = { steps: 2, stepMs: 0 };

  it('checks an unmarked input against the task\'s class', () => {
    const checked = checkJobInput(task, data(valid));
    assert.ok(checked.ok && checked.value instanceof task.input);
    assert.ok(!checkJobInput(task, data({ steps: 'many', stepMs: 0 })).ok);
  });

  it('trusts an input whose mark fits, as stored', () => {
    const checked = checkJobInput(task, data(valid, inputCheckMark(task, valid)));
    assert.ok(checked.ok);
    assert.deepEqual(checked.value, valid);
  });

  it('checks an input again when its mark does not fit: edited, or of another task version', () => {
    const edited = { steps: 'many', stepMs: 0 };
    assert.ok(!checkJobInput(task, data(edited, inputCheckMark(task, valid))).ok);
    const older = `${task.version - 1}:${inputCheckMark(task, edited).split(':')[1]}`;
    assert.ok(!checkJobInput(task, data(edited, older)).ok);
  });

  it('checks the shape of a marked input still: a forged mark lets no prototype key through', () => {
    const hostile = JSON.parse('{"steps":1,"stepMs":0,"extra":{"__proto__":{"polluted":true}}}');
    const checked = checkJobInput(task, data(hostile, inputCheckMark(task, hostile)));
    assert.ok(!checked.ok);
    assert.deepEqual(checked.errors.map((e) => e.path), ['input.extra.__proto__']);
  });
});
