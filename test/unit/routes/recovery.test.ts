import { type EventFrame, positionAt } from '@fanout/protocol';
import type { FanoutEvent } from '../../../shared/domain/envelope.js';
import { MemoryConnectionGateway } from '../../../shared/gateway/gateway-memory.js';
import { createSubscribeHandler } from '../../../shared/routes/subscribe.js';
import { MemoryHistoryStore } from '../../../shared/store/history-memory.js';
import { authorizerContext, CONNECTION_ID, messageEvent } from '../../support/events.js';
import { connected, context, replyOf, routeDeps } from './harness.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const GRANTS = { userId: 'alice', topics: ['orders/*', 'users/alice/*'] };
const MARGIN_MS = 12_000;

const event = (id: string, topics: string[], users: string[] = []): FanoutEvent => ({
  id,
  source: 'orders',
  detailType: 'OrderUpdated',
  time: '2026-12-01T11:59:00Z',
  topics,
  users,
  data: { id },
});

async function setup(options: { retentionSeconds?: number; maxEvents?: number } = {}) {
  const deps = routeDeps();
  await connected(deps.store, { ...GRANTS, topics: ['orders/*', 'users/alice/*'] });
  const history = new MemoryHistoryStore({
    retentionSeconds: options.retentionSeconds ?? 600,
    now: () => NOW,
  });
  const gateway = new MemoryConnectionGateway().connect(CONNECTION_ID);
  const handler = createSubscribeHandler({
    ...deps,
    now: () => NOW,
    recovery: {
      history,
      gateway,
      marginMs: MARGIN_MS,
      maxEvents: options.maxEvents ?? 100,
      now: () => NOW,
      pause: async () => {},
    },
  });
  const send = async (frame: unknown) =>
    replyOf(await handler(messageEvent(frame, { authorizer: authorizerContext(GRANTS) }), context));
  /** Every event frame posted to the connection, unpacked from the `events` frames. */
  const replayed = () =>
    gateway.received(CONNECTION_ID).flatMap((frame) => (frame as { events: EventFrame[] }).events);
  return { ...deps, history, gateway, send, replayed };
}

