import { positionAt } from '@fanout/protocol';
import type { FanoutEvent } from '../../../shared/domain/envelope';
import { FanoutEngine } from '../../../shared/fanout/engine';
import type { HistoryStore, Stream } from '../../../shared/store/history';
import { MemoryHistoryStore } from '../../../shared/store/history-memory';
import { addConnection, drain, envelopeBody, harness, NOW, yieldOnce } from './fixtures';

const TOPIC = 'orders/eu/1';

/** The history, with every call recorded. */
class RecordingHistory extends MemoryHistoryStore {
  readonly records: { eventId: string; streams: Stream[]; position: string; withBody: boolean }[] = [];
  failRecords = 0;
  override async record(event: FanoutEvent, streams: readonly Stream[], position: string, withBody: boolean) {
    if (this.failRecords > 0) {
      this.failRecords -= 1;
      throw new Error('ProvisionedThroughputExceededException: injected');
    }
    this.records.push({ eventId: event.id, streams: [...streams], position, withBody });
    return super.record(event, streams, position, withBody);
  }
}

function withHistory(options: { pageSize?: number } = {}) {
  const h = harness(options);
  const history = new RecordingHistory({ retentionSeconds: 600, now: () => NOW });
  const engine = new FanoutEngine(
    { ...h, history: history as HistoryStore, now: () => NOW, random: () => 0.5, sleep: yieldOnce },
    options,
  );
  return { ...h, engine, history };
}

describe('fan-out history', () => {
  it('stores the body once and a pointer per stream that has listeners, before posting, and gives every frame the page position', async () => {
    const h = withHistory();
    await addConnection(h, 'a', ['orders/*'], { userId: 'u' });
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC], users: ['u'] }, 'e1'));

    expect(h.history.records).toEqual([
      {
        eventId: 'e1',
        streams: [
          { kind: 'pattern', pattern: 'orders/*' },
          { kind: 'user', userId: 'u' },
        ],
        position: positionAt(NOW),
        withBody: true,
      },
    ]);
    expect(h.gateway.received('a')).toEqual([
      expect.objectContaining({ id: 'e1', position: positionAt(NOW) }),
    ]);
  });

  it('points an empty stream at the event while a connection that left it may still come back', async () => {
    const h = withHistory();
    await h.history.remember([{ kind: 'pattern', pattern: 'orders/eu/*' }]);
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }, 'e2'));
    expect(h.history.records[0]?.streams).toEqual([{ kind: 'pattern', pattern: 'orders/eu/*' }]);
  });

  it('writes nothing for an event that nobody holds and nobody held', async () => {
    const h = withHistory();
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC], users: ['nobody'] }, 'e7'));
    expect(h.history.records).toEqual([]);
    expect(await h.history.events(['e7'])).toEqual([]);
  });

  it('remembers what a pruned connection held, so its streams keep their history', async () => {
    const h = withHistory();
    await addConnection(h, 'gone', ['orders/*'], { userId: 'u', gone: true });
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }, 'e3'));
    expect(h.store.removed).toEqual(['gone']);
    expect(
      await h.history.held([
        { kind: 'pattern', pattern: 'orders/*' },
        { kind: 'user', userId: 'u' },
      ]),
    ).toEqual([true, true]);
  });

  it('writes only a pointer, at its own position, for each later page of a large audience', async () => {
    const h = withHistory({ pageSize: 2 });
    for (let i = 0; i < 5; i++) await addConnection(h, `c${i}`, [TOPIC]);
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }, 'e4'));
    await drain(h);
    expect(h.history.records.filter((r) => r.withBody)).toHaveLength(1);
    expect(h.history.records.length).toBeGreaterThan(1);
    for (let i = 0; i < 5; i++) expect(h.gateway.received(`c${i}`)).toHaveLength(1);
  });

  it('fails the record, posting nothing, when the history cannot be written', async () => {
    const h = withHistory();
    await addConnection(h, 'a', [TOPIC]);
    h.history.failRecords = 1;
    await expect(h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }, 'e5'))).rejects.toThrow('injected');
    expect(h.gateway.log).toEqual([]);
  });

  it('keeps no history and sends no positions when retention is 0', async () => {
    const h = harness();
    const history = new RecordingHistory({ retentionSeconds: 0, now: () => NOW });
    const engine = new FanoutEngine({ ...h, history, now: () => NOW, sleep: yieldOnce });
    await addConnection(h, 'a', [TOPIC]);
    await engine.handleRecord(envelopeBody({ topics: [TOPIC] }, 'e6'));
    expect(history.records).toEqual([]);
    expect(h.gateway.received('a')[0]).not.toHaveProperty('position');
  });
});

describe('fan-out history racing a recovery', () => {
  it('reads the audience again when storing its pointers took longer than the bound, and delivers to a subscriber that came meanwhile', async () => {
    let clock = NOW;
    const h = harness();
    const history = new RecordingHistory({ retentionSeconds: 600, now: () => clock });
    // The pointer write is slow, and a client subscribes (and recovers) while it runs.
    const record = history.record.bind(history);
    history.record = async (...args) => {
      clock += 600;
      await h.store.registerConnection({
        connectionId: 'late',
        connectedAt: NOW - 60_000,
        allowedTopics: ['*'],
      });
      await h.store.subscribe('late', ['orders/*'], 10);
      h.gateway.connect('late');
      return record(...args);
    };
    const engine = new FanoutEngine({ ...h, history, now: () => clock, sleep: yieldOnce });
    await addConnection(h, 'early', ['orders/*']);
    await engine.handleRecord(envelopeBody({ topics: [TOPIC] }, 'race'));
    expect(h.gateway.received('early')).toHaveLength(1);
    expect(h.gateway.received('late')).toHaveLength(1);
  });
});
