/**
 * The whole local platform, once: a client connects, subscribes, pings and receives events whose data
 * carries a marker; refused tokens knock; a malformed event and a body that is not JSON reach the
 * queue. No line any function writes (nor the SQS poller's) carries a token, the JWT secret or the
 * marker. test/unit/log-redaction.test.ts checks each handler's paths one by one.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { handshakeStatus } from '../../local/test/support/ws-client';
import { type PlatformHarness, startHarness, waitUntil } from '../support/platform';

const MARKER = 'Dm7xQ2';
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/;

let h: PlatformHarness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

/** Waits for a JSON log line of `fn` with `message`, showing the recent logs if it never comes. */
const logged = (fn: 'authorizer' | 'fanout' | 'disconnect', message: string, count = 1) =>
  waitUntil(
    () => h.jsonLogs(fn).filter((line) => line.message === message).length >= count,
    `${count} "${message}" line(s) from ${fn}`,
    15_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nrecent logs:\n${h.recentLogs()}`);
  });

describe('the local platform', () => {
  it('logs no token, no secret and no event data, from connect to disconnect', async () => {
    const refused = {
      badSignature: await h.token({
        sub: 'mallory',
        topics: ['*'],
        secret: 'not-the-platform-secret-0123456789',
      }),
      expired: await h.token({ sub: 'mallory', topics: ['*'], expiresInSeconds: -60 }),
      garbage: `eyJ${MARKER}.not-a-token`,
    };
    for (const token of Object.values(refused)) {
      expect(await handshakeStatus(h.url(token))).toMatchObject({ status: 401 });
    }

    const client = await h.connect('alice', ['demo/*']);
    await h.subscribe(client, ['demo/*']);
    expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    expect(await client.request({ action: 'shout' })).toMatchObject({
      type: 'error',
      code: 'unknown_action',
    });
    const data = { note: MARKER, card: `4111-${MARKER}` };
    const [onTopic, toUser] = await h.publish(
      { detail: { topics: ['demo/x'], data } },
      { detail: { users: ['alice'], data } },
    );
    for (const id of [onTopic, toUser]) await client.waitFor((frame) => frame.id === id, `event ${id}`);

    // What the platform cannot deliver: an event with a bad topic, and a body that is not JSON, its
    // data next to the fault (as a parser's message would quote it).
    await h.publish({ detail: { topics: ['demo//x'], data } });
    await h.sqs.send(
      new SendMessageCommand({
        QueueUrl: h.config.queueUrl,
        MessageBody: `{"detail-type":"x","detail":{"topics":["demo/x"],"data":{"note":${MARKER}}}}`,
      }),
    );
    await logged('fanout', 'dead-lettering a malformed record', 2);
    await client.close();
    await logged('disconnect', 'disconnected');
    await logged('authorizer', 'connection refused', Object.keys(refused).length);

    const lines = [
      ...h.logs.map((entry) => `[${entry.functionName} ${entry.stream}] ${entry.line}`),
      ...h.pollerLogs.map((line) => `[poller] ${line}`),
    ];
    const secrets = [h.config.jwtSecret, MARKER, ...Object.values(refused)];
    const leaks = lines.filter(
      (line) => JWT_LIKE.test(line) || secrets.some((secret) => line.includes(secret)),
    );
    expect(leaks.map((line) => line.slice(0, 300))).toEqual([]);
    // Every function that ran wrote its lines here.
    expect(new Set(h.logs.map((entry) => entry.functionName)).size).toBeGreaterThanOrEqual(6);
  }, 60_000);
});
