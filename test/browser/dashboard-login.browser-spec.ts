import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '@conveyor/launcher';
import { stackCredentials, Stack, type ApiClient } from '@conveyor/testing';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// With keys set, the dashboard asks for one: then it acts as that key, live, until the user logs out.
describe('the dashboard with auth on, in a real browser', () => {
  const credentials = stackCredentials(['acme', 'globex']);
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let dashboard: string;
  let acme: ApiClient;
  let globex: ApiClient;

  before(async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    stack = await Stack.start({ monitors: 0, env: { ...credentials.env, CONVEYOR_CORS_ORIGINS: origin } });
    const monitor = await stack.startMonitor();
    dashboard = `${(await stack.startGateway({ GATEWAY_PORT: String(port), MONITOR_URL: monitor.url! })).url}/ui/`;
    acme = stack.api.as(credentials.tenants.acme);
    globex = stack.api.as(credentials.tenants.globex);
    browser = await chromium.launch({ executablePath, args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    page.on('pageerror', (error) => console.error('page error:', error));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('asks for a key, says why one is refused, then shows the tenant’s work live; logging out asks again', async () => {
    await page.goto(dashboard);
    const login = page.locator('form:has(input[name=key])');
    await login.locator('input[name=key]').fill('not-a-key');
    await login.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not a valid API key' }).waitFor();

    await login.locator('input[name=key]').fill(credentials.tenants.acme);
    await login.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.live.up').waitFor();
    await page.locator('.who[data-tenant=acme]').waitFor();
    assert.equal(await page.getByRole('link', { name: /Bull Board/ }).count(), 0, 'Bull Board is offered to admins only');

    // Submitted elsewhere, shown here as it runs (the page's socket holds a browser token of acme).
    const theirs = (await globex.post('/v1/executions', { task: 'demo.steps', input: { steps: 2, stepMs: 50 } })).body.id as string;
    const mine = (await acme.post('/v1/executions', { task: 'demo.steps', input: { steps: 3, stepMs: 200 } })).body.id as string;
    await page.locator(`tr[data-execution-id="${mine}"] [data-status=completed]`).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator(`tr[data-execution-id="${theirs}"]`).count(), 0, 'another tenant’s run is not shown');

    await page.getByRole('button', { name: 'Log out' }).click();
    await login.waitFor();
  });

  it('shows a read-only key every page without the controls that change something', async () => {
    const schedule = (await acme.post('/v1/schedules', { name: 'read-me', task: 'demo.noop', every: 3_600_000 })).body.id as string;
    const hook = (await acme.post(`/v1/schedules/${schedule}/hooks`, {})).body.id as string;
    const endpoint = (await acme.post('/v1/webhooks', { url: 'https://example.com/conveyor', events: ['execution.failed'] })).body.id as string;
    const viewer = (await stack.api.as(credentials.admin).post('/v1/api-keys', { tenant: 'acme', name: 'viewer', role: 'read' })).body.key as string;
    await page.goto(dashboard);
    const login = page.locator('form:has(input[name=key])');
    await login.locator('input[name=key]').fill(viewer);
    await login.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.who[data-tenant=acme]').waitFor();
    await page.locator('.table.executions').waitFor();
    assert.equal(await page.getByRole('form', { name: 'Submit an execution' }).count(), 0);

    await page.goto(`${dashboard}#/schedules`);
    await page.locator(`tr[data-schedule-id="${schedule}"] [data-state=active]`).waitFor();
    assert.equal(await page.getByRole('link', { name: 'New schedule' }).count(), 0);
    assert.equal(await page.locator(`tr[data-schedule-id="${schedule}"] button`).count(), 0);

    await page.goto(`${dashboard}#/schedules/${schedule}`);
    await page.getByRole('heading', { name: 'Definition' }).waitFor();
    await page.locator(`tr[data-hook-id="${hook}"]`).waitFor();
    assert.equal(await page.locator('.schedule-page button').count(), 0, 'no run now, enable, disable, delete, save, revoke');
    assert.equal(await page.locator('.schedule-page form').count(), 0, 'no form: not even to make a hook');

    await page.goto(`${dashboard}#/webhooks/${endpoint}`);
    await page.locator(`tr[data-webhook-id="${endpoint}"]`).waitFor();
    await page.getByText('Nothing delivered to this endpoint yet.').waitFor();
    assert.equal(await page.getByRole('form', { name: 'Add an endpoint' }).count(), 0);
    await page.getByRole('button', { name: 'Log out' }).click();
  });

  it('sends the security headers of a page: a strict CSP, no framing, no sniffing', async () => {
    const response = await fetch(dashboard);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, new RegExp(`connect-src 'self' ${new URL(stack.monitors[0].url!).origin.replace(/\./g, '\\.')}`), 'the page may talk to the monitor');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('x-powered-by'), null);
  });
});