describe('recovery on subscribe', () => {
  it('sends again, in position order and before its reply, what each stream missed since its position', async () => {
    const { history, send, replayed, metrics } = await setup();
    await history.record(
      event('e1', ['orders/eu/1']),
      [{ kind: 'pattern', pattern: 'orders/*' }],
      positionAt(NOW - 50_000),
      true,
    );
    await history.record(
      event('e2', ['orders/eu/2']),
      [{ kind: 'pattern', pattern: 'orders/*' }],
      positionAt(NOW - 20_000),
      true,
    );
    await history.record(
      event('d1', [], ['alice']),
      [{ kind: 'user', userId: 'alice' }],
      positionAt(NOW - 10_000),
      true,
    );

    const since = positionAt(NOW - 30_000);
    const reply = await send({
      action: 'subscribe',
      topics: ['orders/*'],
      since: { 'orders/*': since, $user: since },
      id: 'r1',
    });

    expect(reply).toEqual({
      type: 'subscribed',
      id: 'r1',
      topics: ['orders/*'],
      recovered: true,
      missed: 2,
      position: positionAt(NOW),
      settleMs: MARGIN_MS,
    });
    expect(replayed()).toEqual([
      expect.objectContaining({
        id: 'e2',
        topic: 'orders/eu/2',
        subscription: 'orders/*',
        position: positionAt(NOW - 20_000),
      }),
      expect.objectContaining({ id: 'd1', user: 'alice', position: positionAt(NOW - 10_000) }),
    ]);
    expect(metrics.total('Recovered')).toBe(1);
    expect(metrics.total('Replayed')).toBe(2);
  });

  it('reads back the margin before the position: a page posts up to that long after its position', async () => {
    const { history, send, replayed } = await setup();
    await history.record(
      event('late', ['orders/eu/1']),
      [{ kind: 'pattern', pattern: 'orders/*' }],
      positionAt(NOW - 25_000),
      true,
    );
    const reply = await send({
      action: 'subscribe',
      topics: ['orders/*'],
      since: { 'orders/*': positionAt(NOW - 25_000 + MARGIN_MS - 1) },
    });
    expect(reply).toMatchObject({ recovered: true, missed: 1 });
    expect(replayed().map((f) => f.id)).toEqual(['late']);
  });

  it('sends an event reached by two streams once, and packs what was missed into few frames', async () => {
    const { history, send, gateway, replayed } = await setup();
    for (let i = 0; i < 30; i++) {
      await history.record(
        event(`e${i}`, ['orders/eu/1'], ['alice']),
        [
          { kind: 'pattern', pattern: 'orders/*' },
          { kind: 'user', userId: 'alice' },
        ],
        positionAt(NOW - 5_000 + i),
        true,
      );
    }
    const since = positionAt(NOW - 6_000);
    expect(
      await send({ action: 'subscribe', topics: ['orders/*'], since: { 'orders/*': since, $user: since } }),
    ).toMatchObject({
      recovered: true,
      missed: 30,
    });
    expect(replayed().map((f) => f.id)).toEqual(Array.from({ length: 30 }, (_, i) => `e${i}`));
    expect(gateway.received(CONNECTION_ID)).toHaveLength(1);
  });

  it('answers recovered: false, and replays nothing, for a position older than the retention window', async () => {
    const { history, send, replayed, store } = await setup({ retentionSeconds: 60 });
    await history.record(
      event('e1', ['orders/eu/1']),
      [{ kind: 'pattern', pattern: 'orders/*' }],
      positionAt(NOW - 10_000),
      true,
    );
    const reply = await send({
      action: 'subscribe',
      topics: ['orders/*'],
      since: { 'orders/*': positionAt(NOW - 61_000) },
    });
    expect(reply).toMatchObject({ type: 'subscribed', topics: ['orders/*'], recovered: false, missed: 0 });
    expect(replayed()).toEqual([]);
    // The subscription itself holds: live events keep coming.
    expect(store.calls).toContain('subscribe');
  });

  it('answers recovered: false when more events were missed than one recovery may send', async () => {
    const { history, send, replayed } = await setup({ maxEvents: 3 });
    for (let i = 0; i < 4; i++) {
      await history.record(
        event(`e${i}`, ['orders/eu/1']),
        [{ kind: 'pattern', pattern: 'orders/*' }],
        positionAt(NOW - 5_000 + i),
        true,
      );
    }
    expect(
      await send({
        action: 'subscribe',
        topics: ['orders/*'],
        since: { 'orders/*': positionAt(NOW - 6_000) },
      }),
    ).toMatchObject({
      recovered: false,
    });
    expect(replayed()).toEqual([]);
  });

  it('answers recovered: false without history', async () => {
    const { send } = await setup({ retentionSeconds: 0 });
    expect(
      await send({
        action: 'subscribe',
        topics: ['orders/*'],
        since: { 'orders/*': positionAt(NOW - 1_000) },
      }),
    ).toMatchObject({
      recovered: false,
    });
  });

  it('recovers only direct messages, with no topic', async () => {
    const { history, send, replayed } = await setup();
    await history.record(
      event('d1', [], ['alice']),
      [{ kind: 'user', userId: 'alice' }],
      positionAt(NOW - 1_000),
      true,
    );
    expect(
      await send({ action: 'subscribe', topics: [], since: { $user: positionAt(NOW - 2_000) } }),
    ).toMatchObject({
      topics: [],
      recovered: true,
      missed: 1,
    });
    expect(replayed().map((f) => f.id)).toEqual(['d1']);
  });

  it.each([
    ['a position that is not one', { 'orders/*': 'yesterday' }],
    ['a pattern the frame does not subscribe to', { 'orders/eu/*': positionAt(NOW) }],
  ])('refuses since naming %s with bad_request, subscribing nothing', async (_what, since) => {
    const { send, store } = await setup();
    expect(await send({ action: 'subscribe', topics: ['orders/*'], since, id: 'x' })).toMatchObject({
      type: 'error',
      id: 'x',
      code: 'bad_request',
    });
    expect(store.calls).not.toContain('subscribe');
  });

  it('refuses a frame with no topic and no $user in since', async () => {
    const { send } = await setup();
    expect(await send({ action: 'subscribe', topics: [], since: {} })).toMatchObject({ code: 'bad_request' });
  });
});
