/**
 * The whole local platform (the built function bundles on the local API Gateway, EventBridge, SQS and
 * DynamoDB stand-ins), driven from outside as users drive it: `ws` clients with signed tokens, and the
 * real AWS SDK clients for PutEvents, `@connections`, DynamoDB and SQS. Tests that need other platform
 * options are in the other platform*.test.ts files.
 *
 * Every test about the routes runs on both route backends (docs/architecture.md, "Routes on your own
 * HTTP backend"), one platform each: the route Lambdas, and `fanout backend` (dist/backend) behind
 * HTTP integrations. Both must give the same replies, error frames and rows; where they differ, the
 * backend is wrong. Not doubled: the 429 storm and PostToConnection's size limit, which test the
 * fan-out function and the gateway's `@connections` API; those are the same Lambda and the same
 * gateway in both shapes, the routes take no part, so they run on the Lambda shape only.
 */
import { GetConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ACTIONS, MAX_MESSAGE_BYTES, MAX_TOPICS_PER_FRAME } from '@fanout/protocol';
import WebSocket, { type RawData } from 'ws';
import { ROUTE_BACKENDS, type RouteBackend } from '../../local/dev/platform';
import { handshakeStatus } from '../../local/test/support/ws-client';
import {
  type Frame,
  type PlatformClient,
  type PlatformHarness,
  type RouteKey,
  type Row,
  startHarness,
  waitUntil,
} from '../support/platform';

const CONNECTING_GRACE_SECONDS = 1;
/** Small, so a test reaches the cap in two frames. */
const MAX_SUBSCRIPTIONS = 5;

/** How each shape is named in the test titles. */
const SHAPES: Record<RouteBackend, string> = {
  lambda: 'the route Lambdas',
  http: 'fanout backend over HTTP integrations',
};

/** Rows of a connection, keys only, with the connection id replaced by `<id>`, sorted. */
const keysOf = (rows: Row[], connectionId: string): string[] =>
  rows.map((row) => `${row.pk} ${row.sk}`.replaceAll(connectionId, '<id>')).sort();

/** The next frame the client receives after the `seen` it has now, whatever it is. */
const nextFrame = (client: PlatformClient, seen: number, what: string): Promise<Frame> =>
  waitUntil(() => client.frames[seen], `${what} on ${client.connectionId}`);

