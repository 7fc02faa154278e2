/**
 * A burst of subscribe frames against the whole local platform, with the stage's throttling and the
 * Lambda account's concurrency shortened (issue 8). Every frame gets an answer AWS would give: served
 * (`subscribed`), throttled at the stage ("Too Many Requests" error frame), or throttled by Lambda
 * behind the route ("Internal server error" error frame); and the process stays within a memory
 * ceiling, because the burst queues for a few warm Lambda environments instead of starting one each.
 */
import { type PlatformClient, type PlatformHarness, startHarness, waitUntil } from '../support/platform';

const STAGE_BURST = 150;
const STAGE_RATE = 1;
const LAMBDA_CONCURRENCY = 30;
const CLIENTS = 8;
const FRAMES = 400;
/** What the burst may add to the process's resident memory (a Worker per frame took gigabytes). */
const RSS_CEILING_MB = 350;

const STAGE_THROTTLED =
  /^\{"message": "Too Many Requests", "connectionId":"[A-Za-z0-9_=-]+", "requestId":"[A-Za-z0-9_=-]+"\}$/;
const INTEGRATION_FAILED =
  /^\{"message": "Internal server error", "connectionId":"[A-Za-z0-9_=-]+", "requestId":"[A-Za-z0-9_=-]+"\}$/;

let h: PlatformHarness;

beforeAll(async () => {
  h = await startHarness({
    overrides: { stage_throttling_burst_limit: STAGE_BURST, stage_throttling_rate_limit: STAGE_RATE },
    lambda: { concurrency: LAMBDA_CONCURRENCY },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const mb = (bytes: number): number => Math.round(bytes / 1048576);

it('answers every frame of a burst as AWS does, throttled at the stage or by Lambda, and stays within its memory ceiling', async () => {
  const clients: PlatformClient[] = [];
  for (let i = 0; i < CLIENTS; i += 1) clients.push(await h.connect(`burst${i}`, ['demo/*']));
  // Warm: one subscribe per client (each takes one of the stage's subscribe tokens).
  await Promise.all(clients.map((client) => h.subscribe(client, ['demo/a'])));
  const textsBefore = clients.map((client) => client.texts.length);

  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 25);
  const started = Date.now();
  try {
    await Promise.all(
      Array.from({ length: FRAMES }, (_, i) => {
        const client = clients[i % CLIENTS];
        if (client === undefined) throw new Error('no client');
        // The pattern each client already has: the burst measures the platform, not META conflicts.
        return client.send({ action: 'subscribe', id: `b${i}`, topics: ['demo/a'] });
      }),
    );
    const answered = () =>
      clients.reduce((n, client, i) => n + client.texts.length - (textsBefore[i] ?? 0), 0);
    await waitUntil(() => answered() >= FRAMES, `answers to all ${FRAMES} frames`, 60_000, 50).catch(
      (err: Error) => {
        throw new Error(`${err.message} (${answered()} so far)\n${h.recentLogs()}`);
      },
    );
  } finally {
    clearInterval(sampler);
  }
  const elapsedSeconds = (Date.now() - started) / 1000;
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);

  const answers = clients.flatMap((client, i) => client.texts.slice(textsBefore[i]));
  const subscribed = answers.filter((text) => (JSON.parse(text) as { type?: string }).type === 'subscribed');
  const stageThrottled = answers.filter((text) => STAGE_THROTTLED.test(text));
  const lambdaThrottled = answers.filter((text) => INTEGRATION_FAILED.test(text));

  // Every frame has exactly one answer, and each is one of the three.
  expect(answers).toHaveLength(FRAMES);
  expect(subscribed.length + stageThrottled.length + lambdaThrottled.length).toBe(FRAMES);
  // The stage let through its burst (less the warm-up's tokens), plus what its rate refilled.
  const passed = subscribed.length + lambdaThrottled.length;
  expect(passed).toBeGreaterThanOrEqual(STAGE_BURST - CLIENTS);
  expect(passed).toBeLessThanOrEqual(STAGE_BURST - CLIENTS + Math.ceil(STAGE_RATE * elapsedSeconds) + 1);
  // Lambda throttled what went past its concurrency, and only that: each was a TooManyRequestsException.
  const account = h.platform.lambdaAccount.stats();
  expect(lambdaThrottled.length).toBe(account.throttled);
  expect(lambdaThrottled.length).toBeGreaterThan(0);
  expect(account.peakInflight).toBeLessThanOrEqual(LAMBDA_CONCURRENCY);
  expect(account.peakEnvironments).toBeLessThanOrEqual(h.platform.lambdaAccount.maxEnvironments);
  // Those served were served for real.
  expect(subscribed.length).toBeGreaterThanOrEqual(LAMBDA_CONCURRENCY / 2);

  expect(mb(rssPeak - rssBefore)).toBeLessThan(RSS_CEILING_MB);
  // Nothing stayed queued: every admitted invocation finished.
  await waitUntil(() => h.platform.lambdaAccount.stats().inflight === 0, 'the Lambda account to settle');
}, 120_000);
