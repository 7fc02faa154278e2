import type { AudienceMember, AudienceSource } from '../../shared/domain/audience.js';
import { FanoutError } from '../../shared/domain/errors.js';
import { type ConnectionStore, InvalidCursorError, type NewConnection } from '../../shared/store/store.js';

export interface StoreFixture {
  store: ConnectionStore;
  /** Rows the store holds in all (leak checks). */
  rowCount?: () => Promise<number>;
  cleanup?: () => Promise<void>;
}

const CONNECTED_AT = Date.UTC(2026, 10, 24, 10, 0, 0);

const connection = (connectionId: string, extra: Partial<NewConnection> = {}): NewConnection => ({
  connectionId,
  connectedAt: CONNECTED_AT,
  allowedTopics: ['orders/*', 'users/{sub}/*'],
  ...extra,
});

/** The code of the FanoutError `promise` rejects with (fails the test if it resolves). */
async function fanoutCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FanoutError) return error.code;
    throw error;
  }
  throw new Error('expected a FanoutError, but the call succeeded');
}

const sorted = (values: readonly string[]): string[] => [...values].sort();

/**
 * The behaviour every ConnectionStore keeps (see store.ts), run against each implementation.
 * `makeStore` is called before every test and must return an empty store.
 */
export function describeConnectionStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`${name} keeps the ConnectionStore contract`, () => {
    let fixture: StoreFixture;
    let store: ConnectionStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup?.();
    });

    /** Reads a whole source page by page; checks every page's size and that paging ends. */
    async function readAudience(
      source: AudienceSource,
      limit = 100,
    ): Promise<{ members: AudienceMember[]; pages: number }> {
      const members: AudienceMember[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.audiencePage(source, limit, cursor);
        pages += 1;
        expect(page.members.length).toBeLessThanOrEqual(limit);
        members.push(...page.members);
        cursor = page.cursor;
        if (pages > 100) throw new Error('audience paging did not end');
      } while (cursor !== undefined);
      return { members, pages };
    }

    const patternSource = (pattern: string): AudienceSource => ({ kind: 'pattern', pattern, topic: pattern });
    const ids = (members: readonly AudienceMember[]): string[] => sorted(members.map((m) => m.connectionId));

    /**
     * The subscription list of `connectionId` as the fan-out reads it: every audience member carries
     * the connection's whole list, so its entry in any source it belongs to shows what it holds.
     */
    async function held(source: AudienceSource, connectionId = 'c1'): Promise<readonly string[] | undefined> {
      const { members } = await readAudience(source);
      return members.find((m) => m.connectionId === connectionId)?.subscriptions;
    }

    async function expectRowCount(expected: number): Promise<void> {
      if (fixture.rowCount) expect(await fixture.rowCount()).toBe(expected);
    }

    it('registers a connection with its user and no subscriptions, and knows no unregistered one', async () => {
      await store.registerConnection(connection('c1', { userId: 'alice', sourceIp: '203.0.113.7' }));
      await store.registerConnection(connection('c2'));

      // Registered and holding nothing: subscribing to nothing succeeds and counts none held.
      expect(await store.subscribe('c1', [], 10)).toEqual({ subscriptions: [], total: 0 });
      expect(await store.subscribe('c2', [], 10)).toEqual({ subscriptions: [], total: 0 });
      expect(await fanoutCode(store.subscribe('unknown', [], 10))).toBe('internal');
      expect((await readAudience({ kind: 'user', userId: 'alice' })).members).toEqual(
        [{ connectionId: 'c1', userId: 'alice', subscriptions: [], connectedAt: CONNECTED_AT }].map(
          (member) => expect.objectContaining(member),
        ),
      );
      await expectRowCount(3);

      await store.subscribe('c2', ['orders/eu'], 10);
      const [anonymous, ...others] = (await readAudience(patternSource('orders/eu'))).members;
      expect(anonymous).toMatchObject({ connectionId: 'c2', subscriptions: ['orders/eu'] });
      expect(anonymous).not.toHaveProperty('userId');
      expect(others).toEqual([]);
    });

    it('adds subscriptions, de-duplicating the request, and is idempotent', async () => {
      await store.registerConnection(connection('c1', { userId: 'alice' }));

      expect(await store.subscribe('c1', ['orders/eu/*', 'orders/us', 'orders/eu/*'], 10)).toEqual({
        subscriptions: ['orders/eu/*', 'orders/us'],
        total: 2,
      });
      expect(await store.subscribe('c1', ['orders/us', 'orders/asia'], 10)).toEqual({
        subscriptions: ['orders/us', 'orders/asia'],
        total: 3,
      });
      expect(await store.subscribe('c1', ['orders/eu/*'], 10)).toEqual({
        subscriptions: ['orders/eu/*'],
        total: 3,
      });

      expect(await held({ kind: 'user', userId: 'alice' })).toEqual([
        'orders/eu/*',
        'orders/us',
        'orders/asia',
      ]);
      expect(ids((await readAudience(patternSource('orders/us'))).members)).toEqual(['c1']);
      // META + (SUB + TOPIC) per pattern + USER.
      await expectRowCount(1 + 2 * 3 + 1);
    });

    it('refuses a subscribe that would pass the limit, all or nothing', async () => {
      await store.registerConnection(connection('c1'));
      await store.subscribe('c1', ['a', 'b'], 3);

      const error = await store.subscribe('c1', ['b', 'c', 'd'], 3).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FanoutError);
      expect(error).toMatchObject({ code: 'too_many_subscriptions', details: { limit: 3 } });

      expect(await held(patternSource('a'))).toEqual(['a', 'b']);
      expect((await readAudience(patternSource('c'))).members).toEqual([]);
      expect((await readAudience(patternSource('d'))).members).toEqual([]);
      await expectRowCount(1 + 2 * 2);

      // Exactly at the limit is fine.
      expect(await store.subscribe('c1', ['b', 'c'], 3)).toEqual({ subscriptions: ['b', 'c'], total: 3 });
    });

    it('throws internal when the connection is not registered', async () => {
      expect(await fanoutCode(store.subscribe('ghost', ['a'], 10))).toBe('internal');
      expect(await fanoutCode(store.unsubscribe('ghost', ['a']))).toBe('internal');
      await expectRowCount(0);
    });

    it('unsubscribes held patterns and ignores the ones not held', async () => {
      await store.registerConnection(connection('c1', { userId: 'alice' }));
      await store.subscribe('c1', ['a', 'b', 'c'], 10);

      expect(await store.unsubscribe('c1', ['b', 'not-held', 'b'])).toEqual(['b']);
      expect(await store.unsubscribe('c1', ['b'])).toEqual([]);

      expect(await held({ kind: 'user', userId: 'alice' })).toEqual(['a', 'c']);
      expect((await readAudience(patternSource('b'))).members).toEqual([]);
      expect(ids((await readAudience(patternSource('a'))).members)).toEqual(['c1']);
      await expectRowCount(1 + 2 * 2 + 1);
    });

    const pagedSources: [string, AudienceSource, string | undefined][] = [
      ['a pattern', patternSource('orders/*'), undefined],
      ['a user', { kind: 'user', userId: 'alice' }, 'alice'],
    ];
    for (const [label, source, userId] of pagedSources) {
      it(`pages through ${label} audience with a cursor, each member exactly once`, async () => {
        const all = ['c1', 'c2', 'c3', 'c4', 'c5'];
        for (const id of all) {
          await store.registerConnection(connection(id, userId ? { userId } : {}));
          await store.subscribe(id, ['orders/*'], 10);
        }
        // Rows in other partitions must not show up.
        await store.registerConnection(connection('other', { userId: 'bob' }));
        await store.subscribe('other', ['orders/eu'], 10);

        const { members, pages } = await readAudience(source, 2);
        expect(members).toHaveLength(all.length);
        expect(ids(members)).toEqual(all);
        expect(pages).toBeGreaterThanOrEqual(3);
      });
    }

    it('gives no cursor with a page that holds the last members, even when it is exactly full', async () => {
      for (const id of ['c1', 'c2', 'c3', 'c4']) {
        await store.registerConnection(connection(id));
        await store.subscribe(id, ['orders/*'], 10);
      }
      const first = await store.audiencePage(patternSource('orders/*'), 2);
      expect(ids(first.members)).toEqual(['c1', 'c2']);
      expect(first.cursor).toBeDefined();
      // Exactly the last two: a cursor here would cost a page message that finds nobody.
      const last = await store.audiencePage(patternSource('orders/*'), 2, first.cursor);
      expect(ids(last.members)).toEqual(['c3', 'c4']);
      expect(last.cursor).toBeUndefined();
      const whole = await store.audiencePage(patternSource('orders/*'), 4);
      expect(whole.members).toHaveLength(4);
      expect(whole.cursor).toBeUndefined();
    });

    it('reads a range again through a cursor: the rows up to it, and no cursor once it is reached', async () => {
      for (const id of ['c1', 'c2', 'c3', 'c4', 'c5']) {
        await store.registerConnection(connection(id));
        await store.subscribe(id, ['orders/*'], 10);
      }
      const source = patternSource('orders/*');
      const first = await store.audiencePage(source, 3);
      expect(first.cursor).toBeDefined();
      // Page by page: a limit smaller than the range gives a cursor, and the range ends at `through`.
      const start = await store.audiencePage(source, 2, undefined, first.cursor);
      expect(start.cursor).toBeDefined();
      const end = await store.audiencePage(source, 2, start.cursor, first.cursor);
      expect(end.cursor).toBeUndefined();
      expect([...ids(start.members), ...ids(end.members)]).toEqual(ids(first.members));
      // Exactly the range: no cursor though rows follow it.
      const whole = await store.audiencePage(source, 3, undefined, first.cursor);
      expect(ids(whole.members)).toEqual(ids(first.members));
      expect(whole.cursor).toBeUndefined();
      await expect(store.audiencePage(source, 3, undefined, 'not-a-cursor')).rejects.toThrow(
        InvalidCursorError,
      );
    });

    it('refuses an audience page limit that is not a positive integer', async () => {
      for (const limit of [0, -1, 1.5]) {
        await expect(store.audiencePage(patternSource('orders/*'), limit)).rejects.toThrow(
          'audience page limit must be a positive integer',
        );
      }
    });

    it("finds a row written after a read either in that read's range read again or after its cursor", async () => {
      for (const id of ['c1', 'c3', 'c5', 'c7']) {
        await store.registerConnection(connection(id));
        await store.subscribe(id, ['orders/*'], 10);
      }
      const source = patternSource('orders/*');
      const first = await store.audiencePage(source, 2);
      // Rows that sort inside the first read's range where rows sort by key (DynamoDB), and after it.
      for (const id of ['c2', 'c4', 'c6']) {
        await store.registerConnection(connection(id));
        await store.subscribe(id, ['orders/*'], 10);
      }
      const again: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.audiencePage(source, 1, cursor, first.cursor);
        again.push(...page.members.map((m) => m.connectionId));
        cursor = page.cursor;
      } while (cursor !== undefined);
      const after: string[] = [];
      cursor = first.cursor;
      do {
        const page = await store.audiencePage(source, 2, cursor);
        after.push(...page.members.map((m) => m.connectionId));
        cursor = page.cursor;
      } while (cursor !== undefined);
      // Every row once across the two, the first read's rows in the range read again.
      expect(sorted([...again, ...after])).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']);
      for (const m of first.members) expect(again).toContain(m.connectionId);
    });

    it('stamps each member with when its list was written and when the connection opened', async () => {
      await store.registerConnection(connection('c1', { userId: 'alice' }));
      const before = Date.now();
      await store.subscribe('c1', ['a', 'b'], 10);
      for (const source of [
        patternSource('a'),
        patternSource('b'),
        { kind: 'user', userId: 'alice' } as const,
      ]) {
        const [member] = (await readAudience(source)).members;
        expect(member?.connectedAt).toBe(CONNECTED_AT);
        // The stamp comes after every row the list names was written: never before the call began.
        expect(member?.listedAt).toBeGreaterThanOrEqual(before);
      }
    });

    it('gives members their full subscription list, after later subscribes and unsubscribes too', async () => {
      await store.registerConnection(connection('c1', { userId: 'alice' }));
      await store.subscribe('c1', ['a'], 10);
      await store.subscribe('c1', ['b', 'c'], 10);
      await store.unsubscribe('c1', ['b']);
      await store.subscribe('c1', ['d'], 10);

      for (const source of [
        patternSource('a'),
        patternSource('c'),
        patternSource('d'),
        { kind: 'user', userId: 'alice' } as const,
      ]) {
        const { members } = await readAudience(source);
        expect(members).toHaveLength(1);
        expect(members[0]?.connectionId).toBe('c1');
        expect(members[0]?.userId).toBe('alice');
        expect(sorted(members[0]?.subscriptions ?? [])).toEqual(['a', 'c', 'd']);
      }
    });

    it('converges every index row when subscribes and unsubscribes race on one connection', async () => {
      await store.registerConnection(connection('c1', { userId: 'alice' }));
      await store.subscribe('c1', ['base', 'gone'], 10);

      await Promise.all([
        store.subscribe('c1', ['p1'], 10),
        store.subscribe('c1', ['p2', 'p3'], 10),
        store.unsubscribe('c1', ['gone']),
        store.subscribe('c1', ['p4'], 10),
      ]);

      const expected = ['base', 'p1', 'p2', 'p3', 'p4'];
      expect((await store.subscribe('c1', [], 10)).total).toBe(expected.length);
      for (const source of [...expected.map(patternSource), { kind: 'user', userId: 'alice' } as const]) {
        const { members } = await readAudience(source);
        expect(members.map((m) => [m.connectionId, sorted(m.subscriptions)])).toEqual([['c1', expected]]);
      }
      expect((await readAudience(patternSource('gone'))).members).toEqual([]);
      await expectRowCount(1 + 2 * expected.length + 1);

      // The connection itself holds exactly that list: unsubscribing it and more removes just that.
      expect(sorted(await store.unsubscribe('c1', [...expected, 'gone']))).toEqual(expected);
      await expectRowCount(1 + 1);
    });

    it('answers each of many concurrent subscribes on one connection, and stores exactly what it acknowledged', async () => {
      await store.registerConnection(connection('c1', { userId: 'alice' }));
      const patterns = Array.from({ length: 16 }, (_, i) => `burst/${i}`);
      const deadline = Date.now() + 20_000;
      const answers = await Promise.allSettled(
        patterns.map((p) => store.subscribe('c1', [p], 100, { deadline })),
      );
      const acknowledged = patterns.filter((_, i) => answers[i]?.status === 'fulfilled');
      const refused = answers.flatMap((a) => (a.status === 'rejected' ? [String(a.reason)] : []));
      expect(refused).toEqual([]);
      expect(acknowledged).toEqual(patterns);
      const { members } = await readAudience({ kind: 'user', userId: 'alice' });
      expect(sorted(members[0]?.subscriptions ?? [])).toEqual(sorted(acknowledged));
    }, 30_000);

    it('removes every row of a connection, and removing again is harmless', async () => {
      await store.registerConnection(connection('c1', { userId: 'alice' }));
      await store.subscribe('c1', ['a', 'b', 'c'], 10);
      await store.registerConnection(connection('c2', { userId: 'alice' }));
      await store.subscribe('c2', ['a'], 10);
      await expectRowCount(1 + 2 * 3 + 1 + (1 + 2 + 1));

      await store.removeConnection('c1');

      expect(await fanoutCode(store.subscribe('c1', [], 10))).toBe('internal');
      expect(ids((await readAudience(patternSource('a'))).members)).toEqual(['c2']);
      expect((await readAudience(patternSource('b'))).members).toEqual([]);
      expect(ids((await readAudience({ kind: 'user', userId: 'alice' })).members)).toEqual(['c2']);
      await expectRowCount(1 + 2 + 1);

      await store.removeConnection('c1');
      await store.removeConnection('never-registered');
      await store.removeConnection('c2');
      await expectRowCount(0);
      expect((await readAudience({ kind: 'user', userId: 'alice' })).members).toEqual([]);
    });
  });
}
