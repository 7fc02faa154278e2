import { FanoutEngine } from '../../../shared/fanout/engine';
import { addConnection, drain, envelopeBody, harness, NOW } from './fixtures';

const TOPIC = 'orders/eu/1234';

describe('fan-out delivery', () => {
  it('delivers to 1,000 subscribers exactly once, prunes the gone ones, retries the throttled ones, within the concurrency bound', async () => {
    const h = harness({ concurrency: 16 });
    const live: string[] = [];
    const gone: string[] = [];
    const goneUsers: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = `c${String(i).padStart(4, '0')}`;
      const isGone = i % 10 === 0;
      // Gone connections hold every kind of row, so pruning has all four to delete.
      await addConnection(h, id, isGone ? [TOPIC, 'orders/*'] : [TOPIC], {
        gone: isGone,
        ...(isGone ? { userId: `user-${i}` } : {}),
      });
      (isGone ? gone : live).push(id);
      if (isGone) goneUsers.push(`user-${i}`);
    }
    const throttled = live.filter((_, i) => i % 18 === 0).slice(0, 50);
    for (const id of throttled) h.gateway.failNext(id, 'throttled', 1);
    expect(throttled).toHaveLength(50);

    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));
    // pageSize is 1000, so the wildcard levels after the topic went out as page messages.
    await drain(h);

    for (const id of live) expect(h.gateway.received(id)).toHaveLength(1);
    for (const id of gone) expect(h.gateway.received(id)).toHaveLength(0);
    // Their user index rows went with them, like every other row (rowCount below).
    for (const userId of goneUsers) {
      expect((await h.store.audiencePage({ kind: 'user', userId }, 10)).members).toEqual([]);
    }
    expect([...h.store.removed].sort()).toEqual([...gone].sort());
    expect(h.store.rowCount()).toBe(live.length * 3);
    const audience = await h.store.audiencePage({ kind: 'pattern', pattern: TOPIC, topic: TOPIC }, 2000);
    expect(audience.members.map((m) => m.connectionId).sort()).toEqual([...live].sort());
    const wildcard = await h.store.audiencePage({ kind: 'pattern', pattern: 'orders/*', topic: TOPIC }, 2000);
    expect(wildcard.members).toHaveLength(0);

    expect(h.gateway.maxInFlight).toBeLessThanOrEqual(16);
    expect(h.gateway.maxInFlight).toBeGreaterThan(1);
    expect(h.metrics.total('Delivered')).toBe(900);
    expect(h.metrics.total('Pruned')).toBe(100);
    expect(h.metrics.total('Throttled')).toBe(50);
    expect(h.metrics.total('Retried')).toBe(0);
    expect(h.queue.sent.filter((m) => m.kind === 'fanout.retry')).toHaveLength(0);
  });

  it('puts a subscriber failing every post into one retry message that names only it', async () => {
    const h = harness({ maxAttempts: 3 });
    for (const id of ['a', 'b', 'c']) await addConnection(h, id, [TOPIC]);
    h.gateway.failNext('b', 'other', 3);

    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));

    expect(h.queue.sent).toEqual([
      {
        kind: 'fanout.retry',
        event: expect.objectContaining({ id: 'evt-1', topics: [TOPIC] }),
        attempt: 1,
        targets: [{ source: 0, connectionIds: ['b'] }],
        firstFailedAt: NOW,
      },
    ]);
    expect(h.gateway.attempts.get('b')).toBe(3);
    expect(h.metrics.total('Retried')).toBe(1);

    await h.engine.handleRecord(h.queue.take() ?? '');
    expect(h.gateway.received('a')).toHaveLength(1);
    expect(h.gateway.received('b')).toHaveLength(1);
    expect(h.gateway.received('c')).toHaveLength(1);
  });

  it('shares one concurrency bound between records handled in parallel', async () => {
    const h = harness({ concurrency: 8 });
    for (let i = 0; i < 300; i++) await addConnection(h, `c${i}`, [`t/${i % 3}`]);
    await Promise.all(
      [0, 1, 2].map((n) => h.engine.handleRecord(envelopeBody({ topics: [`t/${n}`] }, `e${n}`))),
    );
    expect(h.gateway.deliveredCount()).toBe(300);
    expect(h.gateway.maxInFlight).toBeLessThanOrEqual(8);
    expect(h.gateway.maxInFlight).toBeGreaterThan(1);
  });

  it('backs off with full jitter between attempts, capped at maxDelayMs', async () => {
    const delays: number[] = [];
    const h = harness();
    const engine = new FanoutEngine(
      {
        ...h,
        now: () => NOW,
        random: () => 1,
        sleep: async (ms) => {
          delays.push(ms);
        },
      },
      { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 300 },
    );
    await addConnection(h, 'a', [TOPIC]);
    h.gateway.failNext('a', 'other', 4);
    await engine.handleRecord(envelopeBody({ topics: [TOPIC] }));
    expect(delays).toEqual([100, 200, 300, 300]);
    expect(h.gateway.received('a')).toHaveLength(1);
  });

  it('fails the whole record on forbidden and stops posting', async () => {
    const h = harness({ concurrency: 1 });
    for (const id of ['a', 'b', 'c']) await addConnection(h, id, [TOPIC]);
    h.gateway.failNext('a', 'forbidden');
    await expect(h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }))).rejects.toMatchObject({
      kind: 'forbidden',
    });
    expect(h.gateway.log).toEqual([{ connectionId: 'a', outcome: 'forbidden' }]);
    expect(h.log.entries.find((e) => e.level === 'error')?.extra[0]).toMatchObject({ eventId: 'evt-1' });
  });

  it('counts audience size and delivery latency per record, and tags every log line with the event id', async () => {
    const h = harness();
    for (const id of ['a', 'b']) await addConnection(h, id, [TOPIC]);
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));
    await drain(h);
    expect(h.metrics.values.get('AudienceSize')).toContain(2);
    expect(h.metrics.values.get('DeliveryLatency')).toEqual([1000]);
    expect(h.log.entries.length).toBeGreaterThan(0);
    for (const entry of h.log.entries) expect(entry.extra[0]).toMatchObject({ eventId: 'evt-1' });
  });

  it('keeps going when pruning a gone connection fails, and says so', async () => {
    const h = harness();
    await addConnection(h, 'a', [TOPIC]);
    await addConnection(h, 'gone', [TOPIC], { gone: true });
    h.store.removeConnection = async () => {
      throw new Error('store down');
    };
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));
    expect(h.gateway.received('a')).toHaveLength(1);
    expect(h.metrics.total('Pruned')).toBe(0);
    expect(h.log.entries.some((e) => e.message.includes('could not prune'))).toBe(true);
  });
});

