/**
 * The whole local platform (the built function bundles on the local API Gateway, EventBridge, SQS and
 * DynamoDB stand-ins), driven from outside as users drive it: `ws` clients with signed tokens, and the
 * real AWS SDK clients for PutEvents, `@connections`, DynamoDB and SQS. One platform for every test
 * here; tests that need other platform options are in the other platform*.test.ts files.
 */
import { GetConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { handshakeStatus } from '../../local/test/support/ws-client';
import { type Frame, type PlatformHarness, type Row, startHarness, waitUntil } from '../support/platform';

const CONNECTING_GRACE_SECONDS = 1;
let h: PlatformHarness;

beforeAll(async () => {
  // A 410 within the grace after connecting is retried, not pruned; a short grace lets a test see
  // a vanished connection pruned without waiting half a minute.
  h = await startHarness({
    overrides: { settings: { FANOUT_CONNECTING_GRACE_SECONDS: CONNECTING_GRACE_SECONDS } },
  });
}, 60_000);

afterEach(async () => {
  h.platform.gateway.setFaults(undefined);
  await h.closeClients();
});

afterAll(async () => {
  await h?.close();
});

/** Rows of a connection, keys only, with the connection id replaced by `<id>`, sorted. */
const keysOf = (rows: Row[], connectionId: string): string[] =>
  rows.map((row) => `${row.pk} ${row.sk}`.replaceAll(connectionId, '<id>')).sort();

/** The fan-out function's `delivered` log line for an event, once the event is done with. */
const deliveredLog = (eventId: string): Promise<Frame> =>
  waitUntil(
    () => h.jsonLogs('fanout').find((line) => line.message === 'delivered' && line.eventId === eventId),
    `the fan-out's "delivered" log line for ${eventId}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nrecent logs:\n${h.recentLogs()}`);
  });

