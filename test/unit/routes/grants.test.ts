import { decodeGrants, encodeGrants } from '../../../shared/routes/grants.js';

describe('authorizer context hand-off', () => {
  it('round-trips a principal through the string-only authorizer context', () => {
    const context = encodeGrants({
      userId: 'alice',
      allowedTopics: ['users/alice/*', '*'],
      rejectedTopics: [],
    });
    expect(context).toEqual({ userId: 'alice', userIdEncoded: 'alice', topics: '["users/alice/*","*"]' });
    // API Gateway adds principalId (and integrationLatency on $connect) beside the context keys.
    expect(decodeGrants({ ...context, principalId: 'alice', integrationLatency: 12 })).toEqual({
      ok: true,
      grants: { userId: 'alice', allowedTopics: ['users/alice/*', '*'] },
    });
  });

  it('gives the user id percent-encoded as well, ASCII for a header whatever the sub, and decodable to the same id', () => {
    const userId = 'zoë/50% 東京';
    const context = encodeGrants({ userId, allowedTopics: [], rejectedTopics: [] });
    expect(context.userIdEncoded).toMatch(/^[\x21-\x7e]+$/);
    expect(decodeURIComponent(context.userIdEncoded)).toBe(userId);
    expect(decodeGrants(context)).toEqual({ ok: true, grants: { userId, allowedTopics: [] } });
  });

  it('decodes an anonymous principal without a user id', () => {
    const context = encodeGrants({ allowedTopics: [], rejectedTopics: [] });
    expect(context).toEqual({ userId: '', userIdEncoded: '', topics: '[]' });
    expect(decodeGrants(context)).toEqual({ ok: true, grants: { allowedTopics: [] } });
  });

  it.each([
    ['undefined', undefined, /no authorizer context/],
    ['null', null, /no authorizer context/],
    ['missing topics', { userId: 'a' }, /missing/],
    ['non-string topics', { userId: 'a', topics: ['x'] }, /missing/],
    ['topics not JSON', { topics: '[x' }, /not JSON/],
    ['topics not a list', { topics: '"x"' }, /not a list/],
    ['topics with a non-pattern', { topics: '["a/*/b"]' }, /invalid pattern/],
    ['topics with a number', { topics: '[1]' }, /invalid pattern/],
    ['a non-string userId', { userId: true, topics: '[]' }, /userId/],
  ])('reports a context with %s instead of throwing', (_what, authorizer, problem) => {
    const decoded = decodeGrants(authorizer);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.problem).toMatch(problem);
  });
});
