import { MAX_TOPICS_PER_FRAME } from '@fanout/protocol';
import { createUnsubscribeHandler } from '../../../shared/routes/unsubscribe.js';
import { authorizerContext, CONNECTION_ID, messageEvent } from '../../support/events.js';
import { connected, context, logged, replyOf, routeDeps, subscriptionsOf } from './harness.js';

async function setup(held: string[] = ['orders/eu/*', 'news']) {
  const deps = routeDeps();
  await connected(deps.store, { userId: 'alice', topics: ['*'] });
  await deps.store.subscribe(CONNECTION_ID, held, 50);
  const handler = createUnsubscribeHandler(deps);
  const authorizer = authorizerContext({ userId: 'alice', topics: ['*'] });
  const send = async (frame: unknown) => replyOf(await handler(messageEvent(frame, { authorizer }), context));
  return { ...deps, send };
}

describe('unsubscribe route', () => {
  it('removes the patterns and replies with the topics requested and the id', async () => {
    const { send, store, metrics } = await setup();
    expect(await send({ action: 'unsubscribe', topics: ['news'], id: 'r2' })).toEqual({
      type: 'unsubscribed',
      id: 'r2',
      topics: ['news'],
    });
    expect(await subscriptionsOf(store, 'alice')).toEqual(['orders/eu/*']);
    expect(metrics.total('Unsubscribed')).toBe(1);
  });

  it('replies without an id when the frame had none', async () => {
    const { send } = await setup();
    expect(await send({ action: 'unsubscribe', topics: ['news'] })).toEqual({
      type: 'unsubscribed',
      topics: ['news'],
    });
  });

  it('accepts patterns that are not held, echoing them, and logs what was actually removed', async () => {
    const { send, logger } = await setup();
    expect(await send({ action: 'unsubscribe', topics: ['news', 'never/held', 'news'] })).toEqual({
      type: 'unsubscribed',
      topics: ['news', 'never/held'],
    });
    expect(logged(logger, 'info', 'unsubscribed')[0]?.extra[0]).toMatchObject({ removed: ['news'] });
  });

  it('needs no grant to drop a subscription', async () => {
    const deps = routeDeps();
    await connected(deps.store, { userId: 'alice', topics: [] });
    const handler = createUnsubscribeHandler(deps);
    const event = messageEvent({ action: 'unsubscribe', topics: ['news'] });
    expect(replyOf(await handler(event, context))).toMatchObject({ type: 'unsubscribed' });
  });

  it.each([
    ['a missing topics field', { action: 'unsubscribe', id: 'u1' }, 'bad_request'],
    [
      'topics that are not an array',
      { action: 'unsubscribe', topics: { news: true }, id: 'u1' },
      'bad_request',
    ],
    ['an empty topics array', { action: 'unsubscribe', topics: [], id: 'u1' }, 'bad_request'],
    [
      'too many topics',
      {
        action: 'unsubscribe',
        topics: Array.from({ length: MAX_TOPICS_PER_FRAME + 1 }, (_, i) => `t${i}`),
        id: 'u1',
      },
      'bad_request',
    ],
    ['an invalid topic', { action: 'unsubscribe', topics: ['orders/*/eu'], id: 'u1' }, 'invalid_topic'],
    ['an empty topic', { action: 'unsubscribe', topics: [''], id: 'u1' }, 'invalid_topic'],
  ])('refuses %s', async (_what, frame, code) => {
    const { send, store } = await setup();
    expect(await send(frame)).toMatchObject({ type: 'error', id: 'u1', code });
    expect(store.calls).not.toContain('unsubscribe');
  });

  it('refuses non-JSON with bad_request', async () => {
    const { send } = await setup();
    expect(await send('unsubscribe news')).toMatchObject({ code: 'bad_request' });
  });

  it('turns an unexpected store error into an internal error frame', async () => {
    const { send, store, logger } = await setup();
    store.unsubscribe = async () => Promise.reject(new Error('boom'));
    expect(await send({ action: 'unsubscribe', topics: ['news'], id: 'u9' })).toMatchObject({
      id: 'u9',
      code: 'internal',
    });
    expect(logged(logger, 'error', 'unexpected error')).toHaveLength(1);
  });
});