describe('fan-out delivery with a misbehaving gateway', () => {
  it('treats an error that is not a GatewayError as transient, retries it and logs it', async () => {
    const h = harness();
    await addConnection(h, 'a', [TOPIC]);
    const post = h.gateway.post.bind(h.gateway);
    let calls = 0;
    h.gateway.post = async (id, data) => {
      if (++calls === 1) throw new TypeError('socket exploded');
      return post(id, data);
    };
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));
    expect(h.gateway.received('a')).toHaveLength(1);
    expect(h.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        extra: [{ eventId: 'evt-1', connectionId: 'a' }, expect.any(TypeError)],
      }),
    );
  });
});

describe('fan-out delivery to a connection still opening', () => {
  it('retries, instead of pruning, a connection that answers 410 moments after it opened, and prunes it once it is old', async () => {
    const h = harness({ connectingGraceSeconds: 30 });
    // API Gateway answers 410 until the $connect integration has finished.
    await h.store.registerConnection({
      connectionId: 'new',
      connectedAt: NOW - 1_000,
      allowedTopics: ['*'],
      userId: 'u',
    });
    await h.engine.handleRecord(envelopeBody({ users: ['u'] }));

    expect(h.store.removed).toEqual([]);
    expect(h.queue.sent).toEqual([
      expect.objectContaining({
        kind: 'fanout.retry',
        targets: [{ source: 0, connectionIds: ['new'], connectedAt: { new: NOW - 1_000 } }],
      }),
    ]);
    expect(h.metrics.total('Pruned')).toBe(0);

    // The retry comes a minute later, and the connection still answers 410: now it is gone.
    const later = new FanoutEngine(
      {
        store: h.store,
        gateway: h.gateway,
        queue: h.queue,
        log: h.log,
        metrics: h.metrics,
        now: () => NOW + 60_000,
      },
      { connectingGraceSeconds: 30 },
    );
    await later.handleRecord(h.queue.take() ?? '');
    expect(h.store.removed).toEqual(['new']);
  });

  it('neither retries nor prunes a post refused as a bad request (400), and logs it', async () => {
    const h = harness({ maxAttempts: 4 });
    for (const id of ['bad', 'good']) await addConnection(h, id, [TOPIC]);
    h.gateway.failNext('bad', 'invalid', 10);
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));
    expect(h.gateway.attempts.get('bad')).toBe(1);
    expect(h.gateway.attempts.get('good')).toBe(1);
    expect(h.store.removed).toEqual([]);
    expect(h.queue.sent).toEqual([]);
    expect(h.log.entries.find((e) => e.level === 'warn')).toMatchObject({
      message: 'post refused as a bad request; not retried',
      extra: [expect.objectContaining({ eventId: 'evt-1', connectionId: 'bad' })],
    });
  });

  it('retries nothing it should prune: an old connection answering 410 is pruned at once', async () => {
    const h = harness({ connectingGraceSeconds: 30 });
    await addConnection(h, 'old', [TOPIC], { gone: true });
    await h.engine.handleRecord(envelopeBody({ topics: [TOPIC] }));
    expect(h.store.removed).toEqual(['old']);
    expect(h.queue.sent).toEqual([]);
  });
});

