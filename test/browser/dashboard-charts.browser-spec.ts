import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { ConveyorClient } from '@conveyor/client';
import type { EventType } from '@conveyor/contracts';
import { openDashboard, poll, type DashboardInBrowser } from '@conveyor/testing';

/** What the test reads of a canvas in the page (the tests compile without the DOM's types). */
type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };

describe('the dashboard’s queue charts and execution timeline bar, in a real browser', () => {
  let opened: DashboardInBrowser;
  let page: Page;
  let client: ConveyorClient;

  before(async () => {
    opened = await openDashboard({ env: { WORKER_CONCURRENCY: '4' } });
    page = opened.page;
    client = opened.stack.client();
    mkdirSync('test-results', { recursive: true });
  });
  after(async () => {
    client?.close();
    await opened?.close();
  });

  /** Resolves once the execution has an event of this type (its history first, then live). */
  const reached = (id: string, type: EventType) =>
    new Promise<void>((resolve) => {
      const watch = client.watch(id, { onEvent: (event) => event.type === type && (watch.stop(), resolve()) }, { since: 0 });
    });
  /** How many pixels of a chart's canvas are drawn in this color: a series it plots, if any. */
  const pixelsOf = (chart: string, color: string) =>
    page.locator(`[data-chart=${chart}] canvas`).evaluate((element, hex) => {
      const canvas = element as unknown as Canvas;
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let count = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] === r && data[i + 1] === g && data[i + 2] === b) count++;
      return count;
    }, color);
  const total = async (field: string) => Number(await page.locator(`[data-total=${field}] dd`).textContent());

  it('charts a queue’s endings and waits of the last hour, and follows new ones live', async () => {
    // Held in the paused queue until the last is due, then started together: each waits from when it was
    // due, about 2, 1.5, 1 and 0.5 s, so that the minute's p50 and p95 differ (were they equal, the p95
    // dot would hide the p50 one).
    await client.queues.pause('demo');
    const runs = await Promise.all([
      ...[500, 1000, 1500].map((delayMs) => client.submit('demo.steps', { steps: 1, stepMs: 20 }, { delayMs })),
      client.submit('demo.steps', { steps: 1, stepMs: 20, failTimes: 1 }, { attempts: 1 }),
    ]).finally(() => setTimeout(2000).then(() => client.queues.resume('demo')));
    await Promise.all(runs.map(({ id }) => client.watch(id).done));

    await page.goto(`${opened.dashboard}#/queues/demo`);
    await page.locator('.live.up').waitFor();
    await page.locator('[data-chart=ended] canvas').waitFor();
    assert.equal(await total('completed'), 3);
    assert.equal(await total('failed'), 1);
    assert.equal(await total('started'), 4);
    // The stylesheet's colors: completed, failed; the waits' p50 and p95 (a dot of one minute is some 18 pixels).
    for (const [chart, color] of [['ended', '#16a34a'], ['ended', '#dc2626'], ['waits', '#2563eb'], ['waits', '#7c3aed']]) {
      // Drawn once the page has the minutes' stats: waited for, not read once.
      await poll(() => pixelsOf(chart, color), { until: (pixels) => pixels > 10, label: `the ${chart} chart drawing ${color}`, timeoutMs: 10_000 });
    }

    // A run that ends while the page is open is counted without a reload.
    await client.watch((await client.submit('demo.noop', {})).id).done;
    await page.locator('[data-total=completed] dd', { hasText: '4' }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: resolve('test-results/dashboard-queue-charts.png'), fullPage: true });
  });

  it('draws an execution’s course as a bar: scheduled, running, paused, retry wait', async () => {
    // Delayed, paused at a checkpoint before step 3 and resumed, then failing once at step 3 and retried after a second.
    const { id } = await client.submit('demo.steps', { steps: 4, stepMs: 500, failTimes: 1, failAtStep: 3 }, { delayMs: 800, attempts: 2, backoff: { type: 'fixed', delayMs: 1000 } });
    await reached(id, 'execution.started');
    await client.pause(id);
    await reached(id, 'execution.paused');
    await client.resume(id);
    assert.equal((await client.watch(id).done).status, 'completed');

    await page.goto(`${opened.dashboard}#/executions/${id}`);
    await page.locator('.timeline .event-completed').waitFor();
    const kinds = await page.locator('.timeline-track [data-segment]').evaluateAll((spans) => spans.map((span) => span.getAttribute('data-segment')));
    // Between them, moments queued (waiting for a worker).
    assert.deepEqual(
      kinds.filter((kind) => kind !== 'queued'),
      ['scheduled', 'running', 'paused', 'running', 'retrying', 'running'],
      kinds.join(', '),
    );
    const widths = await page.locator('.timeline-track [data-segment]').evaluateAll((spans) => spans.map((span) => span.getBoundingClientRect().width));
    const track = await page.locator('.timeline-track').evaluate((el) => el.getBoundingClientRect().width);
    assert.ok(Math.abs(widths.reduce((sum, w) => sum + w, 0) - track) < kinds.length * 2, 'the spans fill the bar');
    assert.match((await page.locator('.timeline-legend').textContent()) ?? '', /Retry wait\s*(1 s|9\d\d ms)/);
    await page.locator('.execution-page').screenshot({ path: resolve('test-results/dashboard-timeline-bar.png') });
  });
});
