import {
  type AudienceMember,
  audienceSources,
  deliveredByEarlierSource,
} from '../../../shared/domain/audience';

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
    const member: AudienceMember = { connectionId: 'c1', userId: 'alice', subscriptions: ['a/*', '*'] };
    // Sources: a/b/c, a/b/*, a/*, *, user alice. The member first appears in a/* (index 2).
    expect(deliveredByEarlierSource(member, sources, 2)).toBe(false);
    expect(deliveredByEarlierSource(member, sources, 3)).toBe(true);
    expect(deliveredByEarlierSource(member, sources, 4)).toBe(true);
    const direct: AudienceMember = { connectionId: 'c2', userId: 'alice', subscriptions: ['other'] };
    expect(deliveredByEarlierSource(direct, sources, 4)).toBe(false);
  });

  it('does not skip a connection for an earlier user source of another user', () => {
    const sources = audienceSources({ topics: [], users: ['bob', 'alice'] });
    expect(
      deliveredByEarlierSource({ connectionId: 'c', userId: 'alice', subscriptions: [] }, sources, 1),
    ).toBe(false);
  });
});
