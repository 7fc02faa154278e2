import { MAX_TOPICS_PER_FRAME } from '@fanout/protocol';
import { createSubscribeHandler } from '../../../shared/routes/subscribe.js';
import { authorizerContext, CONNECTION_ID, messageEvent } from '../../support/events.js';
import { connected, context, logged, replyOf, routeDeps, subscriptionsOf } from './harness.js';

const ALICE = { userId: 'alice', topics: ['users/alice/*', 'orders/eu/*', 'news'] };

async function setup(grants: { userId?: string; topics: string[] } = ALICE, maxSubscriptions?: number) {
  const deps = routeDeps();
  await connected(deps.store, grants);
  const handler = createSubscribeHandler({ ...deps, ...(maxSubscriptions ? { maxSubscriptions } : {}) });
  const send = async (frame: unknown) =>
    replyOf(await handler(messageEvent(frame, { authorizer: authorizerContext(grants) }), context));
  return { ...deps, handler, send };
}

describe('subscribe route', () => {
  it('subscribes to allowed patterns and replies with the id and topics', async () => {
    const { send, store, metrics } = await setup();
    const reply = await send({ action: 'subscribe', topics: ['orders/eu/*', 'users/alice/x'], id: 'r1' });
    expect(reply).toEqual({
      type: 'subscribed',
      id: 'r1',
      topics: ['orders/eu/*', 'users/alice/x'],
      position: expect.stringMatching(/^\d{13}$/),
    });
    expect(await subscriptionsOf(store, 'alice')).toEqual(['orders/eu/*', 'users/alice/x']);
    expect(metrics.total('Subscribed')).toBe(1);
  });

  it('replies without an id when the frame had none', async () => {
    const { send } = await setup();
    expect(await send({ action: 'subscribe', topics: ['news'] })).toEqual({
      type: 'subscribed',
      position: expect.stringMatching(/^\d{13}$/),
      topics: ['news'],
    });
  });

  it('is idempotent: subscribing again to held patterns adds nothing', async () => {
    const { send, store } = await setup();
    await send({ action: 'subscribe', topics: ['news'] });
    expect(await send({ action: 'subscribe', topics: ['news', 'news'], id: 'again' })).toEqual({
      type: 'subscribed',
      position: expect.stringMatching(/^\d{13}$/),
      id: 'again',
      topics: ['news'],
    });
    expect(await subscriptionsOf(store, 'alice')).toEqual(['news']);
  });

  describe('{sub} grants', () => {
    it('lets alice subscribe below users/alice/', async () => {
      const { send } = await setup({ userId: 'alice', topics: ['users/alice/*'] });
      expect(await send({ action: 'subscribe', topics: ['users/alice/*', 'users/alice/x'] })).toMatchObject({
        type: 'subscribed',
        position: expect.stringMatching(/^\d{13}$/),
      });
    });

    it("refuses alice bob's topics with forbidden, naming the topic", async () => {
      const { send, store } = await setup({ userId: 'alice', topics: ['users/alice/*'] });
      expect(await send({ action: 'subscribe', topics: ['users/alice/x', 'users/bob/x'], id: 'r2' })).toEqual(
        {
          type: 'error',
          id: 'r2',
          code: 'forbidden',
          message: 'not allowed to subscribe to "users/bob/x"',
        },
      );
      // All or nothing: the allowed topic in the same frame was not subscribed either.
      expect(store.calls).not.toContain('subscribe');
    });

    it('refuses a pattern wider than the grant', async () => {
      const { send } = await setup({ userId: 'alice', topics: ['users/alice/*'] });
      expect(await send({ action: 'subscribe', topics: ['users/*'] })).toMatchObject({ code: 'forbidden' });
    });
  });

  describe('the bare * pattern', () => {
    it('is forbidden unless the ACL grants *', async () => {
      const { send } = await setup({ userId: 'alice', topics: ['users/alice/*', 'orders/*'] });
      expect(await send({ action: 'subscribe', topics: ['*'] })).toMatchObject({ code: 'forbidden' });
    });

    it('is allowed when the ACL grants *', async () => {
      const { send } = await setup({ userId: 'ops', topics: ['*'] });
      expect(await send({ action: 'subscribe', topics: ['*'] })).toEqual({
        type: 'subscribed',
        position: expect.stringMatching(/^\d{13}$/),
        topics: ['*'],
      });
    });
  });

  it('grants nothing to a connection without topics in its token', async () => {
    const { send } = await setup({ userId: 'alice', topics: [] });
    expect(await send({ action: 'subscribe', topics: ['news'] })).toMatchObject({ code: 'forbidden' });
  });

  it('fails closed (forbidden, logged) when the authorizer context is missing', async () => {
    const { handler, logger } = await setup();
    const reply = replyOf(await handler(messageEvent({ action: 'subscribe', topics: ['news'] }), context));
    expect(reply).toMatchObject({ code: 'forbidden' });
    expect(logged(logger, 'error', /authorizer context unusable/)).toHaveLength(1);
  });

  it.each([
    ['bad characters', 'orders/eu#1'],
    ['a space', 'orders/eu 1'],
    ['too many segments', 'a/b/c/d/e/f/g/h/i'],
    ['a wildcard prefix leaving no room below it', 'a/b/c/d/e/f/g/h/*'],
    ['* in the middle', 'orders/*/1234'],
    ['* inside a segment', 'orders/eu*'],
    ['an empty string', ''],
    ['an empty segment', 'orders//eu'],
    ['a trailing slash', 'orders/'],
    ['a segment of 65 characters', `orders/${'x'.repeat(65)}`],
    ['more than 256 characters', Array.from({ length: 5 }, () => 'x'.repeat(60)).join('/')],
    ['a number', 42],
    ['null', null],
  ])('refuses a topic with %s as invalid_topic', async (_what, topic) => {
    const { send, store } = await setup({ userId: 'ops', topics: ['*'] });
    const reply = await send({ action: 'subscribe', topics: ['news', topic], id: 'r5' });
    expect(reply).toMatchObject({ type: 'error', id: 'r5', code: 'invalid_topic' });
    expect(store.calls).not.toContain('subscribe');
  });

  it('checks topics before access, so a malformed topic is invalid_topic even without a grant', async () => {
    const { send } = await setup({ userId: 'alice', topics: [] });
    expect(await send({ action: 'subscribe', topics: ['bad topic'] })).toMatchObject({
      code: 'invalid_topic',
    });
  });

  it('refuses a topic nested thousands of arrays deep with invalid_topic, not internal', async () => {
    const { send, store } = await setup({ userId: 'ops', topics: ['*'] });
    // 16,000 levels of nesting in a 32 KB frame: printing it recursively overflows the stack.
    const text = `{"action":"subscribe","id":"deep","topics":[${'['.repeat(16_000)}${']'.repeat(16_000)}]}`;
    const reply = await send(text);
    expect(reply).toMatchObject({ type: 'error', id: 'deep', code: 'invalid_topic' });
    expect(reply.type === 'error' && reply.message).toBe(
      'an array is not a valid topic or pattern: it must be a string',
    );
    expect(store.calls).not.toContain('subscribe');
  });

  it('quotes at most 64 characters of a bad topic back', async () => {
    const { send } = await setup({ userId: 'ops', topics: ['*'] });
    const reply = await send({ action: 'subscribe', topics: [`bad ${'x'.repeat(5000)}`] });
    expect(reply).toMatchObject({ code: 'invalid_topic' });
    expect(reply.type === 'error' && reply.message.length).toBeLessThan(200);
  });

  it.each([
    ['a missing topics field', { action: 'subscribe', id: 'r6' }],
    ['topics that are not an array', { action: 'subscribe', topics: 'news', id: 'r6' }],
    ['an empty topics array', { action: 'subscribe', topics: [], id: 'r6' }],
    [
      `${MAX_TOPICS_PER_FRAME + 1} topics in one frame`,
      {
        action: 'subscribe',
        topics: Array.from({ length: MAX_TOPICS_PER_FRAME + 1 }, (_, i) => `t${i}`),
        id: 'r6',
      },
    ],
  ])('refuses %s as bad_request', async (_what, frame) => {
    const { send, store } = await setup({ userId: 'ops', topics: ['*'] });
    expect(await send(frame)).toMatchObject({ type: 'error', id: 'r6', code: 'bad_request' });
    expect(store.calls).not.toContain('subscribe');
  });

  it('names the offending field in a bad_request message', async () => {
    const { send } = await setup();
    const reply = await send({ action: 'subscribe', topics: 'news' });
    expect(reply.type === 'error' && reply.message).toMatch(/^invalid subscribe frame: topics: /);
  });

  it('accepts exactly the per-frame maximum of topics', async () => {
    const { send } = await setup({ userId: 'ops', topics: ['*'] });
    const topics = Array.from({ length: MAX_TOPICS_PER_FRAME }, (_, i) => `t${i}`);
    expect(await send({ action: 'subscribe', topics })).toEqual({
      type: 'subscribed',
      topics,
      position: expect.stringMatching(/^\d{13}$/),
    });
  });

  it('refuses non-JSON with bad_request and a non-string id by leaving the id out', async () => {
    const { send } = await setup();
    expect(await send('{"action":"subscribe"')).toEqual({
      type: 'error',
      code: 'bad_request',
      message: 'the frame is not valid JSON',
    });
    const reply = await send({ action: 'subscribe', topics: ['news'], id: 7 });
    expect(reply).toMatchObject({ code: 'bad_request' });
    expect(reply).not.toHaveProperty('id');
  });

  it('refuses the 51st subscription with too_many_subscriptions from the store', async () => {
    const { send, store, metrics } = await setup({ userId: 'ops', topics: ['*'] });
    for (let batch = 0; batch < 5; batch++) {
      const topics = Array.from({ length: 10 }, (_, i) => `t${batch}/${i}`);
      expect(await send({ action: 'subscribe', topics })).toMatchObject({ type: 'subscribed' });
    }
    expect(await subscriptionsOf(store, 'ops')).toHaveLength(50);
    expect(await send({ action: 'subscribe', topics: ['one/more'], id: 'r51' })).toMatchObject({
      type: 'error',
      id: 'r51',
      code: 'too_many_subscriptions',
    });
    expect(await subscriptionsOf(store, 'ops')).toHaveLength(50);
    expect(metrics.total('RouteErrors')).toBe(1);
  });

  it('applies a configured cap instead of the default', async () => {
    const { send } = await setup({ userId: 'ops', topics: ['*'] }, 2);
    expect(await send({ action: 'subscribe', topics: ['a', 'b'] })).toMatchObject({ type: 'subscribed' });
    expect(await send({ action: 'subscribe', topics: ['c'] })).toMatchObject({
      code: 'too_many_subscriptions',
    });
  });

  it('refuses a cap that is not a positive integer when the handler is built', () => {
    const deps = routeDeps();
    expect(() => createSubscribeHandler({ ...deps, maxSubscriptions: 0 })).toThrow(RangeError);
    expect(() => createSubscribeHandler({ ...deps, maxSubscriptions: 2.5 })).toThrow(RangeError);
  });

  it('turns an unexpected store error into an internal error frame and logs it', async () => {
    const { send, store, logger, metrics } = await setup();
    store.subscribe = async () =>
      Promise.reject(new Error('ProvisionedThroughputExceededException: table fanout'));
    const reply = await send({ action: 'subscribe', topics: ['news'], id: 'r7' });
    expect(reply).toEqual({
      type: 'error',
      id: 'r7',
      code: 'internal',
      message: 'internal error; the request may be retried',
    });
    // Nothing about the table reaches the client; all of it reaches the log.
    expect(JSON.stringify(reply)).not.toMatch(/Provisioned|fanout/);
    const [entry] = logged(logger, 'error', 'unexpected error');
    expect(entry?.extra[0]).toMatchObject({
      routeKey: 'subscribe',
      connectionId: CONNECTION_ID,
      code: 'internal',
    });
    expect(metrics.total('RouteErrors')).toBe(1);
  });

  it('replies internal when the connection was never registered', async () => {
    const deps = routeDeps();
    const handler = createSubscribeHandler(deps);
    const event = messageEvent(
      { action: 'subscribe', topics: ['news'] },
      { authorizer: authorizerContext(ALICE) },
    );
    expect(replyOf(await handler(event, context))).toMatchObject({ type: 'error', code: 'internal' });
  });
});
