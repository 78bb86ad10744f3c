import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core' with { 'resolution-mode': 'import' };

/** One picture: the file written and the page's visible text (what a test checks). */
export interface Shot {
  name: string;
  file: string;
  url: string;
  text: string;
}

const VIEWPORT = { width: 1440, height: 900 };

/** Headless Chromium at a fixed window size; every picture of the guide is taken the same way. */
export async function openBrowser(executablePath: string): Promise<Browser> {
  // puppeteer-core is an ES module; this project is CommonJS.
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Root in a container has no user namespaces for Chromium's sandbox; the pages are our own UI on loopback.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      `--window-size=${VIEWPORT.width},${VIEWPORT.height}`,
      // Loopback only: the UI would fetch Temporal's news feed from the internet; no name resolves but 127.0.0.1.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
}

async function settle(page: Page, until: (text: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await page.evaluate<[], () => string>(() => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText);
    if (until(text)) return text;
    if (Date.now() > deadline) throw new Error(`the page never showed ${what}:\n${text.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Open `url`, wait until its text satisfies `ready` (the UI fetches after load), optionally act on the
 * page (pick a query, open a tab), and save a PNG of the window as `<dir>/<name>.png`.
 */
export async function shoot(
  browser: Browser,
  dir: string,
  name: string,
  url: string,
  ready: (text: string) => boolean,
  what: string,
  act?: (page: Page) => Promise<(text: string) => boolean>,
): Promise<Shot> {
  const page = await browser.newPage();
  try {
    await page.setViewport(VIEWPORT);
    // Not 'networkidle': the UI keeps polling a running workflow. The text says when it has drawn what we want.
    await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
    let text = await settle(page, ready, what);
    if (act) text = await settle(page, await act(page), `${what} after acting on it`);
    const file = path.join(dir, `${name}.png`);
    await page.screenshot({ path: file as `${string}.png` });
    return { name, file, url, text };
  } finally {
    await page.close();
  }
}

/**
 * On a workflow's Queries tab: choose `queryType` and run it; the page is ready when the answer shows `expect`.
 * The tab redraws its list once the workflow's query definitions arrive (through the codec endpoint when
 * payloads are encrypted), which can undo an early choice: the choice is made again until the answer shows.
 */
export function runQuery(queryType: string, expect: string): (page: Page) => Promise<(text: string) => boolean> {
  return async (page) => {
    for (let round = 0; round < 8; round++) {
      await page.click('[data-testid="query-select-button"]');
      const option = await page.waitForSelector(`xpath/.//li[@role="option"][normalize-space(.)="${queryType}"]`, { timeout: 30_000 });
      await option!.click();
      // Give a late redraw of the list the time to undo the choice; choose again if it did.
      await new Promise((r) => setTimeout(r, 2000));
      const chosen = await page.$eval('#query-select', (e) => (e as unknown as { value: string }).value);
      if (chosen !== queryType) continue;
      const run = await page.waitForSelector('xpath/.//button[normalize-space(.)="Run Query" or normalize-space(.)="Refresh Query"]', { timeout: 30_000 });
      await run!.click();
      const shown = await page
        .waitForFunction((text: string) => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText.includes(text), { timeout: 10_000 }, expect)
        .then(() => true, () => false);
      if (shown) break;
    }
    return (text) => text.includes(expect);
  };
}
