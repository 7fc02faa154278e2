import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Publisher } from '@fanout/publisher';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_USER } from '../../local/dev/dashboard-server';
import { type LocalPlatform, type LocalPlatformOptions, startLocalPlatform } from '../../local/dev/platform';
import { browserAvailability, launchChromium } from '../support/browser';

/**
 * The local dashboard and inspector in a real browser (Debian's chromium through playwright-core)
 * against the whole local platform: the page's WebSocket goes through the gateway and the route
 * functions, and events go publisher SDK → EventBridge → SQS → fan-out function → @connections →
 * the page. The platform is stopped and started again on the same ports and data, as a developer
 * restarting `fanout dev --data-dir` does. Needs the bundles (`make build`).
 *
 * With SCREENSHOTS_DIR set (`make screenshots`), the pages are saved there as PNGs.
 */

const ROOT = join(__dirname, '../..');
/** Delivery goes through SQS polling and a Lambda-like invocation: allow some seconds. */
const DELIVERY_MS = 8000;
const SCREENSHOTS_DIR = process.env.SCREENSHOTS_DIR ? resolve(process.env.SCREENSHOTS_DIR) : undefined;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

const availability = browserAvailability();
const describeBrowser = availability.run ? describe : describe.skip;
if (!availability.run) {
  // Say why in the output instead of passing silently (CI sets CI and fails instead: see browserAvailability).
  console.warn(`dashboard e2e tests skipped: ${availability.reason}`);
}