describe('fan-out delivery against its deadline', () => {
  it('hands the deliveries it cannot start before the deadline over in a retry message, as they are', async () => {
    let clock = NOW;
    const h = harness();
    const engine = new FanoutEngine(
      {
        store: h.store,
        gateway: h.gateway,
        queue: h.queue,
        log: h.log,
        metrics: h.metrics,
        now: () => clock,
      },
      { concurrency: 1, requestTimeoutMs: 3_000 },
    );
    for (let i = 0; i < 6; i++) await addConnection(h, `c${i}`, [TOPIC]);
    // Every post takes a second.
    h.gateway.fault = () => {
      clock += 1_000;
      return undefined;
    };
    // Posts may start until 3 s + 1 s before the deadline, but never less than half the time left:
    // here until NOW + 3 s, so at NOW, NOW + 1 s and NOW + 2 s.
    await engine.handleRecord(envelopeBody({ topics: [TOPIC] }), { deadline: NOW + 6_000 });

    expect(h.gateway.deliveredCount()).toBe(3);
    const [handover] = h.queue.sent;
    expect(h.queue.sent).toHaveLength(1);
    expect(handover).toMatchObject({ kind: 'fanout.retry', attempt: 1, targets: [{ source: 0 }] });
    expect(handover && 'firstFailedAt' in handover).toBe(false);
    expect(h.queue.delays).toEqual([0]);
    expect(h.metrics.total('HandedOver')).toBe(3);

    await engine.handleRecord(h.queue.take() ?? '');
    for (let i = 0; i < 6; i++) expect(h.gateway.received(`c${i}`)).toHaveLength(1);
  });

  it('retries a throttled post past maxAttempts, but does not sleep past the deadline: the connection goes to a retry message instead', async () => {
    let clock = NOW;
    const h = harness();
    const engine = new FanoutEngine(
      {
        store: h.store,
        gateway: h.gateway,
        queue: h.queue,
        log: h.log,
        metrics: h.metrics,
        now: () => clock,
        random: () => 1,
        sleep: async (ms) => {
          clock += ms;
        },
      },
      { maxAttempts: 2, baseDelayMs: 1_000, maxDelayMs: 60_000, requestTimeoutMs: 1_000 },
    );
    await addConnection(h, 'slow', [TOPIC]);
    // Throttles do not count against maxAttempts (2): only the deadline ends the retries. One
    // connection's answers are too few for the pacer to read, so each retry waits one base delay
    // (1 s with this random), not a delay grown with the throttles.
    h.gateway.fault = () => 'throttled';
    await engine.handleRecord(envelopeBody({ topics: [TOPIC] }), { deadline: NOW + 10_000 });
    // Posts may start until NOW + 8 s: at NOW, then after each of seven pauses of 1 s; the eighth
    // pause would end at the deadline.
    expect(h.gateway.attempts.get('slow')).toBe(8);
    expect(clock).toBeLessThanOrEqual(NOW + 8_000);
    expect(h.queue.sent).toEqual([expect.objectContaining({ kind: 'fanout.retry', attempt: 1 })]);
  });
});
