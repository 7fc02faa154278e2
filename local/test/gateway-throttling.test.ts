/**
 * The stage's route throttling in the local gateway (local/gateway/throttle.ts): a token bucket per
 * route with the stage's burst and rate limits. A throttled `$connect` is refused with 429 before the
 * authorizer or the integration runs; a throttled message is answered with API Gateway's error frame
 * "Too Many Requests" and never reaches its integration. A Lambda throttle behind a route is an
 * integration failure: "Internal server error".
 */
import { startGateway } from '../gateway/index.js';
import { StageThrottle, TokenBucket } from '../gateway/throttle.js';
import type { GatewayHandle, GatewayOptions } from '../gateway/types.js';
import { LambdaThrottledError } from '../lambda/runner.js';
import { handshakeStatus, openClient, type TestClient } from './support/ws-client.js';

let gateways: GatewayHandle[] = [];
let clients: TestClient[] = [];

afterEach(async () => {
  for (const client of clients) client.ws.terminate();
  await Promise.all(gateways.map((g) => g.close({ fireDisconnect: false })));
  gateways = [];
  clients = [];
});

interface Counts {
  $connect: number;
  subscribe: number;
  authorizer: number;
}

async function gateway(options: Partial<GatewayOptions>): Promise<{ gw: GatewayHandle; counts: Counts }> {
  const counts: Counts = { $connect: 0, subscribe: 0, authorizer: 0 };
  const gw = await startGateway({
    integrations: {
      $connect: async () => {
        counts.$connect += 1;
        return { statusCode: 200 };
      },
      subscribe: async (event) => {
        counts.subscribe += 1;
        return { statusCode: 200, body: `ok:${String((event as { body?: string }).body)}` };
      },
    },
    twoWayRoutes: ['subscribe'],
    ...options,
  });
  gateways.push(gw);
  return { gw, counts };
}

async function connect(url: string): Promise<TestClient> {
  const client = await openClient(url);
  clients.push(client);
  return client;
}

/** Collects `n` messages, in the order they arrive. */
async function collect(client: TestClient, n: number): Promise<string[]> {
  const texts: string[] = [];
  for (let i = 0; i < n; i += 1) texts.push((await client.next(5_000)).text);
  return texts;
}

const THROTTLED_FRAME =
  /^\{"message": "Too Many Requests", "connectionId":"[A-Za-z0-9_=-]+", "requestId":"[A-Za-z0-9_=-]+"\}$/;

describe('stage throttling', () => {
  it('answers messages beyond the burst with the "Too Many Requests" error frame, without invoking the route', async () => {
    const { gw, counts } = await gateway({ throttling: { burstLimit: 5, rateLimit: 0 } });
    const client = await connect(gw.url);

    const frames = Array.from({ length: 20 }, (_, i) => JSON.stringify({ action: 'subscribe', n: i }));
    await Promise.all(frames.map((frame) => client.send(frame)));
    const replies = await collect(client, 20);

    const served = replies.filter((text) => text.startsWith('ok:'));
    const throttled = replies.filter((text) => !text.startsWith('ok:'));
    expect(served).toHaveLength(5);
    expect(throttled).toHaveLength(15);
    for (const text of throttled) expect(text).toMatch(THROTTLED_FRAME);
    // The frame names the connection and a request id of its own, as API Gateway's error frames do.
    const parsed = throttled.map((text) => JSON.parse(text) as { connectionId: string; requestId: string });
    expect(new Set(parsed.map((frame) => frame.connectionId))).toEqual(new Set(gw.connections()));
    expect(new Set(parsed.map((frame) => frame.requestId)).size).toBe(15);
    expect(counts.subscribe).toBe(5);
    await client.expectSilence(100);
  });

  it('keeps a bucket per route: `$connect` has its own, and the rate refills it', async () => {
    const { gw, counts } = await gateway({ throttling: { burstLimit: 1, rateLimit: 20 } });
    const client = await connect(gw.url); // takes `$connect`'s token, not subscribe's

    await client.send(JSON.stringify({ action: 'subscribe' }));
    await client.send(JSON.stringify({ action: 'subscribe' }));
    // The throttled one is answered at once, the other after its integration: either may come first.
    const replies = await collect(client, 2);
    expect(replies.filter((text) => text === 'ok:{"action":"subscribe"}')).toHaveLength(1);
    expect(replies.filter((text) => THROTTLED_FRAME.test(text))).toHaveLength(1);

    // 20 tokens a second: one is back after 50 ms.
    await new Promise((resolve) => setTimeout(resolve, 120));
    await client.send(JSON.stringify({ action: 'subscribe' }));
    expect((await client.next()).text).toBe('ok:{"action":"subscribe"}');
    expect(counts).toMatchObject({ $connect: 1, subscribe: 2 });
  });

  it('refuses a throttled handshake with 429 Too Many Requests before the authorizer and `$connect` run', async () => {
    let authorized = 0;
    const { gw, counts } = await gateway({
      throttling: { burstLimit: 2, rateLimit: 0 },
      authorizer: {
        identitySource: 'route.request.querystring.token',
        invoke: async () => {
          authorized += 1;
          return {
            principalId: 'user',
            policyDocument: {
              Version: '2012-10-17',
              Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
            },
          };
        },
      },
    });

    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push(await handshakeStatus(`${gw.url}?token=t`));

    expect(statuses.map((s) => s.status)).toEqual([101, 101, 429, 429]);
    expect(JSON.parse(statuses[2]?.body ?? '')).toEqual({ message: 'Too Many Requests' });
    expect({ authorized, connects: counts.$connect }).toEqual({ authorized: 2, connects: 2 });
  });

  it('throttles everything with a burst limit of 0, as a stage set to 0 does', async () => {
    const { gw } = await gateway({ throttling: { burstLimit: 0, rateLimit: 100 } });
    expect((await handshakeStatus(gw.url)).status).toBe(429);
  });

  it('gives "Internal server error" when the Lambda behind a route is throttled', async () => {
    const throttled = async () => {
      throw new LambdaThrottledError('fn', 'request-id');
    };
    const { gw } = await gateway({
      integrations: { $connect: async () => ({ statusCode: 200 }), subscribe: throttled },
    });
    const client = await connect(gw.url);
    await client.send(JSON.stringify({ action: 'subscribe' }));
    expect(JSON.parse((await client.next()).text)).toMatchObject({ message: 'Internal server error' });

    const refused = await gateway({ integrations: { $connect: throttled } });
    expect(await handshakeStatus(refused.gw.url)).toEqual({
      status: 500,
      body: JSON.stringify({ message: 'Internal server error' }),
    });
  });
});

describe('the token bucket', () => {
  it('starts full, takes one token a request and refills at the rate up to the burst', () => {
    let now = 0;
    const bucket = new TokenBucket({ burstLimit: 3, rateLimit: 2 }, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now = 499; // 0.998 tokens: not yet one
    expect(bucket.take()).toBe(false);
    now = 1_000; // two tokens a second: two after one second
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    now = 60_000; // refilled to the burst, no further
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });

  it('refuses settings the Terraform module refuses, and throttles nothing without settings', () => {
    expect(() => new StageThrottle({ burstLimit: 1.5, rateLimit: 1 })).toThrow(/whole number/);
    expect(() => new StageThrottle({ burstLimit: 1, rateLimit: -1 })).toThrow(/>= 0/);
    const open = new StageThrottle(undefined);
    expect(Array.from({ length: 1000 }, () => open.admit('$default')).every(Boolean)).toBe(true);
    expect(open.throttled()).toBe(0);
  });
});
