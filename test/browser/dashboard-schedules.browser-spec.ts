import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { ConveyorClient } from '@conveyor/client';
import { freePort } from '@conveyor/launcher';
import { openDashboard, poll, Stack, type DashboardInBrowser } from '@conveyor/testing';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = resolve('test-results');

/** A field of the schedule form by its name. */
const input = (form: Locator, name: string) => form.locator(`[name=${name}]`);

describe('the dashboard’s schedules, in a real browser', () => {
  let opened: DashboardInBrowser;
  let page: Page;
  let client: ConveyorClient;

  before(async () => {
    opened = await openDashboard();
    page = opened.page;
    client = opened.stack.client();
    mkdirSync(screenshots, { recursive: true });
  });
  after(async () => {
    client?.close();
    await opened?.close();
  });

  it('creates a schedule: a bad cron refused beside its field, the fixed one’s next times, then run now, live', async () => {
    await page.goto(`${opened.dashboard}#/schedules`);
    await page.locator('.live.up').waitFor();
    await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));
    await page.getByRole('link', { name: 'New schedule' }).click();
    const form = page.getByRole('form', { name: 'Create a schedule' });
    await input(form, 'name').fill('weekday-mornings');
    await input(form, 'task').selectOption('demo.noop');
    await input(form, 'cron').fill('61 9 * * 1-5');
    await input(form, 'tz').fill('Europe/Berlin');
    // The preview already says what is wrong, as one types.
    await form.locator('[data-preview-error]', { hasText: 'cron is not a valid cron expression' }).waitFor();

    await form.getByRole('button', { name: 'Create' }).click();
    const cronError = form.locator('[data-field-error=cron]');
    await cronError.waitFor();
    assert.match((await cronError.textContent())!, /^is not a valid cron expression/);
    assert.equal(await input(form, 'cron').getAttribute('aria-invalid'), 'true');
    assert.equal(await form.locator('[data-field-error]').count(), 1, 'only the cron is wrong');
    await page.screenshot({ path: resolve(screenshots, 'schedule-form-error.png'), fullPage: true });

    await input(form, 'cron').fill('0 9 * * 1-5');
    const times = form.locator('.next-times li[data-time]');
    await times.nth(4).waitFor();
    const expected = await client.schedules.preview({ cron: '0 9 * * 1-5', tz: 'Europe/Berlin', count: 5 });
    assert.deepEqual(await times.evaluateAll((items) => items.map((item) => item.getAttribute('data-time'))), expected.items, 'the server’s times');
    assert.ok((await times.allTextContents()).every((shown) => shown.includes('09:00:00')), 'shown in the schedule’s zone');

    await form.getByRole('button', { name: 'Create' }).click();
    const schedulePage = page.locator('.schedule-page[data-schedule-id]');
    await schedulePage.waitFor();
    const id = (await schedulePage.getAttribute('data-schedule-id'))!;
    const created = await client.schedules.get(id);
    assert.deepEqual([created.name, created.task, created.cron, created.tz, created.state], ['weekday-mornings', 'demo.noop', '0 9 * * 1-5', 'Europe/Berlin', 'active']);

    await schedulePage.getByRole('button', { name: 'Run now' }).click();
    // Nothing polls while live: the run comes with the schedule's events, and completes in place.
    await schedulePage.locator('tr[data-execution-id] [data-status=completed]').waitFor({ timeout: 20_000 });
    const runs = await client.schedules.runs(id);
    assert.equal(runs.items.length, 1);
    assert.equal(await schedulePage.locator(`tr[data-execution-id="${runs.items[0].id}"]`).count(), 1);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was never reloaded');
    await page.screenshot({ path: resolve(screenshots, 'schedule-page.png'), fullPage: true });
  });

  it('edits every field of a schedule, shows each refusal beside its field, and disables and enables it', async () => {
    const schedule = await client.schedules.create({ name: 'hourly', task: 'demo.noop', every: 3_600_000 });
    await page.goto(`${opened.dashboard}#/schedules/${schedule.id}`);
    const form = page.getByRole('form', { name: 'Edit the schedule' });
    await input(form, 'every').waitFor();
    await form.locator('.next-times li[data-time]').nth(4).waitFor();

    await input(form, 'attempts').fill('0');
    await input(form, 'startAt').fill('tomorrow');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.locator('[data-field-error=attempts]', { hasText: 'must not be less than 1' }).waitFor();
    assert.match((await form.locator('[data-field-error=startAt]').textContent())!, /ISO 8601/);

    await input(form, 'name').fill('steps-twice');
    await input(form, 'task').selectOption('demo.steps');
    await input(form, 'input').fill('{"steps":2,"stepMs":10}');
    await form.getByRole('radio', { name: 'Cron' }).check();
    await input(form, 'cron').fill('30 2 * * *');
    await input(form, 'tz').fill('America/New_York');
    await input(form, 'runImmediately').check();
    await input(form, 'startAt').fill('');
    await input(form, 'endAt').fill('2099-01-01T00:00:00.000Z');
    await input(form, 'limit').fill('3');
    await input(form, 'overlap').selectOption('allow');
    await input(form, 'pauseAfterFailures').fill('2');
    await input(form, 'priority').fill('high');
    await input(form, 'attempts').fill('2');
    await input(form, 'timeoutMs').fill('5000');
    await input(form, 'backoff').fill('{"type":"fixed","delayMs":100}');
    await input(form, 'tags').fill('nightly, reports');
    await input(form, 'enabled').uncheck();
    await form.getByRole('button', { name: 'Save' }).click();
    await page.locator('.schedule-page [data-state=disabled]').waitFor();
    const { id: _id, state, createdAt: _c, updatedAt: _u, seq: _s, nextRunAt: _n, lastRunAt: _l, runCount: _r, tenant: _t, ...saved } = await client.schedules.get(schedule.id);
    assert.equal(state, 'disabled');
    assert.deepEqual(saved, {
      name: 'steps-twice',
      task: 'demo.steps',
      input: { steps: 2, stepMs: 10 },
      cron: '30 2 * * *',
      tz: 'America/New_York',
      every: null,
      at: null,
      runImmediately: true,
      startAt: null,
      endAt: '2099-01-01T00:00:00.000Z',
      limit: 3,
      overlap: 'allow',
      pauseAfterFailures: 2,
      priority: 'high',
      attempts: 2,
      backoff: { type: 'fixed', delayMs: 100 },
      timeoutMs: 5000,
      tags: ['nightly', 'reports'],
      enabled: false,
      failureStreak: 0,
    });

    const actions = page.locator('.schedule-page .card-actions');
    await actions.getByRole('button', { name: 'Enable' }).click();
    await page.locator('.schedule-page [data-state=active]').waitFor();
    assert.equal(await input(page.getByRole('form', { name: 'Edit the schedule' }), 'enabled').isChecked(), true, 'the form follows');
    await actions.getByRole('button', { name: 'Disable' }).click();
    await page.locator('.schedule-page [data-state=disabled]').waitFor();
    assert.equal((await client.schedules.get(schedule.id)).enabled, false);

    await actions.getByRole('button', { name: 'Delete' }).click();
    await actions.getByRole('button', { name: 'Delete for good' }).click();
    await page.locator('.table.schedules tr[data-schedule-id]').first().waitFor();
    assert.equal(await page.locator(`tr[data-schedule-id="${schedule.id}"]`).count(), 0);
    await assert.rejects(client.schedules.get(schedule.id), { statusCode: 404 });
  });
});

