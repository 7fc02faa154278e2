/**
 * API Gateway's idle timeout (10 minutes on AWS), shortened to 300 ms: the gateway closes a silent
 * connection and `$disconnect` removes its rows.
 */
import { type PlatformHarness, startHarness, waitUntil } from '../support/platform';

const IDLE_MS = 300;
let h: PlatformHarness;

beforeAll(async () => {
  h = await startHarness({ idleTimeoutMs: IDLE_MS });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

it('closes a connection idle for the idle timeout and fires $disconnect, which removes its rows', async () => {
  const client = await h.connect('ivy', ['demo/*']);
  const id = client.connectionId;
  // Until the subscription is stored, keep the connection busy: a cold route function may take longer
  // than 300 ms to answer, and only client messages are sure to reset the idle timer.
  let lastSent = Date.now();
  const keepAlive = setInterval(() => {
    if (client.isClosed()) return;
    lastSent = Date.now();
    void client.send({ action: 'ping' }).catch(() => undefined);
  }, IDLE_MS / 3);
  try {
    lastSent = Date.now();
    await h.subscribe(client, ['demo/*']);
    expect((await h.rowsOf(id)).length).toBe(4); // META, SUB#demo/*, TOPIC#demo/*, USER#ivy
  } finally {
    clearInterval(keepAlive);
  }
  expect(client.isClosed()).toBe(false);

  const closed = await client.closed;
  // 1001 Going away, started by the gateway, no sooner than the idle timeout after the last message.
  expect(closed).toEqual({ code: 1001, reason: 'Going away' });
  expect(Date.now() - lastSent).toBeGreaterThanOrEqual(IDLE_MS - 5);

  await waitUntil(async () => (await h.rowsOf(id)).length === 0, `the rows of ${id} to be removed`);
  // The function logs after its deletes, so its line may come a moment after the rows are gone.
  const logged = (): boolean => h.jsonLogs('disconnect').some((line) => JSON.stringify(line).includes(id));
  await waitUntil(logged, `the disconnect function to log ${id}`);
});