describe('the local platform, driven by real clients', () => {
  it('refuses a token with a bad signature, an expired token and a missing token with HTTP 401 at the handshake, storing nothing', async () => {
    const rowsBefore = await h.allRows();
    const connectionsBefore = h.platform.gateway.connections();
    const connectsBefore = h.invocations('connect');
    const badSignature = await h.token({ sub: 'mallory', topics: ['demo/*'], secret: 'not-the-secret' });
    const expired = await h.token({ sub: 'mallory', topics: ['demo/*'], expiresInSeconds: -60 });

    expect(await handshakeStatus(h.url(badSignature))).toMatchObject({ status: 401 });
    expect(await handshakeStatus(h.url(expired))).toMatchObject({ status: 401 });
    expect(await handshakeStatus(h.url())).toMatchObject({ status: 401 });
    expect(await handshakeStatus(h.url(''))).toMatchObject({ status: 401 });

    expect(h.platform.gateway.connections()).toEqual(connectionsBefore);
    expect(await h.allRows()).toEqual(rowsBefore);
    expect(h.invocations('connect')).toBe(connectsBefore);
  });

  it('subscribes to a wildcard and to an exact topic, and delivers an event on demo/eu/1 to the demo/* subscriber naming its subscription', async () => {
    const wildcard = await h.connect('wanda', ['demo/*']);
    const exact = await h.connect('ezra', ['demo/*']);

    expect(await wildcard.request({ action: 'subscribe', topics: ['demo/*'] })).toEqual({
      type: 'subscribed',
      id: expect.any(String),
      topics: ['demo/*'],
      position: expect.stringMatching(/^\d{13}$/),
      // How long deliveries begun before this subscription may still arrive (recovery margin).
      settleMs: expect.any(Number),
    });
    const reply = await exact.request({ action: 'subscribe', topics: ['demo/us/7'] });
    expect(reply).toEqual({
      type: 'subscribed',
      id: reply.id,
      topics: ['demo/us/7'],
      position: reply.position,
      settleMs: reply.settleMs,
    });
    // Both a wildcard and an exact topic in one frame: one frame per event, naming the most specific.
    const both = await h.connect('bea', ['demo/*']);
    expect(await both.request({ action: 'subscribe', topics: ['demo/*', 'demo/us/7'] })).toMatchObject({
      type: 'subscribed',
      topics: ['demo/*', 'demo/us/7'],
    });

    const [onEu] = await h.publish({ detail: { topics: ['demo/eu/1'], data: { n: 1 } } });
    const [onUs] = await h.publish({ detail: { topics: ['demo/us/7'], data: { n: 2 } } });

    await wildcard.waitFor((f) => f.id === onEu, 'the demo/eu/1 event');
    await wildcard.waitFor((f) => f.id === onUs, 'the demo/us/7 event');
    await exact.waitFor((f) => f.id === onUs, 'the demo/us/7 event');
    await both.waitFor((f) => f.id === onEu, 'the demo/eu/1 event');
    await both.waitFor((f) => f.id === onUs, 'the demo/us/7 event');
    expect(await deliveredLog(onEu ?? '')).toMatchObject({ audience: 2, delivered: 2 });
    expect(await deliveredLog(onUs ?? '')).toMatchObject({ audience: 3, delivered: 3 });

    // SQS does not keep order: compare in topic order.
    const byTopic = (a: Frame, b: Frame) => String(a.topic).localeCompare(String(b.topic));
    expect(wildcard.events().sort(byTopic)).toEqual([
      expect.objectContaining({ id: onEu, topic: 'demo/eu/1', subscription: 'demo/*', data: { n: 1 } }),
      expect.objectContaining({ id: onUs, topic: 'demo/us/7', subscription: 'demo/*', data: { n: 2 } }),
    ]);
    // The exact subscriber gets its own topic only, named by its exact subscription.
    expect(exact.events()).toEqual([
      expect.objectContaining({ id: onUs, topic: 'demo/us/7', subscription: 'demo/us/7' }),
    ]);
    expect(both.events().sort(byTopic)).toEqual([
      expect.objectContaining({ id: onEu, topic: 'demo/eu/1', subscription: 'demo/*' }),
      expect.objectContaining({ id: onUs, topic: 'demo/us/7', subscription: 'demo/us/7' }),
    ]);
  });

  it('answers a subscription the token does not grant with a forbidden error frame and stores no subscription', async () => {
    const client = await h.connect('fiona', ['demo/*', 'users/{sub}/*']);
    const rowsBefore = await h.rowsOf(client.connectionId);

    const reply = await client.request({ action: 'subscribe', topics: ['secret/plans'] });
    expect(reply).toEqual({
      type: 'error',
      id: reply.id,
      code: 'forbidden',
      message: expect.any(String),
    });
    // `{sub}` is this user only: another user's topics are not granted either.
    const other = await client.request({ action: 'subscribe', topics: ['users/bob/inbox'] });
    expect(other).toMatchObject({ type: 'error', code: 'forbidden' });

    const rows = await h.rowsOf(client.connectionId);
    expect(rows).toEqual(rowsBefore);
    expect(keysOf(rows, client.connectionId)).toEqual(['CONN#<id> META', 'USER#fiona <id>']);
  });

  it('delivers a PutEvents event as exactly the documented event frame, with the EventId PutEvents returned', async () => {
    const client = await h.connect('olga', ['orders/*']);
    await h.subscribe(client, ['orders/eu/*']);

    const [eventId] = await h.publish({
      source: 'orders',
      detailType: 'OrderUpdated',
      time: new Date('2026-11-24T10:00:00Z'),
      detail: { topics: ['orders/eu/1234'], data: { status: 'shipped', items: [1, 2], note: null } },
    });
    const frame = await client.waitFor((f) => f.type === 'event', 'the event');

    // The position is the delivery page's: when it began, in ms, as 13 digits.
    expect(frame.position).toMatch(/^\d{13}$/);
    const expected = {
      type: 'event',
      id: eventId,
      topic: 'orders/eu/1234',
      subscription: 'orders/eu/*',
      source: 'orders',
      detailType: 'OrderUpdated',
      time: '2026-11-24T10:00:00Z',
      position: frame.position,
      data: { status: 'shipped', items: [1, 2], note: null },
    };
    expect(frame).toEqual(expected);
    // Same keys in the same order, byte for byte.
    expect(client.texts).toContain(JSON.stringify(expected));
  });

  it('delivers a direct-to-user event to every connection of that user, marked with the user, and to nobody else', async () => {
    const alice1 = await h.connect('alice', ['users/{sub}/*']);
    const alice2 = await h.connect('alice', ['users/{sub}/*']);
    const bob = await h.connect('bob', ['users/{sub}/*']);

    const [eventId] = await h.publish({
      source: 'inbox',
      detailType: 'MessageReceived',
      detail: { users: ['alice'], data: { text: 'hi alice' } },
    });
    const log = await deliveredLog(eventId ?? '');

    for (const client of [alice1, alice2]) {
      const frame = await client.waitFor((f) => f.id === eventId, 'the direct event');
      expect(frame).toEqual({
        type: 'event',
        id: eventId,
        user: 'alice',
        source: 'inbox',
        detailType: 'MessageReceived',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        position: expect.stringMatching(/^\d{13}$/),
        data: { text: 'hi alice' },
      });
      expect(Object.keys(frame)).toEqual([
        'type',
        'id',
        'user',
        'source',
        'detailType',
        'time',
        'position',
        'data',
      ]);
    }
    expect(log).toMatchObject({ audience: 2, delivered: 2 });
    expect(bob.events()).toEqual([]);
  });

  it('prunes a client that vanished without a close frame (its $disconnect lost) from every table row on the next event, while live clients still receive it', async () => {
    const live = await h.connect('lena', ['demo/*']);
    const vanishing = await h.connect('victor', ['demo/*']);
    await h.subscribe(live, ['demo/*']);
    await h.subscribe(vanishing, ['demo/*']);
    const gone = vanishing.connectionId;
    // On AWS `$disconnect` is best-effort; make the gateway lose this one.
    h.platform.gateway.setFaults({ dropDisconnect: (connectionId) => connectionId === gone });

    const disconnectsBefore = h.invocations('disconnect');
    vanishing.ws.terminate(); // the TCP connection just ends: no close frame
    await vanishing.closed;
    // The gateway notices: @connections says Gone, as API Gateway does once the socket is lost.
    await waitUntil(
      () =>
        h.management.send(new GetConnectionCommand({ ConnectionId: gone })).then(
          () => false,
          (err: Error) => err.name === 'GoneException',
        ),
      'GetConnection to answer GoneException',
    );
    expect(keysOf(await h.rowsOf(gone), gone)).toEqual([
      'CONN#<id> META',
      'CONN#<id> SUB#demo/*',
      'TOPIC#demo/* <id>',
      'USER#victor <id>',
    ]);
    expect(h.invocations('disconnect')).toBe(disconnectsBefore);
    // Past the grace a 410 means gone (a younger connection may still be opening: it is retried).
    await new Promise((done) => setTimeout(done, CONNECTING_GRACE_SECONDS * 1000));

    const [eventId] = await h.publish({ detail: { topics: ['demo/eu/9'], data: 'after the vanishing' } });
    await live.waitFor((f) => f.id === eventId, 'the event');
    const log = await deliveredLog(eventId ?? '');
    expect(log).toMatchObject({ audience: 2, delivered: 1, pruned: 1 });
    await waitUntil(async () => (await h.rowsOf(gone)).length === 0, `no rows left for ${gone}`);
    const metrics = h.jsonLogs('fanout').filter((line) => '_aws' in line && typeof line.Pruned === 'number');
    expect(metrics.map((line) => line.Pruned)).toContain(1);
    expect(h.invocations('disconnect')).toBe(disconnectsBefore);
  });

  it('removes every row of a connection on $disconnect after a normal close', async () => {
    const client = await h.connect('dora', ['demo/*', 'users/{sub}/*']);
    await h.subscribe(client, ['demo/*', 'users/dora/inbox']);
    const id = client.connectionId;
    const disconnectsBefore = h.invocations('disconnect');
    expect(keysOf(await h.rowsOf(id), id)).toEqual([
      'CONN#<id> META',
      'CONN#<id> SUB#demo/*',
      'CONN#<id> SUB#users/dora/inbox',
      'TOPIC#demo/* <id>',
      'TOPIC#users/dora/inbox <id>',
      'USER#dora <id>',
    ]);

    expect(await client.close()).toMatchObject({ code: 1000 });
    await waitUntil(async () => (await h.rowsOf(id)).length === 0, `no rows left for ${id}`);
    expect(h.invocations('disconnect')).toBe(disconnectsBefore + 1);
  });

  it('answers a PostToConnection over 128 KB with PayloadTooLargeException through the real management client', async () => {
    const client = await h.connect('paul', ['demo/*']);
    const post = (bytes: number) =>
      h.management.send(
        new PostToConnectionCommand({ ConnectionId: client.connectionId, Data: Buffer.alloc(bytes, 'x') }),
      );

    await expect(post(128 * 1024 + 1)).rejects.toMatchObject({
      name: 'PayloadTooLargeException',
      $metadata: { httpStatusCode: 413 },
    });
    // Exactly 128 KB is allowed, and arrives whole.
    await post(128 * 1024);
    await waitUntil(() => client.texts.length === 1, 'the 128 KB message');
    expect(client.texts[0]?.length).toBe(128 * 1024);
  });

  it('delivers every event exactly once to each of 20 clients through a storm of 429 LimitExceededException', async () => {
    const clients = [];
    // One at a time: concurrent frames would each start a cold route-function environment, as on
    // Lambda, and twenty cold starts cost seconds of CPU on a small machine.
    for (let i = 0; i < 20; i++) {
      const client = await h.connect(`storm${i}`, ['storm/*']);
      await h.subscribe(client, ['storm/*']);
      clients.push(client);
    }

    // About half of all posts are throttled, but never more than two in a row for one connection.
    const streak = new Map<string, number>();
    let posts = 0;
    let throttled = 0;
    h.platform.gateway.setFaults({
      beforeConnectionsCall: ({ method, connectionId }) => {
        if (method !== 'POST') return undefined;
        posts += 1;
        const run = streak.get(connectionId) ?? 0;
        if (run < 2 && Math.random() < 0.5) {
          streak.set(connectionId, run + 1);
          throttled += 1;
          return { status: 429, errorType: 'LimitExceededException', message: 'Rate exceeded' };
        }
        streak.set(connectionId, 0);
        return undefined;
      },
    });

    const eventIds = await h.publish(
      ...[1, 2, 3, 4, 5].map((n) => ({ detail: { topics: [`storm/zone/${n}`], data: { n } } })),
    );
    for (const client of clients) {
      await waitUntil(
        () => eventIds.every((id) => client.events().some((f) => f.id === id)),
        `all 5 events on ${client.connectionId}`,
        20_000,
      );
    }
    // Let retry messages (if any) drain before counting, so a late duplicate would be seen.
    await waitUntil(
      async () =>
        (await h.queueDepth(h.config.queueUrl)) === 0 && h.platform.poller.stats().inFlightBatches === 0,
      'the fan-out queue to drain',
      20_000,
    );

    let duplicates = 0;
    for (const client of clients) {
      const received = client.events().map((f) => f.id);
      duplicates += received.length - new Set(received).size;
      expect([...received].sort()).toEqual([...eventIds].sort());
    }
    expect(duplicates).toBe(0);
    expect(throttled).toBeGreaterThan(10);
    expect(posts).toBe(100 + throttled);
    expect(await h.queueDepth(h.config.dlqUrl)).toBe(0);
    const reported = h
      .jsonLogs('fanout')
      .filter((line) => line.message === 'delivered' && eventIds.includes(String(line.eventId)))
      .reduce((sum, line) => sum + Number(line.throttled ?? 0), 0);
    expect(reported).toBe(throttled);
  }, 60_000);

  it('returns ConnectedAt, LastActiveAt and the source IP from GetConnection for a live connection, and GoneException once it closed', async () => {
    const before = Date.now();
    const client = await h.connect('gina', ['demo/*']);
    await client.request({ action: 'ping' });

    const output = await h.management.send(new GetConnectionCommand({ ConnectionId: client.connectionId }));
    expect(output.ConnectedAt).toBeInstanceOf(Date);
    expect(output.LastActiveAt).toBeInstanceOf(Date);
    expect(output.Identity?.SourceIp).toBe('127.0.0.1');
    const connectedAt = output.ConnectedAt?.getTime() ?? 0;
    expect(connectedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(output.LastActiveAt?.getTime()).toBeGreaterThanOrEqual(connectedAt);

    await client.close();
    await waitUntil(
      () =>
        h.management.send(new GetConnectionCommand({ ConnectionId: client.connectionId })).then(
          () => false,
          (err: Error) => err.name === 'GoneException',
        ),
      'GetConnection to answer GoneException',
    );
  });
});