// A proxy that blocks websockets, a monitor that is down: the same to the page.
describe('the dashboard without its live connection, in a real browser', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let gatewayUrl: string;
  let monitorPort: number;

  before(async () => {
    stack = await Stack.start({ monitors: 0 });
    monitorPort = await freePort();
    gatewayUrl = (await stack.startGateway({ MONITOR_URL: `http://127.0.0.1:${monitorPort}` })).url!;
    browser = await chromium.launch({ executablePath, args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (error) => console.error('page error:', error));
    mkdirSync(screenshots, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows what REST answers and says it is not live; goes live once the monitor answers', async () => {
    const client = stack.client();
    const done = await client.submit('demo.steps', { steps: 2, stepMs: 10 });
    await poll(() => client.get(done.id), { until: (execution) => execution.status === 'completed', label: 'the run to complete' });

    await page.goto(`${gatewayUrl}/ui/#/executions/${done.id}`);
    await page.locator('.not-live[role=status]').waitFor();
    assert.equal(await page.locator('.live').textContent(), 'Not live');
    await page.locator(`.execution-page[data-execution-id="${done.id}"] [data-status=completed]`).waitFor();
    await page.locator('.timeline .event-completed').waitFor();
    await page.screenshot({ path: resolve(screenshots, 'not-live.png'), fullPage: true });

    // Read again from REST while not live: a run submitted meanwhile shows in the list.
    await page.goto(`${gatewayUrl}/ui/#/executions`);
    const later = await client.submit('demo.noop', {});
    await page.locator(`tr[data-execution-id="${later.id}"]`).waitFor({ timeout: 15_000 });

    await stack.startMonitor({ MONITOR_PORT: String(monitorPort), CONVEYOR_CORS_ORIGINS: new URL(gatewayUrl).origin });
    await page.locator('.live.up').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('.not-live').count(), 0);
    const live = await client.submit('demo.steps', { steps: 2, stepMs: 300 });
    await page.locator(`tr[data-execution-id="${live.id}"] [data-status=completed]`).waitFor({ timeout: 20_000 });
    client.close();
  });
});