describeBrowser('local dashboard and inspector in chromium', () => {
  jest.setTimeout(30_000);

  let platform: LocalPlatform | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let dataDir = '';
  let options: LocalPlatformOptions | undefined;
  const pageErrors: string[] = [];

  const dashboard = (): Page => {
    if (!page) throw new Error('the dashboard page did not open (see beforeAll)');
    return page;
  };
  const running = (): LocalPlatform => {
    if (!platform) throw new Error('the platform is not running');
    return platform;
  };
  const eventItem = (p: Page, eventId: string) => p.locator(`#events li[data-event-id="${eventId}"]`);

  function watch(p: Page, name: string): void {
    p.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
    p.on('console', (message) => {
      // A fetch refused while the platform is down is the browser's own report, not a page error.
      // And the 400 of the refused publish below is that test's own doing.
      const expected = /ERR_CONNECTION_REFUSED|WebSocket connection|status of 400/;
      if (message.type() === 'error' && !expected.test(message.text())) {
        pageErrors.push(`${name} console: ${message.text()}`);
      }
    });
  }

  async function waitForState(p: Page, state: string, timeout = 5000): Promise<void> {
    await p.waitForFunction((want) => document.getElementById('status')?.dataset.state === want, state, {
      timeout,
    });
  }

  /** Publishes through the publisher SDK, one call per event, as a service would. */
  async function publish(count: number, topic: string): Promise<string[]> {
    const { config } = running();
    const client = new EventBridgeClient({
      endpoint: config.eventBridgeEndpoint,
      region: config.region,
      credentials: CREDENTIALS,
    });
    try {
      const publisher = new Publisher({ eventBusName: config.eventBusName, source: 'e2e.load', client });
      const ids: string[] = [];
      for (let n = 1; n <= count; n++) {
        ids.push(await publisher.publish({ topics: [topic], data: { n }, detailType: 'Tick' }));
      }
      return ids;
    } finally {
      client.destroy();
    }
  }

  async function screenshot(p: Page, name: string): Promise<void> {
    if (!SCREENSHOTS_DIR) return;
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    await p.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    // First, so that a missing browser on CI fails fast with its own message.
    browser = await launchChromium();
    dataDir = mkdtempSync(join(tmpdir(), 'fanout-e2e-'));
    options = {
      rootDir: ROOT,
      gatewayPort: 0,
      dashboardPort: 0,
      dataDir,
      jwtSecret: 'e2e-secret-that-is-long-enough-for-hs256!',
      logSink: () => {},
    };
    platform = await startLocalPlatform(options);
    // A restart must find the platform where the page left it.
    options.gatewayPort = Number(new URL(platform.config.websocketUrl).port);
    options.dashboardPort = Number(new URL(platform.config.dashboardUrl ?? '').port);
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    page = await context.newPage();
    watch(page, 'dashboard');
    await page.goto(platform.config.dashboardUrl ?? '');
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('the page defaults to the user of the banner’s token and connects as it', async () => {
    const p = dashboard();
    await p.waitForFunction(() => (document.getElementById('sub') as HTMLInputElement).value === 'demo');
    await expect(p.inputValue('#sub')).resolves.toBe(DEMO_USER);
    await expect(p.locator('#status').textContent()).resolves.toBe('closed');
    // A double click must not open two connections (Connect is disabled during the handshake).
    await p.dblclick('#connect');
    await waitForState(p, 'open');
    await p.fill('#topic', 'demo/*');
    await p.click('#subscribe');
    await p.locator('#subscriptions .chip[data-topic="demo/*"]').waitFor({ timeout: 5000 });
    expect(running().gateway.connections()).toHaveLength(1);
    await expect(p.locator('#log').textContent()).resolves.toBe('');
  });

  test('20 events published with the publisher SDK all appear in order of arrival, each with its latency', async () => {
    const p = dashboard();
    const ids = await publish(20, 'demo/load');
    await p.waitForFunction((want) => document.querySelectorAll('#events li').length >= want, 20, {
      timeout: DELIVERY_MS,
    });
    const rows = await p.locator('#events li').evaluateAll((items) =>
      items.map((li) => ({
        id: (li as HTMLElement).dataset.eventId ?? '',
        seq: Number((li as HTMLElement).dataset.seq),
        latency: li.querySelector('.latency')?.textContent ?? '',
        topic: li.querySelector('.topic')?.textContent ?? '',
        pattern: li.querySelector('.pattern')?.textContent ?? '',
        data: li.querySelector('pre')?.textContent ?? '',
      })),
    );
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    // Newest first: arrival numbers 20 down to 1, none missing, none twice.
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    for (const row of rows) {
      expect(row.latency).toMatch(/^latency \d+(\.\d)? (ms|s)$/);
      expect(row.topic).toBe('topic demo/load');
      expect(row.pattern).toBe('via demo/*');
      // Pretty-printed: one key a line.
      expect(row.data).toMatch(/^\{\n {2}"n": \d+\n\}$/);
    }
    await expect(p.locator('#count').textContent()).resolves.toBe('20');
    await p.waitForFunction(() =>
      /^20 in the last minute$/.test(document.getElementById('rate-now')?.textContent ?? ''),
    );
    await expect(p.locator('#latency-now').textContent()).resolves.toMatch(/^p50 .+ · p99 .+$/);
    // uPlot drew both charts.
    await expect(p.locator('#rate-chart canvas').count()).resolves.toBe(1);
    await expect(p.locator('#latency-chart canvas').count()).resolves.toBe(1);
    await screenshot(p, 'dashboard');
  });

  test('a refused subscription shows the server’s stable code and leaves the connection open', async () => {
    const p = dashboard();
    await p.fill('#topic', 'secret/*');
    await p.click('#subscribe');
    await p.waitForFunction(() => document.getElementById('log')?.dataset.code === 'forbidden', undefined, {
      timeout: 5000,
    });
    await expect(p.locator('#log').textContent()).resolves.toContain('secret/*');
    await expect(p.locator('#log').getAttribute('data-kind')).resolves.toBe('error');
    await expect(p.locator('#status').textContent()).resolves.toBe('open');
  });

  test('a publish the platform refuses shows its code, and bad JSON is caught before sending', async () => {
    const p = dashboard();
    await p.fill('#pub-topics', 'demo/x');
    await p.fill('#pub-data', '{not json');
    await p.click('#publish');
    await p.waitForFunction(() => document.getElementById('log')?.dataset.code === 'bad_request');
    await p.fill('#pub-topics', 'not a topic!');
    await p.fill('#pub-data', '{}');
    await p.click('#publish');
    await p.waitForFunction(
      () => document.getElementById('log')?.textContent?.includes('not a topic!'),
      undefined,
      {
        timeout: 5000,
      },
    );
    await expect(p.locator('#log').getAttribute('data-code')).resolves.toBeTruthy();
  });

  test('a subscription is removed with its chip’s button', async () => {
    const p = dashboard();
    await p.fill('#topic', 'demo/extra');
    await p.click('#subscribe');
    const chip = p.locator('#subscriptions .chip[data-topic="demo/extra"]');
    await chip.waitFor({ timeout: 5000 });
    await chip.locator('button').click();
    await chip.waitFor({ state: 'detached', timeout: 5000 });
    await expect(
      p.locator('#subscriptions .chip').evaluateAll((c) => c.map((e) => (e as HTMLElement).dataset.topic)),
    ).resolves.toEqual(['demo/*']);
  });

  test('pause holds new events back, resume shows them, the filter hides others and clear empties the stream', async () => {
    const p = dashboard();
    await p.click('#pause');
    const [held] = await publish(1, 'demo/paused');
    if (!held) throw new Error('no event id');
    await p.waitForFunction(
      () => document.getElementById('stream-state')?.textContent === 'paused, 1 waiting',
      undefined,
      {
        timeout: DELIVERY_MS,
      },
    );
    await expect(eventItem(p, held).count()).resolves.toBe(0);
    await p.click('#pause');
    await eventItem(p, held).waitFor({ timeout: 2000 });
    await expect(p.locator('#stream-state').textContent()).resolves.toBe('');

    await p.fill('#filter', 'demo/paused');
    await expect(p.locator('#events li:not([hidden])').count()).resolves.toBe(1);
    await p.fill('#filter', '');
    await expect(p.locator('#events li:not([hidden])').count()).resolves.toBe(21);
    await p.click('#clear');
    await expect(p.locator('#events li').count()).resolves.toBe(0);
  });

  test('after a platform restart the page shows reconnecting, then recovering, then open, and misses nothing', async () => {
    const p = dashboard();
    const before = await p.locator('#state-log li').count();
    await running().close();
    platform = undefined;
    // Read in one go: the page moves between reconnecting and connecting while the platform is away.
    await p.waitForFunction(
      () => {
        const status = document.getElementById('status');
        return (
          status?.dataset.state === 'reconnecting' && /^reconnecting in \d+ s$/.test(status.textContent ?? '')
        );
      },
      undefined,
      { timeout: 5000 },
    );
    await expect(p.locator('#close-info').textContent()).resolves.toMatch(/^last close \d{4}/);

    platform = await startLocalPlatform(options ?? { rootDir: ROOT });
    // Published before the page is back: they reach it only through recovery.
    const missed = await publish(3, 'demo/while-away');
    await waitForState(p, 'open', 15_000);
    for (const id of missed) await eventItem(p, id).waitFor({ timeout: DELIVERY_MS });

    const states = await p
      .locator('#state-log li')
      .evaluateAll((items, from) => items.slice(from).map((li) => (li as HTMLElement).dataset.state), before);
    const reconnecting = states.indexOf('reconnecting');
    const recovering = states.indexOf('recovering', reconnecting);
    const open = states.indexOf('open', recovering);
    expect({ states, ok: reconnecting >= 0 && recovering > reconnecting && open > recovering }).toEqual({
      states,
      ok: true,
    });
    // Each missed event once, and no stale error about the platform being away.
    for (const id of missed) await expect(eventItem(p, id).count()).resolves.toBe(1);
    await p.waitForFunction(() => /recovered/.test(document.getElementById('log')?.textContent ?? ''));
    await expect(p.locator('#log').textContent()).resolves.not.toMatch(/Failed to fetch/);
    await expect(p.locator('#close-info').textContent()).resolves.toBe('');
  });

  test('the inspector shows the connection, its patterns and the fan-out invocations', async () => {
    const inspector = await (context as BrowserContext).newPage();
    watch(inspector, 'inspector');
    await inspector.goto(new URL('inspector', running().config.dashboardUrl).href);
    // The page's connection, as the gateway knows it. The one from before the restart may still be
    // listed: its rows stay until the fan-out finds it gone (after the connecting grace) or its TTL.
    const [current] = running().gateway.connections();
    if (!current) throw new Error('the page has no connection');
    const row = inspector.locator('#connections tbody tr', { hasText: current });
    await row.waitFor({ timeout: 5000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells).toEqual([current, DEMO_USER, expect.stringMatching(/^\d+ s$/), '127.0.0.1', 'demo/*']);
    const listed = await inspector.locator('#connections tbody tr').count();
    await expect(inspector.locator('#connection-count').textContent()).resolves.toBe(String(listed));
    // Every listed connection holds demo/*, and the topic index counts each of them.
    await expect(inspector.locator('#patterns tbody tr').allTextContents()).resolves.toEqual([
      `demo/*${listed}`,
    ]);
    // The restarted platform delivered the missed events after the recovery... or found nobody: either
    // way its invocations are listed with their figures.
    await inspector.waitForFunction(
      () => Number(document.getElementById('invocation-count')?.textContent) > 0,
    );
    await expect(inspector.locator('#invocations th').allTextContents()).resolves.toEqual([
      'started',
      'duration',
      'records',
      'audience',
      'delivered',
      'pruned',
      'throttled',
      'retried',
      'failed',
      'error',
    ]);
    await inspector.close();
  });

  test('a dead letter is redriven from the inspector back through the fan-out queue', async () => {
    const { config } = running();
    const sqs = new SQSClient({
      endpoint: config.sqsEndpoint,
      region: config.region,
      credentials: CREDENTIALS,
    });
    try {
      // Not an event, a page or a retry: the fan-out function dead-letters it as malformed.
      await sqs.send(
        new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: '{"e2e":"malformed"}' }),
      );
    } finally {
      sqs.destroy();
    }
    const inspector = await (context as BrowserContext).newPage();
    watch(inspector, 'inspector');
    await inspector.goto(new URL('inspector', config.dashboardUrl).href);
    const button = inspector.locator('button[data-redrive]');
    await button.first().waitFor({ timeout: DELIVERY_MS });
    const letter = await button.first().getAttribute('data-redrive');
    await expect(inspector.locator('#dlq tbody tr').first().textContent()).resolves.toContain('malformed');
    await screenshot(inspector, 'inspector');

    await button.first().click();
    await inspector.waitForFunction(
      (id) => document.getElementById('message')?.textContent === `redrove ${id} to the fan-out queue`,
      letter,
      {
        timeout: 10_000,
      },
    );
    // Back on the fan-out queue, the function reads it again and dead-letters it again: a new letter.
    await inspector.waitForFunction(
      (id) => {
        const ids = Array.from(
          document.querySelectorAll<HTMLElement>('button[data-redrive]'),
          (b) => b.dataset.redrive,
        );
        return ids.length === 1 && ids[0] !== id;
      },
      letter,
      { timeout: DELIVERY_MS },
    );
    await inspector.close();
  });

  test('both pages fit a 390-pixel-wide phone screen', async () => {
    const phone = await (browser as Browser).newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
    });
    try {
      for (const path of ['', 'inspector']) {
        const p = await phone.newPage();
        watch(p, `phone ${path || 'dashboard'}`);
        await p.goto(new URL(path, running().config.dashboardUrl).href);
        await p.waitForLoadState('networkidle');
        const widths = await p.evaluate(() => ({
          page: document.documentElement.scrollWidth,
          view: window.innerWidth,
        }));
        expect(widths.page).toBeLessThanOrEqual(widths.view);
        for (const id of path ? ['connections', 'dlq'] : ['connect', 'publish', 'rate-chart', 'events']) {
          const box = await p.locator(`#${id}`).boundingBox();
          expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
        }
        if (!path) {
          // It works there too: connect, subscribe, receive.
          await p.click('#connect');
          await waitForState(p, 'open');
          await p.click('#subscribe');
          await p.locator('#subscriptions .chip[data-topic="demo/*"]').waitFor({ timeout: 5000 });
          const [id] = await publish(1, 'demo/phone');
          await eventItem(p, id ?? '').waitFor({ timeout: DELIVERY_MS });
          const box = await eventItem(p, id ?? '').boundingBox();
          expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
          await expect(p.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
            390,
          );
          await screenshot(p, 'dashboard-phone');
        }
        await p.close();
      }
    } finally {
      await phone.close();
    }
  });

  test('disconnect closes the connection and says the page closed it', async () => {
    const p = dashboard();
    await p.click('#disconnect');
    await waitForState(p, 'closed');
    await expect(p.locator('#close-info').textContent()).resolves.toBe('closed from this page');
    await expect(p.locator('#subscriptions .chip').count()).resolves.toBe(0);
    await expect(p.locator('#connect').isEnabled()).resolves.toBe(true);
    await expect(p.locator('#subscribe').isDisabled()).resolves.toBe(true);
  });

  test('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
