import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { ConveyorClient } from '@conveyor/client';
import { signatureHeader, signWebhook, verifyWebhook } from '@conveyor/contracts/core';
import { openDashboard, poll, WebhookReceiver, type DashboardInBrowser } from '@conveyor/testing';

const screenshots = resolve('test-results');
mkdirSync(screenshots, { recursive: true });

/** The value of a fact (`<dt>name</dt><dd>value</dd>`) inside `within`. */
const fact = (within: Locator, name: string) => within.locator(`div:has(> dt:text-is("${name}")) > dd`).textContent() as Promise<string>;

// Live, the pages follow the tenant's events; not live, they read REST again every few seconds: both must show the same.
for (const notLive of [false, true]) {
  describe(`the dashboard’s inbound hooks and webhooks, in a real browser${notLive ? ', not live' : ''}`, () => {
    const mode = notLive ? 'not-live' : 'live';
    let receiver: WebhookReceiver;
    let opened: DashboardInBrowser;
    let page: Page;
    let client: ConveyorClient;

    before(async () => {
      receiver = await WebhookReceiver.start();
      opened = await openDashboard({ notLive, env: { EGRESS_ALLOW_PRIVATE: '127.0.0.1', WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}` } });
      ({ page } = opened);
      client = opened.stack.client();
    });
    after(async () => {
      client?.close();
      await opened?.close();
      await receiver?.stop();
    });

    it('makes a hook (URL and secret shown once), sees its call’s run appear, and revokes it', async () => {
      const schedule = await client.schedules.create({ name: 'on-push', task: 'demo.steps', input: { steps: 1, stepMs: 10 }, every: 3_600_000 });
      await page.goto(`${opened.dashboard}#/schedules/${schedule.id}`);
      await page.locator(`.live[data-live=${notLive ? 'down' : 'live'}]`).waitFor();
      const form = page.getByRole('form', { name: 'Make a hook' });
      await form.locator('[name=description]').fill('from the build server');
      await form.getByRole('button', { name: 'Make a hook' }).click();

      const created = page.locator('.shown-once');
      await created.getByText('Shown only now: copy them.').waitFor();
      const url = await fact(created, 'URL');
      assert.match(url, /\/v1\/hooks\/hkt_[A-Za-z0-9_-]{43}$/);
      const secret = await fact(created, 'Secret');
      const [listed] = (await client.schedules.hooks.list(schedule.id)).items;
      await page.locator(`tr[data-hook-id="${listed.id}"]`, { hasText: 'from the build server' }).waitFor();

      // Signed with the secret shown: a wrong one would be refused with 401.
      const body = JSON.stringify({ steps: 2 });
      const headers = { 'content-type': 'application/json', [signatureHeader]: await signWebhook(body, [secret]) };
      const call = await fetch(url, { method: 'POST', headers, body });
      assert.equal(call.status, 202);
      const { id: runId } = (await call.json()) as { id: string };
      await page.locator(`.schedule-page tr[data-execution-id="${runId}"] [data-status=completed]`).waitFor({ timeout: 20_000 });
      assert.deepEqual((await client.get(runId)).input, { steps: 2, stepMs: 10 }, 'the body merged over the schedule’s input');
      await page.screenshot({ path: resolve(screenshots, `schedule-hooks-${mode}.png`), fullPage: true });

      const row = page.locator(`tr[data-hook-id="${listed.id}"]`);
      await row.getByRole('button', { name: 'Revoke' }).click();
      await row.getByRole('button', { name: 'Revoke for good' }).click();
      await page.locator('.hooks').waitFor({ state: 'detached' });
      const refused = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(refused.status, 404);
    });

    it('lists the webhook endpoints and, for one, its delivered deliveries with their attempts', async () => {
      const endpoint = await client.webhooks.create({ url: receiver.url('/conveyor'), events: ['execution.completed'], filters: { tag: 'shipped' } });
      await page.goto(`${opened.dashboard}#/webhooks`);
      await page.getByRole('link', { name: receiver.url('/conveyor') }).click();
      const deliveries = page.locator('.deliveries');
      await page.getByText('Nothing delivered to this endpoint yet.').waitFor();

      const execution = await client.submit('demo.noop', {}, { tags: ['shipped'] });
      const delivered = deliveries.locator(`tr[data-status=delivered]`, { hasText: execution.id });
      await delivered.waitFor({ timeout: 20_000 });
      assert.match((await delivered.textContent())!, /execution\.completed/);
      assert.equal(await delivered.locator('li[data-status-code="200"]').count(), 1, 'one attempt, answered 200');
      const row = page.locator(`tr[data-webhook-id="${endpoint.id}"]`);
      assert.match((await row.textContent())!, /execution\.completed.*tag: shipped.*Enabled/);
      assert.equal(receiver.to('/conveyor').length, 1);
      await page.screenshot({ path: resolve(screenshots, `webhooks-${mode}.png`), fullPage: true });
    });

    it('adds an endpoint from the page, its secret shown once: the secret that signs its deliveries', async () => {
      await page.goto(`${opened.dashboard}#/webhooks`);
      const form = page.getByRole('form', { name: 'Add an endpoint' });
      await form.locator('[name=url]').fill(receiver.url('/from-form'));
      await form.getByRole('checkbox', { name: 'execution.failed' }).uncheck();
      await form.getByRole('button', { name: 'Add the endpoint' }).click();
      const secret = await fact(form.locator('.shown-once'), 'Secret');
      const [endpoint] = (await client.webhooks.list()).items.filter((listed) => listed.url === receiver.url('/from-form'));
      assert.deepEqual(endpoint.events, ['execution.completed']);
      await page.locator(`tr[data-webhook-id="${endpoint.id}"]`).waitFor();

      await client.submit('demo.noop', {});
      const [hook] = await poll(async () => receiver.to('/from-form'), { until: (hooks) => hooks.length > 0, label: 'a delivery to the new endpoint' });
      assert.equal(await verifyWebhook(hook.body, hook.headers[signatureHeader.toLowerCase()], secret), true);
      await page.screenshot({ path: resolve(screenshots, `webhook-form-${mode}.png`), fullPage: true });
      await form.getByRole('button', { name: 'Done' }).click();
      assert.equal(await page.locator('.shown-once').count(), 0, 'gone once done');
    });
  });
}
