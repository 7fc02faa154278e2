import { backoffDelay } from '@fanout/protocol';
import { audienceSources } from '../../../shared/domain/audience';
import { EventFrames, eventFrame } from '../../../shared/fanout/frames';
import { pageMessage, retryDelaySeconds, retryMessages } from '../../../shared/fanout/handoff';
import { DEFAULT_FANOUT_OPTIONS, resolveFanoutOptions } from '../../../shared/fanout/options';
import { isExpired, parseRecord } from '../../../shared/fanout/record';
import { envelopeBody, fanoutEvent } from './fixtures';

describe('fan-out options', () => {
  it('fills in the defaults', () => {
    expect(resolveFanoutOptions()).toEqual(DEFAULT_FANOUT_OPTIONS);
    expect(resolveFanoutOptions({ concurrency: 4 }).concurrency).toBe(4);
  });

  it.each([
    [{ concurrency: 0 }, 'concurrency must be a number from 1 to 1000, got 0'],
    [{ pageSize: 2.5 }, 'pageSize must be an integer'],
    [{ maxAttempts: Number.NaN }, 'maxAttempts must be a number'],
    [{ baseDelayMs: -1 }, 'baseDelayMs'],
    [{ baseDelayMs: 500, maxDelayMs: 100 }, 'maxDelayMs (100) must not be below baseDelayMs (500)'],
    [{ retryWindowSeconds: 86_401 }, 'retryWindowSeconds'],
    [{ connectingGraceSeconds: -1 }, 'connectingGraceSeconds'],
  ])('rejects %j', (options, message) => {
    expect(() => resolveFanoutOptions(options)).toThrow(message);
  });
});

describe('backoff between posts', () => {
  it('draws a full-jitter delay below the exponential cap', () => {
    const policy = { baseDelayMs: 50, maxDelayMs: 2000, jitter: 'full' } as const;
    expect(backoffDelay(0, policy, () => 0.999)).toBeCloseTo(49.95);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(2000);
    expect(backoffDelay(10, policy, () => 0)).toBe(0);
  });
});

describe('event frames', () => {
  const event = fanoutEvent({ topics: ['a/b'], users: ['alice'], data: { text: 'naïve ✓' } });
  const sources = audienceSources(event);

  it('encodes each source frame as JSON.stringify would, in the documented field order', () => {
    const frames = new EventFrames(event, sources);
    const decoder = new TextDecoder();
    sources.forEach((source, index) => {
      const expected = JSON.stringify(eventFrame(event, source));
      expect(decoder.decode(frames.get(index))).toBe(expected);
      expect(frames.size(index)).toBe(Buffer.byteLength(expected));
    });
    expect(Object.keys(JSON.parse(decoder.decode(frames.get(0))))).toEqual([
      'type',
      'id',
      'topic',
      'subscription',
      'source',
      'detailType',
      'time',
      'data',
    ]);
  });

  it('encodes a source once and shares the bytes', () => {
    const frames = new EventFrames(event, sources);
    expect(frames.get(1)).toBe(frames.get(1));
  });

  it('leaves data out when the event has none, like JSON.stringify', () => {
    const bare = fanoutEvent({ users: ['u'], data: undefined });
    const frames = new EventFrames(bare, audienceSources(bare));
    expect(new TextDecoder().decode(frames.get(0))).toBe(
      JSON.stringify(eventFrame(bare, { kind: 'user', userId: 'u' })),
    );
  });

  it('finds a frame over the 128 KB limit', () => {
    const big = fanoutEvent({ users: ['u'], data: 'x'.repeat(131_000) });
    const frames = new EventFrames(big, audienceSources(big));
    expect(frames.oversized([0])).toEqual({ index: 0, bytes: frames.size(0) });
    expect(new EventFrames(event, sources).oversized(sources.keys())).toBeUndefined();
  });
});

describe('hand-off messages', () => {
  const event = fanoutEvent({ topics: ['a'] });

  it('keeps the opening time of connections young enough to be still connecting, and the first failure', () => {
    const failed = [
      { connectionId: 'old', source: 0, connectedAt: 1_000 },
      { connectionId: 'new', source: 0, connectedAt: 9_000 },
    ];
    expect(retryMessages(event, failed, { attempt: 3, firstFailedAt: 7, connectedAfter: 5_000 })).toEqual([
      {
        kind: 'fanout.retry',
        event,
        attempt: 3,
        targets: [{ source: 0, connectionIds: ['old', 'new'], connectedAt: { new: 9_000 } }],
        firstFailedAt: 7,
      },
    ]);
  });

  it('grows the SQS delay of retry messages from the base to the SQS maximum, jittered', () => {
    expect(retryDelaySeconds(1, 2, () => 0)).toBe(1);
    expect(retryDelaySeconds(1, 2, () => 1)).toBe(2);
    expect(retryDelaySeconds(4, 2, () => 1)).toBe(16);
    expect(retryDelaySeconds(20, 2, () => 1)).toBe(900);
    expect(retryDelaySeconds(20, 2, () => 0)).toBe(450);
  });

  it('groups failing connections by source and splits at the id cap', () => {
    const failed = [
      { connectionId: 'a', source: 0 },
      { connectionId: 'b', source: 1 },
      { connectionId: 'c', source: 0 },
    ];
    expect(retryMessages(event, failed, { attempt: 2 })).toEqual([
      {
        kind: 'fanout.retry',
        event,
        attempt: 2,
        targets: [
          { source: 0, connectionIds: ['a', 'c'] },
          { source: 1, connectionIds: ['b'] },
        ],
      },
    ]);
    expect(retryMessages(event, failed, { attempt: 1 }, 2).map((m) => m.targets)).toEqual([
      [
        { source: 0, connectionIds: ['a'] },
        { source: 1, connectionIds: ['b'] },
      ],
      [{ source: 0, connectionIds: ['c'] }],
    ]);
  });

  it('omits the cursor of a page message that starts a source', () => {
    expect(pageMessage(event, 1)).toEqual({ kind: 'fanout.page', event, source: 1 });
    expect(pageMessage(event, 1, { cursor: 'k' })).toEqual({
      kind: 'fanout.page',
      event,
      source: 1,
      cursor: 'k',
    });
    expect(pageMessage(event, 1, { startedAt: 5 })).toEqual({
      kind: 'fanout.page',
      event,
      source: 1,
      startedAt: 5,
    });
    expect(pageMessage(event, 1, { startedAt: Number.NEGATIVE_INFINITY })).toEqual({
      kind: 'fanout.page',
      event,
      source: 1,
    });
  });
});

describe('record parsing', () => {
  it('recognises an EventBridge event and lists its audience sources', () => {
    const record = parseRecord(envelopeBody({ topics: ['a/b'], users: ['u'] }));
    expect(record.kind).toBe('envelope');
    expect(record.kind === 'envelope' && record.sources.length).toBe(4);
  });

  it('keeps the event id of a malformed record for the logs', () => {
    expect(parseRecord(envelopeBody({ topics: [] }, 'e-9'))).toMatchObject({
      kind: 'malformed',
      eventId: 'e-9',
    });
    expect(parseRecord('{"kind":"fanout.page","event":{"id":"e-8"}}')).toMatchObject({ eventId: 'e-8' });
  });

  it('treats a missing or unreadable expiresAt as never expiring', () => {
    expect(isExpired(fanoutEvent(), Date.now())).toBe(false);
    expect(isExpired(fanoutEvent({ expiresAt: 'soon' }), Date.now())).toBe(false);
    expect(isExpired(fanoutEvent({ expiresAt: '2000-01-01T00:00:00Z' }), Date.now())).toBe(true);
  });
});
