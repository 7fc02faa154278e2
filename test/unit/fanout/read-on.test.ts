import { FanoutEngine } from '../../../shared/fanout/engine';
import type { FanoutOptions } from '../../../shared/fanout/options';
import { POINTER_WRITE_BOUND_MS } from '../../../shared/store/history';
import { MemoryHistoryStore } from '../../../shared/store/history-memory';
import type { AudiencePage } from '../../../shared/store/store';
import {
  addConnection,
  drain,
  envelopeBody,
  fanoutEvent,
  type Harness,
  harness,
  NOW,
  yieldOnce,
} from './fixtures';

const TOPIC = 't/x';
const pageEvent = fanoutEvent({ topics: [TOPIC] });
const pageBody = (cursor?: string): string =>
  JSON.stringify({ kind: 'fanout.page', event: pageEvent, source: 0, ...(cursor ? { cursor } : {}) });
const ids = (count: number): string[] => Array.from({ length: count }, (_, i) => `c${i}`);

/**
 * Every read of the topic's rows goes through `change` (the other sources are read as they are):
 * `read` reads the store itself, untouched.
 */
function onTopicRead(
  h: Harness,
  change: (
    page: AudiencePage,
    at: {
      limit: number;
      cursor: string | undefined;
      through: string | undefined;
      read: Harness['store']['audiencePage'];
    },
  ) => Promise<AudiencePage> | AudiencePage,
): void {
  const read = h.store.audiencePage.bind(h.store);
  h.store.audiencePage = async (source, limit, cursor, through) => {
    const page = await read(source, limit, cursor, through);
    if (source.kind !== 'pattern' || source.pattern !== TOPIC) return page;
    return change(page, { limit, cursor, through, read });
  };
}

/** An engine on the harness's ports with a clock the test moves, and the history `withHistory` makes. */
function clockedEngine(
  h: Harness,
  options: Partial<FanoutOptions>,
  withHistory?: (clock: { now: number }) => MemoryHistoryStore,
) {
  const clock = { now: NOW };
  const history = withHistory?.(clock);
  const engine = new FanoutEngine(
    { ...h, ...(history ? { history } : {}), now: () => clock.now, sleep: yieldOnce },
    options,
  );
  return { clock, engine };
}

/** A history whose pointer write outlasts POINTER_WRITE_BOUND_MS on `clock`, running `meanwhile` first. */
function slowHistory(clock: { now: number }, meanwhile: () => Promise<void> | void = () => {}) {
  const history = new MemoryHistoryStore({ retentionSeconds: 600, now: () => clock.now });
  const record = history.record.bind(history);
  history.record = async (...args) => {
    clock.now += POINTER_WRITE_BOUND_MS + 100;
    await meanwhile();
    return record(...args);
  };
  return history;
}

/**
 * Store reads and posts in the order they started or finished, each read of the topic taking 2 ms
 * (a real round trip) while a post answers at once: reads, not posts, are then the slow part.
 */
function trace(h: Harness): string[] {
  const steps: string[] = [];
  onTopicRead(h, async (page) => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    steps.push(`read ${page.members.length}`);
    return page;
  });
  const post = h.gateway.post.bind(h.gateway);
  h.gateway.post = (connectionId, data) => {
    steps.push(`post ${connectionId}`);
    return post(connectionId, data);
  };
  return steps;
}

