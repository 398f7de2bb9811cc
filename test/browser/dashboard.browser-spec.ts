import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ConveyorClient } from '@conveyor/client';
import { openDashboard, poll, type Stack } from '@conveyor/testing';

const screenshot = resolve('test-results/dashboard.png');

describe('the dashboard at /ui, in a real browser', () => {
  let stack: Stack;
  let client: ConveyorClient;
  let browser: Browser;
  let page: Page;
  let dashboard: string;

  before(async () => {
    ({ stack, dashboard, browser, page } = await openDashboard({ env: { WORKER_CONCURRENCY: '4' } }));
    client = stack.client();
  });
  after(async () => {
    await browser?.close();
    client?.close();
    await stack?.stop();
  });

  it('tells the dashboard where the monitor is: MONITOR_URL, else its own host on MONITOR_PORT', async () => {
    const configured = await (await fetch(new URL('/ui/settings.json', dashboard))).json();
    assert.deepEqual(configured, { monitorUrl: stack.monitors.at(-1)!.url, bullBoardPath: '/admin/queues' });
    const derived = await stack.api.get('/ui/settings.json');
    assert.equal(derived.body.monitorUrl, 'http://127.0.0.1:3001');
  });

  it('shows a submitted run’s progress live up to 100 %, and a cancelled run as cancelled, without reloading', async () => {
    await page.goto(dashboard);
    await page.locator('.live.up').waitFor();
    await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));

    const finished = await submit(page, { steps: 8, stepMs: 250 });
    const bar = page.locator(`tr[data-execution-id="${finished}"] [role=progressbar]`);
    await page.waitForFunction((el) => Number(el?.getAttribute('aria-valuenow')) > 0 && Number(el?.getAttribute('aria-valuenow')) < 100, await bar.elementHandle(), { timeout: 20_000 });
    await page.locator(`tr[data-execution-id="${finished}"] [data-status=completed]`).waitFor({ timeout: 20_000 });
    assert.equal(await bar.getAttribute('aria-valuenow'), '100');

    const cancelled = await submit(page, { steps: 100, stepMs: 200 });
    const row = page.locator(`tr[data-execution-id="${cancelled}"]`);
    await row.locator('[data-status=running]').waitFor({ timeout: 20_000 });
    await row.getByRole('button', { name: 'Cancel' }).click();
    await row.locator('[data-status=cancelled]').waitFor({ timeout: 20_000 });
    assert.equal((await client.get(cancelled)).status, 'cancelled');

    assert.equal(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was never reloaded');
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`dashboard screenshot: ${screenshot}`);
  });

  it('opens an execution with its timeline and logs, and follows the queue counts', async () => {
    const submitted = await submit(page, { steps: 3, stepMs: 100 });
    await page.locator(`tr[data-execution-id="${submitted}"] [data-status=completed]`).waitFor({ timeout: 20_000 });
    // The counts follow a moment later: the monitor sends a queue's changed counts at most once every `queueCountsIntervalMs`.
    const completedCount = page.locator('[data-queue=demo] [data-count=completed] dd');
    await poll(() => completedCount.textContent(), { until: (text) => Number(text) >= 2, label: 'the demo queue counting both completed runs', timeoutMs: 20_000 });

    await page.locator(`tr[data-execution-id="${submitted}"] a.task-name`).click();
    await page.locator(`.execution-page[data-execution-id="${submitted}"]`).waitFor();
    // The replay of its events comes over the socket after the page has drawn.
    await page.locator('.timeline .event-completed').waitFor();
    const types = await page.locator('.timeline .event-type').allTextContents();
    assert.deepEqual([types[0], types[1], types.at(-1)], ['queued', 'started', 'completed']);
    assert.ok(types.slice(2, -1).length > 0 && types.slice(2, -1).every((type) => type === 'progress'), types.join(', '));
    await page.locator('.logs', { hasText: 'attempt 1: starting' }).waitFor();
    await page.screenshot({ path: resolve('test-results/dashboard-execution.png'), fullPage: true });
  });

  it('lists schedules with their next run, and disables, enables and runs one now', async () => {
    const schedule = await client.schedules.create({ name: 'nightly-report', task: 'demo.noop', input: {}, every: 3_600_000 });
    await page.goto(new URL('#/schedules', page.url()).href);
    const row = page.locator(`tr[data-schedule-id="${schedule.id}"]`);
    await row.locator('[data-state=active]').waitFor();
    assert.match((await row.textContent()) ?? '', /every 1 h.*in (59 min|1 h)/);

    await row.getByRole('button', { name: 'Disable' }).click();
    await row.locator('[data-state=disabled]').waitFor();
    assert.equal((await client.schedules.get(schedule.id)).enabled, false);
    await row.getByRole('button', { name: 'Enable' }).click();
    await row.locator('[data-state=active]').waitFor();

    assert.equal(await row.locator('td.last-run').textContent(), '—');
    await row.getByRole('button', { name: 'Run now' }).click();
    // The run fires on a worker; its schedule.fired event updates the row.
    await row.locator('td.last-run', { hasText: /now|ago/ }).waitFor();
    const { items } = await client.schedules.runs(schedule.id);
    assert.equal(items.length, 1, 'run now made one execution');
    await page.screenshot({ path: resolve('test-results/dashboard-schedules.png') });
  });

  it('opens Bull Board from its link, with every queue', async () => {
    await page.goto(dashboard);
    const [board] = await Promise.all([page.context().waitForEvent('page'), page.getByRole('link', { name: /Bull Board/ }).click()]);
    try {
      for (const queue of ['demo', 'http', 'schedules']) await board.getByRole('link', { name: queue, exact: true }).waitFor();
      assert.equal(new URL(board.url()).pathname, '/admin/queues');
      await board.screenshot({ path: resolve('test-results/bull-board.png') });
    } finally {
      await board.close();
    }
  });
});

/** Submits a `demo.steps` run through the dashboard's form; the id it shows. */
async function submit(page: Page, input: { steps: number; stepMs: number }): Promise<string> {
  await page.goto(new URL('#/executions', page.url()).href);
  const form = page.getByRole('form', { name: 'Submit an execution' });
  await form.locator('select[name=task]').selectOption('demo.steps');
  await form.locator('input[name=input]').fill(JSON.stringify(input));
  const shown = page.locator('[data-submitted]');
  const previous = (await shown.count()) > 0 ? await shown.getAttribute('data-submitted') : null;
  await form.getByRole('button', { name: 'Submit' }).click();
  const notice = page.locator(`[data-submitted]:not([data-submitted="${previous}"])`);
  await notice.waitFor();
  const id = (await notice.getAttribute('data-submitted'))!;
  await page.locator(`tr[data-execution-id="${id}"]`).waitFor();
  return id;
}
