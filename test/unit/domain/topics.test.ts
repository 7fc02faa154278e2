import {
  audiencePatterns,
  covers,
  expandAllowedPatterns,
  isPattern,
  isTopic,
  matches,
  patternError,
  topicError,
} from '@fanout/protocol';
import { isFanoutError } from '../../../shared/domain/errors';
import { assertAllowed, assertPatterns } from '../../../shared/domain/topics';

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isFanoutError(err) ? err.code : 'not a FanoutError';
  }
};

describe('topics', () => {
  it.each(['orders', 'orders/eu/1234', 'a_b.c:d-e/F9', Array(8).fill('s').join('/'), 'x'.repeat(64)])(
    'accepts the topic %s',
    (topic) => expect(topicError(topic)).toBeUndefined(),
  );

  it.each([
    ['', 'must not be empty'],
    ['orders//eu', 'empty segment'],
    ['/orders', 'empty segment'],
    ['orders/', 'empty segment'],
    ['orders/e u', 'may only contain'],
    ['orders/*', 'may only contain'],
    ['orders/é', 'may only contain'],
    [Array(9).fill('s').join('/'), 'more than 8 segments'],
    ['x'.repeat(65), 'longer than 64'],
    [Array(5).fill('y'.repeat(60)).join('/'), 'longer than 256'],
    [42, 'must be a string'],
  ])('rejects the topic %p because it %s', (topic, reason) => {
    expect(topicError(topic)).toContain(reason);
    expect(isTopic(topic)).toBe(false);
  });
});

describe('subscription patterns', () => {
  it.each(['*', 'orders/*', 'orders/eu/*', 'orders/eu/1234', `${Array(7).fill('s').join('/')}/*`])(
    'accepts the pattern %s',
    (pattern) => expect(isPattern(pattern)).toBe(true),
  );

  it.each([
    ['orders/*/1234', 'whole last segment'],
    ['orders*', 'whole last segment'],
    ['*/orders', 'whole last segment'],
    ['/*', 'must not be empty'],
    [`${Array(8).fill('s').join('/')}/*`, 'more than 7 segments'],
    [`${'y'.repeat(255)}/*`, 'longer than 256'],
    [null, 'must be a string'],
  ])('rejects the pattern %p because it %s', (pattern, reason) => {
    expect(patternError(pattern)).toContain(reason);
  });

  it('assertPatterns throws invalid_topic naming the bad entry', () => {
    expect(codeOf(() => assertPatterns(['ok/*', 'bad topic']))).toBe('invalid_topic');
    expect(() => assertPatterns(['bad topic'])).toThrow('"bad topic" is not a valid topic or pattern');
    expect(codeOf(() => assertPatterns(['a', 'b/*', '*']))).toBeUndefined();
  });
});

describe('audience patterns', () => {
  it('lists the topic, each wildcard ancestor and * from most to least specific', () => {
    expect(audiencePatterns('a/b/c')).toEqual(['a/b/c', 'a/b/*', 'a/*', '*']);
    expect(audiencePatterns('a')).toEqual(['a', '*']);
  });

  it('matches every audience pattern against its topic and nothing below a sibling', () => {
    for (const pattern of audiencePatterns('orders/eu/1234'))
      expect(matches(pattern, 'orders/eu/1234')).toBe(true);
    expect(matches('orders/*', 'orders/eu')).toBe(true);
    expect(matches('orders/*', 'orders')).toBe(false);
    expect(matches('orders/*', 'ordersx/eu')).toBe(false);
    expect(matches('orders/eu', 'orders/eu/1')).toBe(false);
  });
});

describe('access control', () => {
  it('expands {sub} and drops grants that are not valid patterns afterwards', () => {
    expect(expandAllowedPatterns(['users/{sub}/*', 'public/*', 'bad grant'], 'alice')).toEqual({
      allowed: ['users/alice/*', 'public/*'],
      rejected: ['bad grant'],
    });
  });

  it('rejects {sub} grants when the token has no subject instead of widening them', () => {
    expect(expandAllowedPatterns(['users/{sub}/*'], undefined)).toEqual({
      allowed: [],
      rejected: ['users/{sub}/*'],
    });
  });

  it('does not let a subject containing a slash escape its own subtree', () => {
    expect(expandAllowedPatterns(['users/{sub}/*'], 'a b')).toEqual({
      allowed: [],
      rejected: ['users/{sub}/*'],
    });
  });

  it('allows a pattern only when a grant covers it', () => {
    const grants = ['users/alice/*', 'orders/eu'];
    expect(
      codeOf(() => assertAllowed(['users/alice/*', 'users/alice/x/y', 'orders/eu'], grants)),
    ).toBeUndefined();
    expect(codeOf(() => assertAllowed(['users/bob/x'], grants))).toBe('forbidden');
    expect(codeOf(() => assertAllowed(['orders/*'], grants))).toBe('forbidden');
    expect(codeOf(() => assertAllowed(['orders/eu/1'], grants))).toBe('forbidden');
    expect(codeOf(() => assertAllowed(['*'], grants))).toBe('forbidden');
    expect(codeOf(() => assertAllowed(['*', 'anything/*'], ['*']))).toBeUndefined();
  });

  it('treats coverage as a partial order', () => {
    expect(covers('*', 'a/*')).toBe(true);
    expect(covers('a/*', '*')).toBe(false);
    expect(covers('a/*', 'a/b/*')).toBe(true);
    expect(covers('a/b/*', 'a/*')).toBe(false);
    expect(covers('a', 'a')).toBe(true);
    expect(covers('a', 'a/*')).toBe(false);
  });
});
