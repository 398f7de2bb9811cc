import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient, ListFilters } from '@conveyor/client';
import type { ExecutionView } from '@conveyor/contracts';
import { Stack } from '@conveyor/testing';

describe('finding executions', () => {
  let stack: Stack;
  let client: ConveyorClient;
  const submitted: ExecutionView[] = [];
  const cancelled = new Set<string>();

  before(async () => {
    stack = await Stack.start({ workers: 0, monitors: 0 });
    client = stack.client();
    for (let i = 0; i < 30; i++) {
      submitted.push(await client.submit('demo.noop', {}, { tags: [i % 2 ? 'b' : 'a'] }));
    }
    for (let i = 0; i < 10; i++) {
      submitted.push(await client.submit('demo.steps', { steps: 1, stepMs: 0 }, { tags: ['a'], delayMs: 60_000 }));
    }
    for (const execution of submitted.slice(0, 5)) {
      await client.cancel(execution.id);
      cancelled.add(execution.id);
    }
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  const newestFirst = (executions: ExecutionView[]) => executions.map((e) => e.id).sort().reverse();
  const statusOf = (e: ExecutionView) => (cancelled.has(e.id) ? 'cancelled' : e.status);

  it('lists newest first with totals per status', async () => {
    const page = await client.list();
    assert.deepEqual(page.items.map((e) => e.id), newestFirst(submitted));
    assert.equal(page.nextCursor, null);
    assert.deepEqual(page.totals, { queued: 25, scheduled: 10, running: 0, paused: 0, completed: 0, failed: 0, cancelled: 5 });
  });

  it('lists summaries: each execution as it reads, without input and result', async () => {
    const { items } = await client.list({ status: ['cancelled', 'queued', 'scheduled'], tag: ['a'], limit: 50 });
    assert.ok(items.some((e) => e.status === 'cancelled') && items.some((e) => e.status === 'scheduled'));
    for (const item of items) {
      const { input: _input, result: _result, ...summary } = await client.get(item.id);
      assert.deepEqual(item, summary);
    }
  });

  it('filters by status, task, tag and queue: alternatives with commas, filters combined', async () => {
    const cases: [ListFilters, (e: ExecutionView) => boolean][] = [
      [{ status: ['cancelled'] }, (e) => statusOf(e) === 'cancelled'],
      [{ status: ['queued', 'cancelled'] }, (e) => ['queued', 'cancelled'].includes(statusOf(e))],
      [{ task: ['demo.steps'] }, (e) => e.task === 'demo.steps'],
      [{ tag: ['a'], task: ['demo.noop'] }, (e) => e.tags.includes('a') && e.task === 'demo.noop'],
      [{ tag: ['a', 'b'], status: ['queued'] }, (e) => statusOf(e) === 'queued'],
      [{ queue: ['http'] }, () => false],
      [{ queue: ['demo'], status: ['scheduled'], tag: ['b'] }, () => false],
    ];
    for (const [filters, expected] of cases) {
      const page = await client.list(filters);
      assert.deepEqual(page.items.map((e) => e.id), newestFirst(submitted.filter(expected)), JSON.stringify(filters));
    }
  });

  it('pages with a cursor without skipping or repeating while new executions arrive', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let newcomers = 0;
    do {
      const page = await client.list({ limit: 7, cursor });
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
      await Promise.all([1, 2].map(() => client.submit('demo.noop', {})));
      newcomers += 2;
    } while (cursor);
    assert.ok(newcomers >= 12);
    assert.deepEqual(seen, newestFirst(submitted), 'every execution once, newest first; newer ones wait for the next first page');
  });

  // Raw: the 400 answers are the subject, and the client's types do not allow most of these.
  it('rejects bad filters, limits and cursors', async () => {
    for (const [query, path] of [['status=bogus', 'status'], ['limit=501', 'limit'], ['limit=0', 'limit'], ['cursor=abc', 'cursor'], ['colour=red', 'colour']]) {
      const reply = await stack.api.get(`/v1/executions?${query}`);
      assert.equal(reply.status, 400, query);
      assert.equal(reply.body.details[0].path, path, query);
    }
  });

  it('forgets a deleted execution in lists and totals', async () => {
    const [first] = submitted;
    await client.delete(first.id);
    const page = await client.list({ status: ['cancelled'] });
    assert.equal(page.items.some((e) => e.id === first.id), false);
    assert.equal(page.totals.cancelled, 4);
  });
});
