import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Browser, Page } from 'playwright-core';
import { type LocalPlatform, startLocalPlatform } from '../../local/dev/platform';
import { browserAvailability, launchChromium } from '../support/browser';

/**
 * The local dashboard in a real browser (Debian's chromium through playwright-core) against the whole
 * local platform: the page's WebSocket goes through the gateway and the route functions, and its
 * publishes go dashboard server → EventBridge → SQS → fan-out function → @connections → the page.
 * Needs the bundles (`node scripts/build.mjs`).
 */

const ROOT = join(__dirname, '../..');
const GRANTS = 'demo/*,users/{sub}/*';
/** Delivery goes through SQS polling and a Lambda-like invocation: allow some seconds. */
const DELIVERY_MS = 8000;

const availability = browserAvailability();
const describeBrowser = availability.run ? describe : describe.skip;
if (!availability.run) {
  // Say why in the output instead of passing silently (CI sets CI and fails instead: see browserAvailability).
  console.warn(`dashboard e2e tests skipped: ${availability.reason}`);
}

describeBrowser('local dashboard in chromium', () => {
  jest.setTimeout(30_000);

  let platform: LocalPlatform | undefined;
  let browser: Browser | undefined;
  let dashboardUrl = '';
  const pages: Record<'alice' | 'bob', Page | undefined> = { alice: undefined, bob: undefined };
  const pageErrors: string[] = [];

  const pageOf = (user: 'alice' | 'bob'): Page => {
    const page = pages[user];
    if (!page) throw new Error(`${user}'s page did not open (see beforeAll)`);
    return page;
  };
  const status = (page: Page) => page.locator('#status');
  const eventItem = (page: Page, eventId: string) => page.locator(`#events li[data-event-id="${eventId}"]`);

  /** Waits for #status to read `state` (and its data-state to agree). */
  async function waitForStatus(page: Page, state: 'open' | 'closed'): Promise<void> {
    await page.waitForFunction(
      (want) => {
        const el = document.getElementById('status');
        return el?.textContent === want && el.dataset.state === want;
      },
      state,
      { timeout: 5000 },
    );
  }

  /** Fills the publish form, clicks Publish, and returns the event id the page reports. */
  async function publishFromPage(
    page: Page,
    form: { topics: string; users: string; data: string },
  ): Promise<string> {
    await page.fill('#pub-topics', form.topics);
    await page.fill('#pub-users', form.users);
    await page.fill('#pub-data', form.data);
    const before = await page.locator('#log').textContent();
    await page.click('#publish');
    await page.waitForFunction(
      (previous) => {
        const text = document.getElementById('log')?.textContent ?? '';
        return text !== previous && text.startsWith('published ');
      },
      before,
      { timeout: 5000 },
    );
    await expect(page.locator('#log').getAttribute('data-kind')).resolves.toBe('info');
    const log = (await page.locator('#log').textContent()) ?? '';
    const eventId = log.replace(/^published /, '').trim();
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    return eventId;
  }

  beforeAll(async () => {
    const started = Date.now();
    // First, so that a missing browser on CI fails fast with its own message.
    browser = await launchChromium();
    platform = await startLocalPlatform({
      rootDir: ROOT,
      gatewayPort: 0,
      dashboardPort: 0,
      logSink: () => {},
    });
    dashboardUrl = platform.config.dashboardUrl ?? '';
    if (!dashboardUrl) throw new Error('the platform started no dashboard');
    for (const user of ['alice', 'bob'] as const) {
      // A context each: two independent browser sessions, as two people would have.
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      const page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(`${user}: ${err.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(`${user} console: ${message.text()}`);
      });
      await page.goto(dashboardUrl);
      pages[user] = page;
    }
    if (process.env.E2E_TIMINGS) console.log(`e2e setup: ${Date.now() - started} ms`);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  test('both users connect and subscribe to demo/*', async () => {
    for (const user of ['alice', 'bob'] as const) {
      const page = pageOf(user);
      await expect(status(page).textContent()).resolves.toBe('closed');
      await page.fill('#sub', user);
      await page.fill('#grants', GRANTS);
      // A double click must not open two connections (Connect is disabled during the handshake).
      await page.dblclick('#connect');
      await waitForStatus(page, 'open');
      await expect(page.locator('#connect').isDisabled()).resolves.toBe(true);

      await page.fill('#topic', 'demo/*');
      await page.click('#subscribe');
      await page.locator('#subscriptions span', { hasText: 'demo/*' }).waitFor({ timeout: 5000 });
      await expect(page.locator('#subscriptions span').allTextContents()).resolves.toEqual(['demo/*']);
      await expect(page.locator('#log').textContent()).resolves.toBe('');
    }
    // One connection each, despite the double clicks.
    expect(platform?.gateway.connections()).toHaveLength(2);
  });

  test('a topic event published from the form reaches both pages', async () => {
    const alice = pageOf('alice');
    const bob = pageOf('bob');
    const eventId = await publishFromPage(alice, { topics: 'demo/hello', users: '', data: '{"n":1}' });

    for (const page of [alice, bob]) {
      const item = eventItem(page, eventId);
      await item.waitFor({ timeout: DELIVERY_MS });
      const text = (await item.textContent()) ?? '';
      expect(text).toContain('demo/hello via demo/*');
      expect(text).toContain('{"n":1}');
      expect(text).toContain('fanout.dashboard/DashboardMessage');
      await expect(page.locator('#count').textContent()).resolves.toBe('1');
    }
  });

  test('an event for user alice reaches only alice', async () => {
    const alice = pageOf('alice');
    const bob = pageOf('bob');
    const eventId = await publishFromPage(alice, { topics: '', users: 'alice', data: '{"private":true}' });
    const item = eventItem(alice, eventId);
    await item.waitFor({ timeout: DELIVERY_MS });
    await expect(item.textContent()).resolves.toContain('user alice');
    await expect(item.textContent()).resolves.toContain('{"private":true}');

    // The user event was fanned out (to alice) before this marker was published; once bob has the
    // marker, he would have had the user event too if it were going to reach him.
    const marker = await publishFromPage(bob, { topics: 'demo/marker', users: '', data: '{"marker":1}' });
    await eventItem(bob, marker).waitFor({ timeout: DELIVERY_MS });
    await expect(eventItem(bob, eventId).count()).resolves.toBe(0);
    await expect(bob.locator('#events li', { hasText: 'user alice' }).count()).resolves.toBe(0);
  });

  test('a forbidden subscription shows the server error', async () => {
    const bob = pageOf('bob');
    await bob.fill('#topic', 'secret/*');
    await bob.click('#subscribe');
    await bob.waitForFunction(() => /not allowed/.test(document.getElementById('log')?.textContent ?? ''), {
      timeout: 5000,
    });
    await expect(bob.locator('#log').getAttribute('data-kind')).resolves.toBe('error');
    await expect(bob.locator('#log').textContent()).resolves.toContain('secret/*');
    await expect(bob.locator('#subscriptions span').allTextContents()).resolves.toEqual(['demo/*']);
    // The connection survives a refused subscription.
    await expect(status(bob).textContent()).resolves.toBe('open');
  });

  test('an event put on the bus with the EventBridge SDK reaches the pages', async () => {
    const config = platform?.config;
    if (!config) throw new Error('the platform did not start');
    const client = new EventBridgeClient({
      endpoint: config.eventBridgeEndpoint,
      region: config.region,
      credentials: { accessKeyId: 'dummy', secretAccessKey: 'dummy' },
    });
    try {
      const result = await client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: config.eventBusName,
              Source: 'e2e.orders',
              DetailType: 'OrderShipped',
              Detail: JSON.stringify({ topics: ['demo/orders'], data: { order: 42 } }),
            },
          ],
        }),
      );
      expect(result.FailedEntryCount).toBe(0);
      const eventId = result.Entries?.[0]?.EventId;
      if (!eventId) throw new Error(`PutEvents returned no event id: ${JSON.stringify(result)}`);

      for (const page of [pageOf('alice'), pageOf('bob')]) {
        const item = eventItem(page, eventId);
        await item.waitFor({ timeout: DELIVERY_MS });
        const text = (await item.textContent()) ?? '';
        expect(text).toContain('e2e.orders/OrderShipped');
        expect(text).toContain('demo/orders via demo/*');
        expect(text).toContain('{"order":42}');
      }
    } finally {
      client.destroy();
    }
  });

  test('the page renders its events (screenshot at /tmp/dashboard.png)', async () => {
    const alice = pageOf('alice');
    await expect(alice.locator('#events li').count()).resolves.toBe(4);
    await expect(alice.locator('#count').textContent()).resolves.toBe('4');
    // Newest first.
    await expect(alice.locator('#events li').first().textContent()).resolves.toContain('e2e.orders');
    await alice.screenshot({ path: '/tmp/dashboard.png', fullPage: true });
  });

  const bob = () => pageOf('bob');

  test('a cut connection reconnects by itself, gets back what it missed, and says so in the log', async () => {
    const alice = pageOf('alice');
    platform?.gateway.dropConnections();
    const missed = await publishFromPage(bob(), { topics: 'demo/while-away', users: '', data: '{"away":1}' });
    await eventItem(alice, missed).waitFor({ timeout: DELIVERY_MS });
    await alice.waitForFunction(() => /recovered/.test(document.getElementById('log')?.textContent ?? ''), {
      timeout: DELIVERY_MS,
    });
    await expect(alice.locator('#log').textContent()).resolves.toMatch(
      /recovered: \d+ event\(s\) sent again/,
    );
    await expect(alice.locator('#log').getAttribute('data-kind')).resolves.toBe('info');
    await waitForStatus(alice, 'open');
  });

  test('disconnect closes the connection', async () => {
    for (const page of [pageOf('alice'), pageOf('bob')]) {
      await page.click('#disconnect');
      await waitForStatus(page, 'closed');
      await expect(page.locator('#subscriptions span').count()).resolves.toBe(0);
      await expect(page.locator('#connect').isEnabled()).resolves.toBe(true);
      await expect(page.locator('#subscribe').isDisabled()).resolves.toBe(true);
    }
    // The gateway saw both sockets go.
    const until = Date.now() + 5000;
    while ((platform?.gateway.connections().length ?? 0) > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(platform?.gateway.connections()).toEqual([]);
  });

  test('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
