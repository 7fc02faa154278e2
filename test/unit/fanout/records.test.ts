import type { RetryMessage } from '../../../shared/domain/envelope';
import { addConnection, envelopeBody, fanoutEvent, harness, NOW } from './fixtures';

const TOPIC = 'orders/eu/1234';

describe('fan-out records', () => {
  it('sends the exact documented event frame for topic and user deliveries', async () => {
    const h = harness();
    await addConnection(h, 'sub', ['orders/eu/*']);
    await addConnection(h, 'direct', [], { userId: 'alice' });
    await h.engine.handleRecord(
      envelopeBody({ topics: [TOPIC], users: ['alice'], data: { status: 'shipped', items: [1, 2] } }),
    );

    expect(JSON.stringify(h.gateway.received('sub'))).toBe(
      '[{"type":"event","id":"evt-1","topic":"orders/eu/1234","subscription":"orders/eu/*","source":"orders",' +
        '"detailType":"OrderUpdated","time":"2026-11-24T10:00:00Z","data":{"status":"shipped","items":[1,2]}}]',
    );
    expect(JSON.stringify(h.gateway.received('direct'))).toBe(
      '[{"type":"event","id":"evt-1","user":"alice","source":"orders","detailType":"OrderUpdated",' +
        '"time":"2026-11-24T10:00:00Z","data":{"status":"shipped","items":[1,2]}}]',
    );
  });

  it.each([
    ['an EventBridge event', envelopeBody({ topics: [TOPIC], expiresAt: '2026-11-24T10:00:00Z' })],
    [
      'a page message',
      JSON.stringify({
        kind: 'fanout.page',
        event: fanoutEvent({ topics: [TOPIC], expiresAt: '2026-11-24T10:00:00Z' }),
        source: 0,
      }),
    ],
    [
      'a retry message',
      JSON.stringify({
        kind: 'fanout.retry',
        event: fanoutEvent({ topics: [TOPIC], expiresAt: '2026-11-24T10:00:00Z' }),
        attempt: 1,
        targets: [{ source: 0, connectionIds: ['a'] }],
      }),
    ],
  ])('drops and counts %s whose expiresAt has passed', async (_label, body) => {
    const h = harness();
    await addConnection(h, 'a', [TOPIC]);
    await h.engine.handleRecord(body);
    expect(h.gateway.log).toHaveLength(0);
    expect(h.store.calls).not.toContain('audiencePage');
    expect(h.metrics.total('Expired')).toBe(1);
    expect(h.queue.deadLetters).toHaveLength(0);
    expect(h.log.entries).toEqual([
      expect.objectContaining({ level: 'info', extra: [expect.objectContaining({ eventId: 'evt-1' })] }),
    ]);
  });

  it('delivers an event whose expiresAt is still ahead', async () => {
    const h = harness();
    await addConnection(h, 'a', [TOPIC]);
    await h.engine.handleRecord(
      envelopeBody({ topics: [TOPIC], expiresAt: new Date(NOW + 1000).toISOString() }),
    );
    expect(h.gateway.received('a')).toHaveLength(1);
  });

  it.each([
    ['non-JSON', 'not json', 'not JSON'],
    ['a JSON array', '[1]', 'not a JSON object'],
    ['an object of unknown shape', '{"hello":1}', 'neither an EventBridge event'],
    ['an envelope failing the schema', envelopeBody({ topics: ['bad topic'] }), 'invalid EventBridge event'],
    ['a work message of unknown kind', '{"kind":"fanout.other"}', 'invalid work message'],
    [
      'a page message naming a source the event does not have',
      JSON.stringify({ kind: 'fanout.page', event: fanoutEvent({ topics: ['a'] }), source: 9 }),
      'source 9 is out of range',
    ],
    [
      'a page message with a cursor the store never issued',
      JSON.stringify({
        kind: 'fanout.page',
        event: fanoutEvent({ topics: ['a'] }),
        source: 0,
        cursor: 'garbage',
      }),
      'invalid audience cursor',
    ],
    [
      'an event naming neither topics nor users',
      envelopeBody({ data: 1 }),
      'at least one of "topics" or "users"',
    ],
    [
      'an event with empty topics',
      envelopeBody({ topics: [], data: 1 }),
      'at least one of "topics" or "users"',
    ],
    [
      'an event with empty users',
      envelopeBody({ users: [], data: 1 }),
      'at least one of "topics" or "users"',
    ],
  ])('dead-letters %s as malformed, with the reason, at once', async (_label, body, detail) => {
    const h = harness();
    await h.engine.handleRecord(body);
    expect(h.queue.deadLetters).toEqual([
      { body, reason: 'malformed', detail: expect.stringContaining(detail) },
    ]);
    expect(h.metrics.total('Malformed')).toBe(1);
    expect(h.log.entries[0]?.level).toBe('warn');
  });

  it('dead-letters an event whose frame exceeds 128 KB without posting or reading the audience', async () => {
    const h = harness();
    await addConnection(h, 'a', [TOPIC]);
    const body = envelopeBody({ topics: [TOPIC], data: 'x'.repeat(128 * 1024) });
    await h.engine.handleRecord(body);
    expect(h.queue.deadLetters).toEqual([
      { body, reason: 'payload_too_large', detail: expect.stringContaining('over 131072') },
    ]);
    expect(h.gateway.log).toHaveLength(0);
    expect(h.store.calls).not.toContain('audiencePage');
    expect(h.metrics.total('Failed')).toBe(1);
  });

  it('stops an event the gateway answers 413 for, and dead-letters its record', async () => {
    const h = harness({ concurrency: 1 });
    for (const id of ['a', 'b', 'c']) await addConnection(h, id, [TOPIC]);
    h.gateway.failNext('a', 'too_large');
    const body = envelopeBody({ topics: [TOPIC] });
    await h.engine.handleRecord(body);
    expect(h.gateway.log).toEqual([{ connectionId: 'a', outcome: 'too_large' }]);
    expect(h.queue.deadLetters).toEqual([{ body, reason: 'payload_too_large', detail: expect.any(String) }]);
    expect(h.queue.sent).toHaveLength(0);
    expect(h.metrics.total('Failed')).toBe(1);
  });
});

