import {
  type AudienceMember,
  type AudienceReading,
  audienceSources,
  deliveredByEarlierSource,
  LIST_SETTLE_MS,
} from '../../../shared/domain/audience';

const NOW = 1_800_000_000_000;
/** A reading that began now, with nothing read completely by this invocation. */
const reading = (complete: number[] = []): AudienceReading => ({
  startedAt: NOW,
  complete: new Set(complete),
});
/** A row whose list was written long before the reading began. */
const SETTLED = NOW - 60_000;

describe('audience sources', () => {
  it('lists each pattern once, most specific first, then each user once', () => {
    expect(audienceSources({ topics: ['a/b', 'a/c'], users: ['alice', 'alice', 'bob'] })).toEqual([
      { kind: 'pattern', pattern: 'a/b', topic: 'a/b' },
      { kind: 'pattern', pattern: 'a/*', topic: 'a/b' },
      { kind: 'pattern', pattern: '*', topic: 'a/b' },
      { kind: 'pattern', pattern: 'a/c', topic: 'a/c' },
      { kind: 'user', userId: 'alice' },
      { kind: 'user', userId: 'bob' },
    ]);
  });

  it('hands each connection to the first source that holds it', () => {
    const sources = audienceSources({ topics: ['a/b/c'], users: ['alice'] });
    const member: AudienceMember = {
      connectionId: 'c1',
      userId: 'alice',
      subscriptions: ['a/*', '*'],
      listedAt: SETTLED,
    };
    // Sources: a/b/c, a/b/*, a/*, *, user alice. The member first appears in a/* (index 2).
    expect(deliveredByEarlierSource(member, sources, 2, reading())).toBe(false);
    expect(deliveredByEarlierSource(member, sources, 3, reading())).toBe(true);
    expect(deliveredByEarlierSource(member, sources, 4, reading())).toBe(true);
    const direct: AudienceMember = {
      connectionId: 'c2',
      userId: 'alice',
      subscriptions: ['other'],
      listedAt: SETTLED,
    };
    expect(deliveredByEarlierSource(direct, sources, 4, reading())).toBe(false);
  });

  it('does not skip a connection for an earlier user source of another user', () => {
    const sources = audienceSources({ topics: [], users: ['bob', 'alice'] });
    expect(
      deliveredByEarlierSource(
        { connectionId: 'c', userId: 'alice', subscriptions: [], listedAt: SETTLED },
        sources,
        1,
        reading(),
      ),
    ).toBe(false);
  });

  describe('never turns a claim it cannot trust into a loss', () => {
    const sources = audienceSources({ topics: ['dr/y'], users: ['u'] });
    // Sources: dr/y, dr/*, *, user u. The connection's list claims dr/y (index 0) holds it.
    const claim = (listedAt?: number): AudienceMember => ({
      connectionId: 'c',
      userId: 'u',
      subscriptions: ['dr/*', 'dr/y'],
      ...(listedAt === undefined ? {} : { listedAt }),
    });

    it('delivers when the list was written after the reading began (a subscribe between two reads)', () => {
      expect(deliveredByEarlierSource(claim(NOW + 5), sources, 1, reading())).toBe(false);
      expect(deliveredByEarlierSource(claim(NOW + 5), sources, 3, reading())).toBe(false);
    });

    it('delivers when the list was written within the settling margin before the reading began', () => {
      expect(deliveredByEarlierSource(claim(NOW - LIST_SETTLE_MS + 1), sources, 1, reading())).toBe(false);
      expect(deliveredByEarlierSource(claim(NOW - LIST_SETTLE_MS - 1), sources, 1, reading())).toBe(true);
    });

    it('delivers when the row does not say when its list was written', () => {
      expect(deliveredByEarlierSource(claim(), sources, 1, reading())).toBe(false);
    });

    it('delivers when this invocation read the claimed source completely without meeting the connection', () => {
      expect(deliveredByEarlierSource(claim(SETTLED), sources, 1, reading([0]))).toBe(false);
      expect(deliveredByEarlierSource(claim(SETTLED), sources, 1, reading([2]))).toBe(true);
    });
  });
});
