import { positionAt } from '@fanout/protocol';
import type { FanoutEvent } from '../../shared/domain/envelope.js';
import type { HistoryStore, Stream } from '../../shared/store/history.js';

export interface HistoryFixture {
  /** A store keeping `retentionSeconds`, whose clock is `clock.now`. */
  make(retentionSeconds: number, clock: { now: number }): Promise<HistoryStore>;
  cleanup?: () => Promise<void>;
}

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

const event = (id: string, data: unknown = { id }): FanoutEvent => ({
  id,
  source: 'orders',
  detailType: 'OrderUpdated',
  time: '2026-12-01T10:00:00Z',
  topics: ['orders/eu/1'],
  users: [],
  data,
});

const orders: Stream = { kind: 'pattern', pattern: 'orders/*' };
const exact: Stream = { kind: 'pattern', pattern: 'orders/eu/1' };
const alice: Stream = { kind: 'user', userId: 'alice' };

/** The behaviour every HistoryStore keeps (see history.ts), run against each implementation. */
export function describeHistoryStoreContract(name: string, fixture: HistoryFixture): void {
  describe(`${name} keeps the HistoryStore contract`, () => {
    const clock = { now: T0 };
    afterEach(async () => {
      clock.now = T0;
      await fixture.cleanup?.();
    });

    it('keeps a body once and a pointer per stream, read after a position in position order', async () => {
      const history = await fixture.make(600, clock);
      await history.record(event('e2'), [orders, exact], positionAt(T0 + 2), true);
      await history.record(event('e1'), [orders], positionAt(T0 + 1), true);
      await history.record(event('e3'), [orders, alice], positionAt(T0 + 3), true);

      expect(await history.read(orders, positionAt(T0), 10)).toEqual({
        pointers: [
          { position: positionAt(T0 + 1), eventId: 'e1' },
          { position: positionAt(T0 + 2), eventId: 'e2' },
          { position: positionAt(T0 + 3), eventId: 'e3' },
        ],
        more: false,
      });
      // Strictly after: the position itself is left out.
      expect((await history.read(orders, positionAt(T0 + 2), 10)).pointers.map((p) => p.eventId)).toEqual([
        'e3',
      ]);
      expect((await history.read(exact, positionAt(T0), 10)).pointers.map((p) => p.eventId)).toEqual(['e2']);
      expect((await history.read(alice, positionAt(T0), 10)).pointers.map((p) => p.eventId)).toEqual(['e3']);
      const bodies = await history.events(['e3', 'e1', 'missing']);
      expect(bodies.map((b) => b.id).sort()).toEqual(['e1', 'e3']);
      expect(bodies.find((b) => b.id === 'e1')).toEqual(event('e1'));
    });

    it('keeps data exactly as JSON has it: nested values, empty strings, big numbers, null', async () => {
      const history = await fixture.make(600, clock);
      const data = { a: [1, { b: '' }], n: 2 ** 53 - 1, f: 0.1, z: null, t: true };
      await history.record(event('d', data), [orders], positionAt(T0), true);
      expect((await history.events(['d']))[0]?.data).toEqual(JSON.parse(JSON.stringify(data)));
    });

    it('pages with a limit and says when more pointers follow', async () => {
      const history = await fixture.make(600, clock);
      for (let i = 1; i <= 5; i++) await history.record(event(`e${i}`), [orders], positionAt(T0 + i), true);
      const first = await history.read(orders, positionAt(T0), 3);
      expect(first.pointers.map((p) => p.eventId)).toEqual(['e1', 'e2', 'e3']);
      expect(first.more).toBe(true);
      const rest = await history.read(orders, positionAt(T0 + 3), 3);
      expect(rest).toEqual({
        pointers: [expect.objectContaining({ eventId: 'e4' }), expect.objectContaining({ eventId: 'e5' })],
        more: false,
      });
    });

    it('orders pointers at the same position by event id, and records the same pointer again as one', async () => {
      const history = await fixture.make(600, clock);
      await history.record(event('b'), [orders], positionAt(T0), true);
      await history.record(event('a'), [orders], positionAt(T0), true);
      await history.record(event('a'), [orders], positionAt(T0), true);
      expect((await history.read(orders, positionAt(T0 - 1), 10)).pointers.map((p) => p.eventId)).toEqual([
        'a',
        'b',
      ]);
    });

    it('never returns a pointer older than the retention window', async () => {
      const history = await fixture.make(60, clock);
      await history.record(event('old'), [orders], positionAt(T0), true);
      await history.record(event('new'), [orders], positionAt(T0 + 30_000), true);
      clock.now = T0 + 70_000;
      expect((await history.read(orders, positionAt(0), 10)).pointers.map((p) => p.eventId)).toEqual(['new']);
    });

    it('remembers streams a connection left for the retention window, and no longer', async () => {
      const history = await fixture.make(60, clock);
      await history.remember([orders, alice]);
      expect(await history.held([orders, exact, alice])).toEqual([true, false, true]);
      clock.now = T0 + 61_000;
      expect(await history.held([orders, alice])).toEqual([false, false]);
    });
  });
}