describe('retry messages', () => {
  const event = fanoutEvent({ topics: [TOPIC], users: ['alice'] });
  const retry = (attempt: number, targets: RetryMessage['targets'], firstFailedAt?: number): string =>
    JSON.stringify({
      kind: 'fanout.retry',
      event,
      attempt,
      targets,
      ...(firstFailedAt === undefined ? {} : { firstFailedAt }),
    } satisfies RetryMessage);

  it('delivers only to its targets, each with its source frame', async () => {
    const h = harness();
    for (const id of ['a', 'b', 'c']) await addConnection(h, id, [TOPIC]);
    await addConnection(h, 'u', [], { userId: 'alice' });
    // Sources: 0 orders/eu/1234, 1 orders/eu/*, 2 orders/*, 3 *, 4 user alice.
    await h.engine.handleRecord(
      retry(1, [
        { source: 0, connectionIds: ['a'] },
        { source: 4, connectionIds: ['u'] },
      ]),
    );
    expect(h.gateway.recipients().sort()).toEqual(['a', 'u']);
    expect(h.gateway.received('u')).toEqual([expect.objectContaining({ user: 'alice' })]);
    expect(h.store.calls).not.toContain('audiencePage');
    expect(h.queue.sent).toHaveLength(0);
  });

  it('re-enqueues connections still failing with the next attempt number, their first failure and a growing delay', async () => {
    const h = harness({ maxAttempts: 2, retryWindowSeconds: 600 });
    for (const id of ['a', 'b']) await addConnection(h, id, [TOPIC]);
    h.gateway.failNext('b', 'other', 2);
    await h.engine.handleRecord(retry(2, [{ source: 0, connectionIds: ['a', 'b'] }], NOW - 30_000));
    expect(h.queue.sent).toEqual([
      {
        kind: 'fanout.retry',
        event,
        attempt: 3,
        targets: [{ source: 0, connectionIds: ['b'] }],
        firstFailedAt: NOW - 30_000,
      },
    ]);
    // Equal jitter around 2 s × 2^(3-1) = 8 s (the harness's random is 0.5).
    expect(h.queue.delays).toEqual([6]);
  });

  it('starts the retry window at the first failure of a fresh event', async () => {
    const h = harness({ maxAttempts: 1 });
    await addConnection(h, 'a', [TOPIC]);
    h.gateway.failNext('a', 'other', 1);
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }, event.id));
    expect(h.queue.sent).toEqual([
      expect.objectContaining({ kind: 'fanout.retry', attempt: 1, firstFailedAt: NOW }),
    ]);
    expect(h.queue.delays).toEqual([2]);
  });

  it('dead-letters connections still failing after the retry window as delivery_failed, redrivable with a fresh window', async () => {
    const h = harness({ maxAttempts: 2, retryWindowSeconds: 600 });
    for (const id of ['a', 'b', 'c']) await addConnection(h, id, [TOPIC]);
    h.gateway.failNext('b', 'other', 2);
    await h.engine.handleRecord(retry(9, [{ source: 0, connectionIds: ['a', 'b'] }], NOW - 600_000));

    expect(h.gateway.received('a')).toHaveLength(1);
    expect(h.gateway.attempts.has('c')).toBe(false);
    expect(h.queue.sent).toHaveLength(0);
    expect(h.queue.deadLetters).toEqual([
      {
        body: retry(1, [{ source: 0, connectionIds: ['b'] }]),
        reason: 'delivery_failed',
        detail: expect.stringContaining('1 connection(s)'),
      },
    ]);
    expect(h.metrics.total('Failed')).toBe(1);
    expect(h.metrics.total('Retried')).toBe(0);
  });

  it('splits a large retry hand-off into messages of at most 1,000 connections', async () => {
    const h = harness({ maxAttempts: 1, concurrency: 64, pageSize: 2000 });
    h.gateway.fault = () => 'other';
    for (let i = 0; i < 1500; i++) await addConnection(h, `c${i}`, [TOPIC]);
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }, 'evt-big'));
    const retries = h.queue.sent.filter((m): m is RetryMessage => m.kind === 'fanout.retry');
    const ids = retries.flatMap((m) => m.targets.flatMap((t) => t.connectionIds));
    expect(retries.map((m) => m.targets.reduce((n, t) => n + t.connectionIds.length, 0))).toEqual([
      1000, 500,
    ]);
    expect(new Set(ids).size).toBe(1500);
    expect(h.metrics.total('Retried')).toBe(1500);
  });
});