describe('fan-out reading the rest of a page on while it posts', () => {
  it('posts the first rows before the rest of the page is read, and reaches everyone once', async () => {
    const h = harness({ pageSize: 6, firstReadRows: 2, readRows: 2, concurrency: 2 });
    for (const id of ids(6)) await addConnection(h, id, [TOPIC]);
    const steps = trace(h);

    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));

    // c0 and c1 are posted while the second read is still out.
    expect(steps.slice(0, 4)).toEqual(['read 2', 'post c0', 'post c1', 'read 2']);
    expect(steps.filter((s) => s.startsWith('read'))).toEqual(['read 2', 'read 2', 'read 2']);
    for (const id of ids(6)) expect(h.gateway.received(id)).toHaveLength(1);
    // The page held the whole audience: nothing left to hand on.
    expect(h.queue.sent).toEqual([]);
    expect(h.metrics.total('AudienceSize')).toBe(6);
  });

  it('keeps the window full across its reads: posts of different reads are in flight together', async () => {
    const h = harness({ pageSize: 8, firstReadRows: 2, readRows: 2, concurrency: 4 });
    h.gateway.latencyMs = 5;
    for (const id of ids(8)) await addConnection(h, id, [TOPIC]);

    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));

    expect(h.gateway.maxInFlight).toBe(4);
    expect(h.gateway.deliveredCount()).toBe(8);
  });

  it('hands what lies past the page on as a page message once the page is read, and the rest follows', async () => {
    const h = harness({ pageSize: 5, firstReadRows: 2, readRows: 2 });
    for (const id of ids(12)) await addConnection(h, id, [TOPIC]);

    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));

    expect(h.gateway.deliveredCount()).toBe(5);
    expect(h.queue.sent).toEqual([expect.objectContaining({ kind: 'fanout.page', source: 0, cursor: '5' })]);
    await drain(h);
    for (const id of ids(12)) expect(h.gateway.received(id)).toHaveLength(1);
  });

  it('reads a page message on the same way, chaining the next page once its own is read', async () => {
    const h = harness({ pageSize: 4, firstReadRows: 1, readRows: 2 });
    for (const id of ids(10)) await addConnection(h, id, [TOPIC]);
    const steps = trace(h);

    await h.engine.handleRecord(pageBody('2'));

    expect(steps.filter((s) => s.startsWith('read'))).toEqual(['read 1', 'read 2', 'read 1']);
    expect(h.gateway.recipients()).toEqual(['c2', 'c3', 'c4', 'c5']);
    expect(h.queue.sent).toEqual([{ kind: 'fanout.page', event: pageEvent, source: 0, cursor: '6' }]);
  });

  it('takes later sources while an earlier one reads on, giving a connection in both one frame', async () => {
    const h = harness({ pageSize: 10, firstReadRows: 2, readRows: 2 });
    for (const id of ids(5)) await addConnection(h, id, [TOPIC]);
    await addConnection(h, 'wild', ['t/*']);
    await addConnection(h, 'both', [TOPIC, 't/*']);

    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));

    for (const id of [...ids(5), 'wild', 'both']) expect(h.gateway.received(id)).toHaveLength(1);
    expect(h.gateway.received('both')[0]).toMatchObject({ subscription: TOPIC });
    expect(h.queue.sent).toEqual([]);
  });

  it('hands the rest of the page on when a read on fails, keeping what it posted', async () => {
    const h = harness({ pageSize: 6, firstReadRows: 2, readRows: 2 });
    for (const id of ids(6)) await addConnection(h, id, [TOPIC]);
    let reads = 0;
    h.store.failAudience = (source) => source.kind === 'pattern' && source.pattern === TOPIC && ++reads === 2;

    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));

    expect(h.gateway.recipients()).toEqual(['c0', 'c1']);
    expect(h.queue.sent).toEqual([expect.objectContaining({ kind: 'fanout.page', source: 0, cursor: '2' })]);
    expect(
      h.log.entries.some((e) => e.message === 'could not read on; the rest of the page is handed on'),
    ).toBe(true);
    await drain(h);
    for (const id of ids(6)) expect(h.gateway.received(id)).toHaveLength(1);
  });

  it('hands the rest on, unread, once the page may start no more posts', async () => {
    const h = harness();
    const { clock, engine } = clockedEngine(h, {
      pageSize: 6,
      firstReadRows: 2,
      readRows: 2,
      maxPageSeconds: 1,
    });
    for (const id of ids(6)) await addConnection(h, id, [TOPIC]);
    // The first read takes the page's whole second.
    onTopicRead(h, (page, { cursor }) => {
      if (cursor === undefined) clock.now += 1_000;
      return page;
    });

    await engine.handleRecord(envelopeBody({ topics: [TOPIC] }));

    expect(h.gateway.deliveredCount()).toBe(0);
    expect(h.queue.sent.map((m) => m.kind).sort()).toEqual(['fanout.page', 'fanout.retry']);
    expect(h.queue.sent).toContainEqual(expect.objectContaining({ kind: 'fanout.page', cursor: '2' }));
  });

  it('fails the record when the hand-off of the rest cannot be queued, only after its posts settle', async () => {
    const h = harness({ pageSize: 3, firstReadRows: 1, readRows: 2 });
    h.gateway.latencyMs = 5;
    for (const id of ids(5)) await addConnection(h, id, [TOPIC]);
    h.queue.failNext('send');

    await expect(h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }))).rejects.toThrow('injected send');

    // What was started was finished before the record failed; SQS redelivers the record whole.
    expect(h.gateway.log.map((p) => p.connectionId).sort()).toEqual(['c0', 'c1', 'c2']);
    expect(h.gateway.inFlight).toBe(0);
  });

  it('stops reading on once the role may not post, and hands nothing on', async () => {
    const h = harness({ pageSize: 50, firstReadRows: 2, readRows: 2, concurrency: 1 });
    for (const id of ids(20)) await addConnection(h, id, [TOPIC]);
    const steps = trace(h);
    h.gateway.fault = () => 'forbidden';

    await expect(h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }))).rejects.toThrow(/forbidden/);

    // The first answer comes long before the reads could have covered the page (10 reads), and no
    // post starts after it, whichever read it came from.
    expect(steps.filter((s) => s.startsWith('read')).length).toBeLessThan(4);
    expect(h.gateway.log).toHaveLength(1);
    expect(h.queue.sent).toEqual([]);
  });

  it('posts each connection of a page message once when its slow pointer write made it read the page again', async () => {
    const h = harness();
    // The pointer write outlasts the bound, and c0 leaves meanwhile: the second read starts a row later.
    const { engine } = clockedEngine(h, { pageSize: 6, firstReadRows: 2, readRows: 2 }, (clock) =>
      slowHistory(clock, () => h.store.removeConnection('c0')),
    );
    for (const id of ids(8)) await addConnection(h, id, [TOPIC]);

    await engine.handleRecord(pageBody());

    const posts = h.gateway.log.map((p) => p.connectionId);
    expect(posts).toEqual([...new Set(posts)]);
    for (const id of ['c1', 'c2', 'c3', 'c4', 'c5']) expect(posts).toContain(id);
  });

  it('keeps the first read of a page message when the second one, after a slow pointer write, no longer reaches it', async () => {
    const h = harness();
    let written = false;
    const { engine } = clockedEngine(h, { pageSize: 4, firstReadRows: 2, readRows: 2 }, (clock) =>
      slowHistory(clock, () => {
        written = true;
      }),
    );
    for (const id of ids(6)) await addConnection(h, id, [TOPIC]);
    await addConnection(h, 'new', [TOPIC]);
    // As in DynamoDB, where rows sort by key: a subscriber added meanwhile sorts before the first
    // read's rows and pushes the last of them out of the second read.
    onTopicRead(h, async (page, { limit, cursor, read }) => {
      if (cursor !== undefined) return page;
      const rows = page.members.filter((m) => m.connectionId !== 'new');
      if (!written) return { ...page, members: rows };
      const source = { kind: 'pattern', pattern: TOPIC, topic: TOPIC } as const;
      const late = (await read(source, 10)).members.find((m) => m.connectionId === 'new');
      return { ...page, members: [...(late ? [late] : []), ...rows].slice(0, limit) };
    });

    await engine.handleRecord(pageBody());

    expect(h.gateway.recipients().sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'new']);
  });

  it('reaches subscribers added past a whole first read when a slow pointer write made it read again', async () => {
    const h = harness();
    // The topic's two rows were all of it; two subscribe while the pointer write outlasts the bound.
    const { engine } = clockedEngine(h, { pageSize: 10, firstReadRows: 2, readRows: 2 }, (clock) =>
      slowHistory(clock, async () => {
        await addConnection(h, 'n0', [TOPIC]);
        await addConnection(h, 'n1', [TOPIC]);
      }),
    );
    for (const id of ids(2)) await addConnection(h, id, [TOPIC]);

    await engine.handleRecord(envelopeBody({ topics: [TOPIC] }));

    // Read again as far as the first read went (to the end), not just as many rows.
    expect(h.gateway.recipients().sort()).toEqual(['c0', 'c1', 'n0', 'n1']);
    for (const id of ['c0', 'c1', 'n0', 'n1']) expect(h.gateway.received(id)).toHaveLength(1);
  });

  it("reads a page message's first rows again through the cursor its first read ended at", async () => {
    const h = harness();
    const { engine } = clockedEngine(h, { pageSize: 4, firstReadRows: 2, readRows: 2 }, slowHistory);
    for (const id of ids(8)) await addConnection(h, id, [TOPIC]);
    const reads: { cursor: string | undefined; through: string | undefined; cursorOut?: string }[] = [];
    onTopicRead(h, (page, { cursor, through }) => {
      reads.push({ cursor, through, ...(page.cursor ? { cursorOut: page.cursor } : {}) });
      return page;
    });

    await engine.handleRecord(pageBody('2'));

    const [first, again] = reads;
    expect(first).toMatchObject({ cursor: '2', through: undefined });
    expect(again).toEqual({ cursor: '2', through: first?.cursorOut });
    expect(h.gateway.recipients()).toEqual(['c2', 'c3', 'c4', 'c5']);
  });
});
