import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { Stack } from '@conveyor/testing';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Swagger UI must work under the page's Content-Security-Policy, with every file from the gateway.
describe('Swagger UI at /docs, in a real browser', () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    stack = await Stack.start({ workers: 0, monitors: 0 });
    browser = await chromium.launch({ executablePath, args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("shows every operation, loading nothing from elsewhere and breaking none of the page's CSP", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(`${stack.gatewayUrl}/docs`);
    await page.locator('.opblock').first().waitFor();
    const document = (await stack.api.get('/docs/openapi.json')).body as { paths: Record<string, object> };
    const operations = Object.values(document.paths).reduce((count, item) => count + Object.keys(item).length, 0);
    assert.equal(await page.locator('.opblock').count(), operations);
    assert.ok(await page.getByText('/v1/executions/{id}/cancel').first().isVisible());
    assert.deepEqual([...origins].filter((origin) => origin !== 'null' && !origin.startsWith('data:')), [new URL(stack.gatewayUrl).origin]);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
