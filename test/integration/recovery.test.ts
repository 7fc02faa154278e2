/**
 * No gaps, end to end on the local platform with real sockets: a client that loses its connection
 * gets back every event it missed; a client renewing before the connection's age limit never has
 * none open and misses nothing; a client back after the retention window is told it cannot recover.
 * A raw WebSocket client recovering with `since` as the README documents it is in platform.test.ts,
 * on both route backends.
 */
import { FanoutClient, type RecoveryResult } from '@fanout/client';
import WebSocket from 'ws';
import { type PlatformHarness, startHarness, waitUntil } from '../support/platform';

/** Long enough that a loaded machine's lag never pushes a position past it. */
const RETENTION_SECONDS = 120;
/** For the client that comes back too late: short, so the test waits little. */
const SHORT_RETENTION_SECONDS = 2;
const GRANTS = ['orders/*', 'users/{sub}/*'];

async function publishStream(
  h: PlatformHarness,
  count: number,
  perSecond: number,
  user: string,
  during?: { at: number; run: () => void },
): Promise<string[]> {
  const ids: string[] = [];
  const topics = ['orders/eu/1', 'orders/eu/2', 'orders/us/3', 'orders/asia/4'];
  const batch = 10;
  for (let sent = 0; sent < count; sent += batch) {
    if (during && sent >= during.at && sent - batch < during.at) during.run();
    const entries = Array.from({ length: Math.min(batch, count - sent) }, (_, i) => {
      const n = sent + i;
      // Every fifth event is a direct message to the user; the rest spread over several topics.
      return {
        detail:
          n % 5 === 4
            ? { users: [user], data: { n } }
            : { topics: [topics[n % topics.length] ?? 'orders/x'], data: { n } },
      };
    });
    ids.push(...(await h.publish(...entries)));
    await new Promise((done) => setTimeout(done, (batch / perSecond) * 1000));
  }
  return ids;
}

/** Every SDK client a test opens, closed after it even when it fails (a client left open keeps retrying). */
const opened: FanoutClient[] = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});

function sdkClient(
  h: PlatformHarness,
  token: string,
  extra: Partial<ConstructorParameters<typeof FanoutClient>[0]> = {},
) {
  const client = new FanoutClient({
    url: h.config.websocketUrl,
    token,
    WebSocket,
    minReconnectDelayMs: 50,
    maxReconnectDelayMs: 200,
    ...extra,
  });
  opened.push(client);
  const received: string[] = [];
  const recoveries: RecoveryResult[] = [];
  client.on('event', (event) => received.push(event.id));
  client.on('recovered', (result) => recoveries.push(result));
  return { client, received, recoveries };
}

describe('recovery after a lost connection', () => {
  let h: PlatformHarness;

  beforeAll(async () => {
    h = await startHarness({
      overrides: { settings: { HISTORY_RETENTION_SECONDS: RETENTION_SECONDS } },
      // A little latency per post, so fan-out invocations overlap as they do under load.
      faults: { latencyMs: 5 },
    });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('gives a client every one of 300 events published while its socket was cut mid-stream', async () => {
    const token = await h.token({ sub: 'alice', topics: GRANTS });
    const { client, received, recoveries } = sdkClient(h, token);
    await client.connect();
    await client.subscribe('orders/*', 'orders/eu/1');

    const ids = await publishStream(h, 300, 50, 'alice', {
      at: 120,
      run: () => h.platform.gateway.dropConnections(),
    });
    await waitUntil(
      () => ids.every((id) => received.includes(id)),
      `all 300 events (have ${new Set(received).size})`,
      45_000,
    );
    const unique = new Set(received);
    expect(unique.size).toBe(300);
    // The SDK drops duplicates by id; what reaches the application is each event once.
    expect(received.length - unique.size).toBe(0);
    expect(recoveries).toEqual([{ recovered: true, missed: expect.any(Number) }]);
    const replayed = recoveries[0]?.missed ?? 0;
    console.log(`recovery after the cut sent ${replayed} events again; the client dropped the ones it had`);
    expect(h.platform.poller.stats().maxInFlightBatches).toBeGreaterThanOrEqual(2);
    client.close();
  }, 90_000);
});

describe('recovery after the retention window', () => {
  let h: PlatformHarness;

  beforeAll(async () => {
    h = await startHarness({
      overrides: { settings: { HISTORY_RETENTION_SECONDS: SHORT_RETENTION_SECONDS } },
    });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('tells a client that comes back after the retention window that it cannot recover', async () => {
    const token = await h.token({ sub: 'carol', topics: GRANTS });
    const { client, recoveries } = sdkClient(h, token, { reconnect: false });
    await client.connect();
    await client.subscribe('orders/*');
    await h.publish({ detail: { topics: ['orders/eu/1'], data: 'seen' } });
    await waitUntil(() => client.status.state === 'open', 'open');
    h.platform.gateway.dropConnections();
    await waitUntil(() => client.status.state === 'closed', 'the cut');
    await new Promise((done) => setTimeout(done, (SHORT_RETENTION_SECONDS + 1) * 1000));
    await client.connect();
    expect(recoveries).toEqual([{ recovered: false, missed: 0 }]);
    client.close();
  }, 30_000);
});

describe('make-before-break renewal', () => {
  let h: PlatformHarness;
  // Short pages and posts make the settle time (how long a renewed-away connection stays open) 4 s;
  // renewing every 3 s then keeps each connection for 7 s, inside the 8 s age limit.
  const MAX_CONNECTION_MS = 8_000;
  const RENEW_AFTER_MS = 3_000;

  beforeAll(async () => {
    h = await startHarness({
      maxConnectionMs: MAX_CONNECTION_MS,
      overrides: { settings: { FANOUT_MAX_PAGE_SECONDS: 1, FANOUT_REQUEST_TIMEOUT_MS: 1_000 } },
    });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('renews several times during a stream, never with zero connections open, and misses nothing', async () => {
    const token = await h.token({ sub: 'rene', topics: GRANTS });
    const { client, received, recoveries } = sdkClient(h, token, { renewAfterMs: RENEW_AFTER_MS });
    await client.connect();
    await client.subscribe('orders/*');

    let lowest = Number.POSITIVE_INFINITY;
    const seen = new Set<string>();
    const states: string[] = [];
    client.on('state', (state) => states.push(state));
    const watch = setInterval(() => {
      const open = h.platform.gateway.connections();
      lowest = Math.min(lowest, open.length);
      for (const id of open) seen.add(id);
    }, 5);
    try {
      const ids = await publishStream(h, 450, 50, 'rene');
      await waitUntil(
        () => ids.every((id) => received.includes(id)),
        `every event (have ${new Set(received).size})`,
        45_000,
      );
    } finally {
      clearInterval(watch);
    }
    expect(lowest).toBeGreaterThanOrEqual(1);
    // Every connection after the first is a renewal; none of them made the client reconnect.
    expect(seen.size - 1).toBeGreaterThanOrEqual(2);
    expect(states).not.toContain('reconnecting');
    // A renewal ends with a recovery on the new connection, from where the renewal began (what the
    // old one may have missed: a post retried after the settle time); every recovery is complete.
    expect(recoveries.filter((r) => !r.recovered)).toEqual([]);
    const sentAgain = recoveries.reduce((sum, r) => sum + r.missed, 0);
    console.log(`${recoveries.length} renewal recoveries sent ${sentAgain} events again`);
    expect(new Set(received).size).toBe(450);
    client.close();
  }, 90_000);
});
