import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '@conveyor/launcher';
import { Stack, type StackOptions } from './stack.js';

/** Debian's chromium (`apt-get install chromium`), or `CHROMIUM_PATH`: browser downloads are not used. */
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface DashboardInBrowser {
  stack: Stack;
  /** The dashboard's address, `…/ui/`. */
  dashboard: string;
  browser: Browser;
  /** A page of 1360 × 900, not opened on anything yet. */
  page: Page;
  /** Closes the browser, then stops the stack. */
  close(): Promise<void>;
}

export interface DashboardOptions extends StackOptions {
  /** Sends the page to a monitor address nobody answers on: the dashboard as behind a proxy that blocks websockets. */
  notLive?: boolean;
}

/**
 * A stack with a headless Chromium to open its dashboard in: a second monitor and gateway, the gateway
 * on a port chosen first, so that the monitor it sends browsers to allows the page's origin (or, with
 * `notLive`, no second monitor at all).
 */
export async function openDashboard(options: DashboardOptions = {}): Promise<DashboardInBrowser> {
  const stack = await Stack.start(options);
  try {
    const port = await freePort();
    const monitorUrl = options.notLive
      ? `http://127.0.0.1:${await freePort()}`
      : (await stack.startMonitor({ CONVEYOR_CORS_ORIGINS: `http://127.0.0.1:${port}` })).url!;
    const gateway = await stack.startGateway({ GATEWAY_PORT: String(port), MONITOR_URL: monitorUrl });
    const browser = await chromium.launch({
      executablePath,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
    });
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (error) => console.error('page error:', error));
    const close = async () => {
      await browser.close();
      await stack.stop();
    };
    return { stack, dashboard: `${gateway.url}/ui/`, browser, page, close };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
