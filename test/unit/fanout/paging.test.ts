import type { TopicEventFrame, UserEventFrame } from '@fanout/protocol';
import type { AudienceSource } from '../../../shared/domain/audience';
import { FanoutEngine } from '../../../shared/fanout/engine';
import type { AudiencePage } from '../../../shared/store/store';
import { addConnection, drain, envelopeBody, harness, NOW, TrackingStore, yieldOnce } from './fixtures';

type Frame = Partial<TopicEventFrame & UserEventFrame>;

describe('fan-out paging and de-duplication', () => {
  it('splits an audience larger than the page size into page messages that together reach everyone once', async () => {
    const h = harness({ pageSize: 7, concurrency: 4 });
    const patterns = ['a/b/c', 'a/b/*', 'a/*', '*'];
    const expected = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      // Every connection holds one to three of the levels, so most are found by several sources.
      const held = patterns.filter((_, level) => (i + level) % 3 !== 0 || level === i % 4);
      await addConnection(h, `c${i}`, held, i % 5 === 0 ? { userId: 'alice' } : {});
      const mostSpecific = patterns.find((p) => held.includes(p));
      if (mostSpecific) expected.set(`c${i}`, mostSpecific);
    }
    for (let i = 0; i < 5; i++) await addConnection(h, `other${i}`, ['x/*', 'a/b/d']);
    await addConnection(h, 'alice-only', [], { userId: 'alice' });

    await h.engine.handleRecord(envelopeBody({ topics: ['a/b/c'], users: ['alice'] }));
    const handled = await drain(h);

    expect(handled).toBeGreaterThan(8);
    expect(h.queue.sent.every((m) => m.kind === 'fanout.page')).toBe(true);
    for (const [id, subscription] of expected) {
      const frames = h.gateway.received(id) as Frame[];
      expect(frames).toHaveLength(1);
      expect(frames[0]?.subscription).toBe(subscription);
    }
    expect(h.gateway.received('alice-only')).toEqual([expect.objectContaining({ user: 'alice' })]);
    for (let i = 0; i < 5; i++) expect(h.gateway.received(`other${i}`)).toHaveLength(0);
    expect(h.gateway.deliveredCount()).toBe(expected.size + 1);
  });

  it('gives a connection reached by several wildcard levels and as a user one frame, with the most specific subscription', async () => {
    const h = harness();
    await addConnection(h, 'both', ['a/*', '*', 'a/b/c'], { userId: 'alice' });
    await addConnection(h, 'broad', ['*'], { userId: 'bob' });
    await addConnection(h, 'alice-2', [], { userId: 'alice' });

    await h.engine.handleRecord(envelopeBody({ topics: ['a/b/c'], users: ['alice', 'bob'] }));
    await drain(h);

    expect(h.gateway.received('both')).toEqual([
      expect.objectContaining({ topic: 'a/b/c', subscription: 'a/b/c' }),
    ]);
    expect(h.gateway.received('broad')).toEqual([expect.objectContaining({ subscription: '*' })]);
    expect(h.gateway.received('alice-2')).toEqual([expect.objectContaining({ user: 'alice' })]);
    expect(h.gateway.received('alice-2')[0]).not.toHaveProperty('subscription');
  });

  it('hands on as page messages only the sources it could not finish, before it posts', async () => {
    const h = harness({ pageSize: 2 });
    for (const id of ['a', 'b', 'c']) await addConnection(h, id, ['t/x']);
    let pendingAtFirstPost = -1;
    h.gateway.fault = () => {
      if (pendingAtFirstPost < 0) pendingAtFirstPost = h.queue.pending.length;
      return undefined;
    };

    await h.engine.handleRecord(envelopeBody({ topics: ['t/x'] }));

    // t/x continues at its cursor; t/* and * were read whole and empty: no page message for them.
    expect(h.queue.sent).toEqual([expect.objectContaining({ kind: 'fanout.page', source: 0, cursor: '2' })]);
    expect(pendingAtFirstPost).toBe(1);
    expect(h.gateway.deliveredCount()).toBe(2);
  });

  it('reads every source of an event in one round, not one after another', async () => {
    const h = harness();
    await addConnection(h, 'a', ['t/x']);
    let inFlight = 0;
    let most = 0;
    const read = h.store.audiencePage.bind(h.store);
    h.store.audiencePage = async (source, limit, cursor, through) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await yieldOnce();
      try {
        return await read(source, limit, cursor, through);
      } finally {
        inFlight--;
      }
    };

    await h.engine.handleRecord(envelopeBody({ topics: ['t/x'] }));

    // t/x, t/* and *: three reads at once.
    expect(most).toBe(3);
    expect(h.queue.sent).toEqual([]);
    expect(h.gateway.recipients()).toEqual(['a']);
  });

  it('hands a later source whose members exceed what is left of the page on whole, from its start', async () => {
    const h = harness({ pageSize: 2 });
    for (const id of ['a', 'b']) await addConnection(h, id, ['t/x']);
    for (const id of ['c', 'd']) await addConnection(h, id, ['t/*']);

    await h.engine.handleRecord(envelopeBody({ topics: ['t/x'] }));

    expect(h.queue.sent).toEqual([expect.objectContaining({ kind: 'fanout.page', source: 1 })]);
    expect(h.queue.sent[0]).not.toHaveProperty('cursor');
    expect(h.gateway.recipients()).toEqual(['a', 'b']);
    await drain(h);
    expect(h.gateway.recipients().sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('chains the next page of a page message before delivering the current one', async () => {
    const h = harness({ pageSize: 2 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await addConnection(h, id, ['t/x']);
    const event = {
      id: 'evt-1',
      source: 'orders',
      detailType: 'OrderUpdated',
      time: '2026-11-24T10:00:00Z',
      topics: ['t/x'],
      users: [],
      data: 1,
    };
    let pendingAtFirstPost = -1;
    h.gateway.fault = () => {
      if (pendingAtFirstPost < 0) pendingAtFirstPost = h.queue.pending.length;
      return undefined;
    };

    await h.engine.handleRecord(JSON.stringify({ kind: 'fanout.page', event, source: 0, cursor: '2' }));

    expect(pendingAtFirstPost).toBe(1);
    expect(h.queue.sent).toEqual([{ kind: 'fanout.page', event, source: 0, cursor: '4' }]);
    expect(h.gateway.recipients()).toEqual(['c', 'd']);
  });

  it('fails the record when the page hand-off cannot be queued, before posting anything', async () => {
    const h = harness({ pageSize: 1 });
    for (const id of ['a', 'b']) await addConnection(h, id, ['t/x']);
    h.queue.failNext('send');
    await expect(h.engine.handleRecord(envelopeBody({ topics: ['t/x'] }))).rejects.toThrow('injected send');
    expect(h.gateway.log).toHaveLength(0);
  });
});

describe('de-duplication while subscriptions change', () => {
  /**
   * The store reports its reads, so a subscription can land between two source reads of one event,
   * as a route invocation running beside the fan-out does.
   */
  class RacingStore extends TrackingStore {
    betweenReads: (() => Promise<void>) | undefined;
    override async audiencePage(
      source: AudienceSource,
      limit: number,
      cursor?: string,
      through?: string,
    ): Promise<AudiencePage> {
      const page = await super.audiencePage(source, limit, cursor, through);
      const between = this.betweenReads;
      this.betweenReads = undefined;
      await between?.();
      return page;
    }
  }

  it('delivers a direct message to a user whose subscribe lands between two source reads', async () => {
    const store = new RacingStore({ now: () => NOW });
    const h = { ...harness(), store };
    const engine = new FanoutEngine(
      {
        store,
        gateway: h.gateway,
        queue: h.queue,
        log: h.log,
        metrics: h.metrics,
        now: () => NOW,
        sleep: yieldOnce,
      },
      {},
    );
    await addConnection({ store, gateway: h.gateway }, 'c', ['dr/*'], { userId: 'u' });
    // Sources: dr/y, dr/*, *, user u. dr/y is read before the subscribe, dr/* and u after it, and
    // their lists then name dr/y: the reader must not trust that claim.
    store.betweenReads = async () => {
      await store.subscribe('c', ['dr/y'], 10);
    };

    await engine.handleRecord(envelopeBody({ topics: ['dr/y'], users: ['u'] }));
    await drain({ engine, queue: h.queue });

    expect(h.gateway.received('c')).toHaveLength(1);
  });

  it('delivers once across page messages when the lists were written before the event', async () => {
    const h = harness({ pageSize: 1 });
    await addConnection(h, 'c', ['dr/*', 'dr/y'], { userId: 'u' });
    await h.engine.handleRecord(envelopeBody({ topics: ['dr/y'], users: ['u'] }));
    await drain(h);
    expect(h.gateway.received('c')).toHaveLength(1);
  });
});