describe.each(ROUTE_BACKENDS.map((routeBackend) => ({ routeBackend, shape: SHAPES[routeBackend] })))(
  'the local platform with the routes on $shape, driven by real clients',
  ({ routeBackend }) => {
    let h: PlatformHarness;

    beforeAll(async () => {
      // A 410 within the grace after connecting is retried, not pruned; a short grace lets a test see
      // a vanished connection pruned without waiting half a minute.
      h = await startHarness({
        routeBackend,
        overrides: {
          settings: {
            FANOUT_CONNECTING_GRACE_SECONDS: CONNECTING_GRACE_SECONDS,
            MAX_SUBSCRIPTIONS,
          },
        },
      });
    }, 60_000);

    afterEach(async () => {
      h.platform.gateway.setFaults(undefined);
      h.platform.dynamodb.setFaults(undefined);
      await h.closeClients();
    });

    afterAll(async () => {
      await h?.close();
    });

    /**
     * Waits until a route has been called `count` times, then checks it was not called more: the
     * backend process's log lines come through a pipe, and may arrive after the reply they follow.
     */
    const expectRouteCalls = async (routeKey: RouteKey, count: number): Promise<void> => {
      await waitUntil(() => h.routeCalls(routeKey) >= count, `${count} call(s) of ${routeKey}`);
      expect(h.routeCalls(routeKey)).toBe(count);
    };

    /** The fan-out function's `delivered` log line for an event, once the event is done with. */
    const deliveredLog = (eventId: string): Promise<Frame> =>
      waitUntil(
        () => h.jsonLogs('fanout').find((line) => line.message === 'delivered' && line.eventId === eventId),
        `the fan-out's "delivered" log line for ${eventId}`,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nrecent logs:\n${h.recentLogs()}`);
      });

    it('runs its routes where the shape says: route functions, or the backend process and no route function', () => {
      const running = Object.keys(h.platform.functions).sort();
      if (routeBackend === 'http') {
        expect(running).toEqual(['authorizer', 'fanout']);
        expect(h.platform.backend?.pid).toEqual(expect.any(Number));
      } else {
        expect(running).toEqual(
          ['authorizer', 'connect', 'default', 'disconnect', 'fanout', 'subscribe', 'unsubscribe'].sort(),
        );
        expect(h.platform.backend).toBeUndefined();
      }
    });

    it('refuses a token with a bad signature, an expired token and a missing token with HTTP 401 at the handshake, storing nothing', async () => {
      const rowsBefore = await h.allRows();
      const connectionsBefore = h.platform.gateway.connections();
      const connectsBefore = h.routeCalls('$connect');
      const badSignature = await h.token({ sub: 'mallory', topics: ['demo/*'], secret: 'not-the-secret' });
      const expired = await h.token({ sub: 'mallory', topics: ['demo/*'], expiresInSeconds: -60 });

      expect(await handshakeStatus(h.url(badSignature))).toMatchObject({ status: 401 });
      expect(await handshakeStatus(h.url(expired))).toMatchObject({ status: 401 });
      expect(await handshakeStatus(h.url())).toMatchObject({ status: 401 });
      expect(await handshakeStatus(h.url(''))).toMatchObject({ status: 401 });

      expect(h.platform.gateway.connections()).toEqual(connectionsBefore);
      expect(await h.allRows()).toEqual(rowsBefore);
      expect(h.routeCalls('$connect')).toBe(connectsBefore);
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

    it('serves a user whose id is not ASCII and whose token grants 60 patterns: its rows name it as the token does, and both direct messages and topic events reach it', async () => {
      const grants = Array.from({ length: 60 }, (_, i) => `tenant-${i}-abcdefgh/rooms/*`);
      // Past 1,024 characters, where a bound on the grants would first show.
      expect(JSON.stringify(grants).length).toBeGreaterThan(1024);
      const client = await h.connect('zoë', grants);
      expect(
        await client.request({ action: 'subscribe', topics: ['tenant-59-abcdefgh/rooms/*'] }),
      ).toMatchObject({
        type: 'subscribed',
        topics: ['tenant-59-abcdefgh/rooms/*'],
      });
      expect(keysOf(await h.rowsOf(client.connectionId), client.connectionId)).toEqual([
        'CONN#<id> META',
        'CONN#<id> SUB#tenant-59-abcdefgh/rooms/*',
        'TOPIC#tenant-59-abcdefgh/rooms/* <id>',
        'USER#zoë <id>',
      ]);

      const [direct, onTopic] = await h.publish(
        { detail: { users: ['zoë'], data: 'for zoë' } },
        { detail: { topics: ['tenant-59-abcdefgh/rooms/1'], data: 'for the room' } },
      );
      expect(await client.waitFor((f) => f.id === direct, 'the direct message')).toMatchObject({
        user: 'zoë',
      });
      await client.waitFor((f) => f.id === onTopic, 'the topic event');
    });

    it('prunes a client that vanished without a close frame (its $disconnect lost) from every table row on the next event, while live clients still receive it', async () => {
      const live = await h.connect('lena', ['demo/*']);
      const vanishing = await h.connect('victor', ['demo/*']);
      await h.subscribe(live, ['demo/*']);
      await h.subscribe(vanishing, ['demo/*']);
      const gone = vanishing.connectionId;
      // On AWS `$disconnect` is best-effort; make the gateway lose this one.
      h.platform.gateway.setFaults({ dropDisconnect: (connectionId) => connectionId === gone });

      const disconnectsBefore = h.routeCalls('$disconnect');
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
      expect(h.routeCalls('$disconnect')).toBe(disconnectsBefore);
      // Past the grace a 410 means gone (a younger connection may still be opening: it is retried).
      await new Promise((done) => setTimeout(done, CONNECTING_GRACE_SECONDS * 1000));

      const [eventId] = await h.publish({ detail: { topics: ['demo/eu/9'], data: 'after the vanishing' } });
      await live.waitFor((f) => f.id === eventId, 'the event');
      const log = await deliveredLog(eventId ?? '');
      expect(log).toMatchObject({ audience: 2, delivered: 1, pruned: 1 });
      await waitUntil(async () => (await h.rowsOf(gone)).length === 0, `no rows left for ${gone}`);
      const metrics = h
        .jsonLogs('fanout')
        .filter((line) => '_aws' in line && typeof line.Pruned === 'number');
      expect(metrics.map((line) => line.Pruned)).toContain(1);
      expect(h.routeCalls('$disconnect')).toBe(disconnectsBefore);
    });

    it('removes every row of a connection on $disconnect after a normal close', async () => {
      const client = await h.connect('dora', ['demo/*', 'users/{sub}/*']);
      await h.subscribe(client, ['demo/*', 'users/dora/inbox']);
      const id = client.connectionId;
      const disconnectsBefore = h.routeCalls('$disconnect');
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
      await expectRouteCalls('$disconnect', disconnectsBefore + 1);
    });

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

    it('answers unsubscribe with the topics asked and ping with a pong, and delivers an unsubscribed topic no more', async () => {
      const client = await h.connect('ursula', ['demo/*']);
      await h.subscribe(client, ['demo/*', 'demo/kept']);
      const id = client.connectionId;

      // Patterns not held are echoed too: the reply is what the client asked, so its view converges.
      expect(await client.request({ action: 'unsubscribe', topics: ['demo/*', 'demo/never'] })).toEqual({
        type: 'unsubscribed',
        id: expect.any(String),
        topics: ['demo/*', 'demo/never'],
      });
      expect(keysOf(await h.rowsOf(id), id)).toEqual([
        'CONN#<id> META',
        'CONN#<id> SUB#demo/kept',
        'TOPIC#demo/kept <id>',
        'USER#ursula <id>',
      ]);
      const pong = await client.request({ action: 'ping' });
      expect(pong).toEqual({ type: 'pong', id: pong.id, position: expect.stringMatching(/^\d{13}$/) });
      expect(Object.keys(pong)).toEqual(['type', 'id', 'position']);

      const [dropped, kept] = await h.publish(
        { detail: { topics: ['demo/gone'], data: 1 } },
        { detail: { topics: ['demo/kept'], data: 2 } },
      );
      expect(await deliveredLog(dropped ?? '')).toMatchObject({ audience: 0, delivered: 0 });
      await client.waitFor((f) => f.id === kept, 'the demo/kept event');
      expect(client.events().map((f) => f.id)).toEqual([kept]);
    });

    it('answers frames that are not JSON objects, lack an action or name an unknown one with bad_request and unknown_action error frames, keeping the connection open', async () => {
      const client = await h.connect('maria', ['demo/*']);
      const defaultsBefore = h.routeCalls('$default');

      // Without a readable id, the reply has none.
      let seen = client.frames.length;
      await client.send('this is not JSON');
      expect(await nextFrame(client, seen, 'the reply to a frame that is not JSON')).toEqual({
        type: 'error',
        code: 'bad_request',
        message: 'the frame is not valid JSON',
      });
      seen = client.frames.length;
      await client.send('["subscribe"]');
      expect(await nextFrame(client, seen, 'the reply to a JSON array')).toEqual({
        type: 'error',
        code: 'bad_request',
        message: 'the frame must be a JSON object',
      });
      expect(await client.request({})).toEqual({
        type: 'error',
        id: expect.any(String),
        code: 'bad_request',
        message: 'the frame has no "action"',
      });
      expect(await client.request({ action: 7 })).toEqual({
        type: 'error',
        id: expect.any(String),
        code: 'bad_request',
        message: '"action" must be a string',
      });
      expect(await client.request({ action: 'dance' })).toEqual({
        type: 'error',
        id: expect.any(String),
        code: 'unknown_action',
        message: `unknown action "dance"; known actions: ${ACTIONS.join(', ')}`,
      });
      // An id longer than the protocol allows is not echoed.
      seen = client.frames.length;
      await client.send({ action: 'ping', id: 'x'.repeat(129) });
      expect(await nextFrame(client, seen, 'the reply to a ping with a long id')).toEqual({
        type: 'error',
        code: 'bad_request',
        message: expect.stringContaining('invalid ping frame'),
      });

      // Every one of them went to $default, and the connection still answers.
      await expectRouteCalls('$default', defaultsBefore + 6);
      expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
      expect(client.isClosed()).toBe(false);
    });

    it('answers invalid subscribe and unsubscribe frames with bad_request and invalid_topic error frames, and stores nothing for them', async () => {
      const client = await h.connect('ivan', ['demo/*']);
      const rowsBefore = await h.rowsOf(client.connectionId);
      const refused = (code: string, message: unknown) => ({
        type: 'error',
        id: expect.any(String),
        code,
        message,
      });

      expect(await client.request({ action: 'subscribe', topics: ['demo//x'] })).toEqual(
        refused('invalid_topic', expect.stringContaining('demo//x')),
      );
      expect(await client.request({ action: 'unsubscribe', topics: ['demo/#/x'] })).toEqual(
        refused('invalid_topic', expect.stringContaining('demo/#/x')),
      );
      expect(await client.request({ action: 'subscribe', topics: 'demo/*' })).toEqual(
        refused('bad_request', expect.stringContaining('invalid subscribe frame')),
      );
      expect(await client.request({ action: 'subscribe', topics: [] })).toEqual(
        refused('bad_request', '"topics" must list 1 to 20 entries, got 0'),
      );
      const tooMany = Array.from({ length: MAX_TOPICS_PER_FRAME + 1 }, (_, i) => `demo/t${i}`);
      expect(await client.request({ action: 'subscribe', topics: tooMany })).toEqual(
        refused('bad_request', `"topics" must list 1 to ${MAX_TOPICS_PER_FRAME} entries, got 21`),
      );
      expect(await client.request({ action: 'unsubscribe', topics: tooMany })).toEqual(
        refused('bad_request', `"topics" must list 1 to ${MAX_TOPICS_PER_FRAME} entries, got 21`),
      );
      expect(
        await client.request({
          action: 'subscribe',
          topics: ['demo/*'],
          since: { 'other/*': '1764633600000' },
        }),
      ).toEqual(refused('bad_request', '"since" names "other/*", which the frame does not subscribe to'));
      expect(
        await client.request({ action: 'subscribe', topics: ['demo/*'], since: { 'demo/*': 'yesterday' } }),
      ).toEqual(refused('bad_request', '"since.demo/*" is not a position the server issued'));

      expect(await h.rowsOf(client.connectionId)).toEqual(rowsBefore);
    });

    it(`refuses a subscribe past the cap of ${MAX_SUBSCRIPTIONS} subscriptions with too_many_subscriptions, keeping the ones held`, async () => {
      const client = await h.connect('carl', ['demo/*']);
      await h.subscribe(client, ['demo/1', 'demo/2', 'demo/3']);
      const rowsBefore = await h.rowsOf(client.connectionId);

      expect(await client.request({ action: 'subscribe', topics: ['demo/4', 'demo/5', 'demo/6'] })).toEqual({
        type: 'error',
        id: expect.any(String),
        code: 'too_many_subscriptions',
        message: `a connection may hold at most ${MAX_SUBSCRIPTIONS} subscriptions (has 3, asked for 3 more)`,
      });
      expect(await h.rowsOf(client.connectionId)).toEqual(rowsBefore);
      // Up to the cap is still allowed.
      expect(await client.request({ action: 'subscribe', topics: ['demo/4', 'demo/5'] })).toMatchObject({
        type: 'subscribed',
        topics: ['demo/4', 'demo/5'],
      });
    });

    it('answers subscribe and unsubscribe with the internal error frame while the table refuses the routes, never showing the error, refuses handshakes then, storing nothing, and serves again once it is back', async () => {
      const client = await h.connect('tess', ['demo/*']);
      const rowsBefore = await h.allRows();
      const internal = {
        type: 'error',
        id: expect.any(String),
        code: 'internal',
        message: 'internal error; the request may be retried',
      };
      // Not retried by the SDK, unlike ServiceUnavailable: the answer comes at once.
      const denied = {
        status: 400,
        errorType: 'AccessDeniedException',
        message: 'User: arn:aws:sts::000000000000:assumed-role/fanout-routes is not authorized',
      };
      const token = await h.token({ sub: 'tess', topics: ['demo/*'] });
      const connectsBefore = h.routeCalls('$connect');
      h.platform.dynamodb.setFaults({ beforeCall: () => denied });
      try {
        expect(await client.request({ action: 'subscribe', topics: ['demo/*'] })).toEqual(internal);
        expect(await client.request({ action: 'unsubscribe', topics: ['demo/*'] })).toEqual(internal);
        // 502 for a connect function that throws (local/gateway/server.ts); the backend answers the
        // same, which the HTTP integration passes on.
        expect(await handshakeStatus(h.url(token))).toMatchObject({ status: 502 });
        await expectRouteCalls('$connect', connectsBefore + 1);
      } finally {
        h.platform.dynamodb.setFaults(undefined);
      }
      expect(await h.allRows()).toEqual(rowsBefore);
      expect(client.texts.join('\n')).not.toMatch(/AccessDenied|arn:aws|not authorized/);

      expect(await client.request({ action: 'subscribe', topics: ['demo/*'] })).toMatchObject({
        type: 'subscribed',
      });
    });

    it('answers a ping of exactly 128 KB sent in 32 KB frames, and closes a connection sending more with 1009, removing its rows', async () => {
      const client = await h.connect('petra', ['demo/*']);
      await h.subscribe(client, ['demo/*']);
      /** A ping whose padding makes the message exactly `bytes` long (extra fields are ignored). */
      const paddedPing = (id: string, bytes: number): Buffer => {
        const empty = JSON.stringify({ action: 'ping', id, pad: '' });
        return Buffer.from(JSON.stringify({ action: 'ping', id, pad: 'x'.repeat(bytes - empty.length) }));
      };
      /** API Gateway takes frames of 32 KB at most: a larger message must come in several. */
      const sendFragmented = async (message: Buffer) => {
        const frame = 32 * 1024;
        for (let start = 0; start < message.length; start += frame) {
          const fin = start + frame >= message.length;
          await new Promise<void>((sent, failed) =>
            client.ws.send(message.subarray(start, start + frame), { binary: false, fin }, (err) =>
              err ? failed(err) : sent(),
            ),
          );
        }
      };

      await sendFragmented(paddedPing('whole', MAX_MESSAGE_BYTES));
      expect(await client.waitFor((f) => f.id === 'whole', 'the pong to a 128 KB ping')).toEqual({
        type: 'pong',
        id: 'whole',
        position: expect.stringMatching(/^\d{13}$/),
      });

      const disconnectsBefore = h.routeCalls('$disconnect');
      await sendFragmented(paddedPing('over', MAX_MESSAGE_BYTES + 1));
      expect(await client.closed).toMatchObject({ code: 1009 });
      await waitUntil(
        async () => (await h.rowsOf(client.connectionId)).length === 0,
        `no rows left for ${client.connectionId}`,
      );
      await expectRouteCalls('$disconnect', disconnectsBefore + 1);
      expect(client.frames.some((f) => f.id === 'over')).toBe(false);
    });

    it('lets a raw WebSocket client recover its topics and its direct messages with since, as the README shows', async () => {
      // Not ASCII: the user's stream is found by the id the routes were given.
      const user = 'rené';
      const token = await h.token({ sub: user, topics: ['orders/*'] });
      const open = async () => {
        const ws = new WebSocket(`${h.config.websocketUrl}?token=${token}`);
        const frames: Frame[] = [];
        ws.on('message', (data: RawData) => frames.push(JSON.parse(data.toString()) as Frame));
        await new Promise((done, fail) => {
          ws.once('open', done);
          ws.once('error', fail);
        });
        return { ws, frames };
      };
      const closed = (ws: WebSocket) => new Promise((done) => ws.once('close', done));
      const first = await open();
      first.ws.send(JSON.stringify({ action: 'subscribe', topics: ['orders/*'], id: 's1' }));
      await waitUntil(() => first.frames.find((f) => f.id === 's1'), 'subscribed');
      const [seen] = await h.publish({ detail: { topics: ['orders/eu/7'], data: 'seen' } });
      const event = await waitUntil(() => first.frames.find((f) => f.id === seen), 'the first event');
      first.ws.close();
      await closed(first.ws);
      // Gone from the audience before the events it misses are published: its `$disconnect` left the
      // marks that keep history for what it held (shared/store/history.ts).
      await waitUntil(async () => (await h.connectionRows()).length === 0, 'the first connection rows to go');

      const missed = await h.publish(
        { detail: { topics: ['orders/eu/8'], data: 'missed 1' } },
        { detail: { topics: ['orders/us/9'], data: 'missed 2' } },
        { detail: { users: [user], data: 'missed direct' } },
      );
      for (const id of missed) await deliveredLog(id);

      const second = await open();
      try {
        second.ws.send(
          JSON.stringify({
            action: 'subscribe',
            topics: ['orders/*'],
            since: { 'orders/*': event.position, $user: event.position },
            id: 's2',
          }),
        );
        const reply = await waitUntil(() => second.frames.find((f) => f.id === 's2'), 'the subscribed reply');
        expect(reply).toEqual({
          type: 'subscribed',
          id: 's2',
          topics: ['orders/*'],
          recovered: true,
          missed: expect.any(Number),
          position: expect.stringMatching(/^\d{13}$/),
          settleMs: expect.any(Number),
        });
        // Missed events come first, packed in `events` frames, each as the live frame would have been.
        const replayed = second.frames.filter((f) => f.type === 'events').flatMap((f) => f.events as Frame[]);
        expect(replayed.map((f) => f.id)).toEqual(expect.arrayContaining(missed));
        expect(replayed.filter((f) => f.user === user).map((f) => f.id)).toEqual([missed[2]]);
        expect(
          replayed.every((f) => f.type === 'event' && (f.subscription === 'orders/*' || f.user === user)),
        ).toBe(true);
        expect(second.frames.indexOf(reply)).toBeGreaterThan(
          second.frames.findIndex((f) => f.type === 'events'),
        );
      } finally {
        second.ws.close();
        await closed(second.ws);
      }
      await waitUntil(async () => (await h.connectionRows()).length === 0, 'no connection rows left');
    });

    // The fan-out and `@connections`: the same Lambda and the same gateway in both shapes.
    if (routeBackend === 'lambda') {
      describe('what the routes take no part in', () => {
        it('answers a PostToConnection over 128 KB with PayloadTooLargeException through the real management client', async () => {
          const client = await h.connect('paul', ['demo/*']);
          const post = (bytes: number) =>
            h.management.send(
              new PostToConnectionCommand({
                ConnectionId: client.connectionId,
                Data: Buffer.alloc(bytes, 'x'),
              }),
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
              (await h.queueDepth(h.config.queueUrl)) === 0 &&
              h.platform.poller.stats().inFlightBatches === 0,
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
      });
    }
  },
);
