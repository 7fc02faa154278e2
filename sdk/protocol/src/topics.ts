import { MAX_SEGMENT_LENGTH, MAX_TOPIC_LENGTH, MAX_TOPIC_SEGMENTS } from './limits.js';

/**
 * Topics, subscription patterns and access rules.
 *
 * - topic:    `orders/eu/1234` (1–8 segments)
 * - pattern:  a topic, or a prefix ending in `/*` matching every topic below it at any depth
 *             (`orders/*` matches `orders/eu` and `orders/eu/1234`), or a bare `*` (everything).
 */

const SEGMENT = /^[A-Za-z0-9_.:-]+$/;
/** The pattern that matches every topic (granted only when a token's `topics` allow `*`). */
export const WILDCARD = '*';
const WILDCARD_SUFFIX = '/*';

function segmentProblem(segment: string): string | undefined {
  if (segment.length === 0) return 'has an empty segment';
  if (segment.length > MAX_SEGMENT_LENGTH)
    return `has a segment longer than ${MAX_SEGMENT_LENGTH} characters`;
  if (!SEGMENT.test(segment)) return `segment "${segment}" may only contain A-Z a-z 0-9 _ . : -`;
  return undefined;
}

function topicProblem(value: unknown, maxSegments: number): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_TOPIC_LENGTH) return `is longer than ${MAX_TOPIC_LENGTH} characters`;
  const segments = value.split('/');
  if (segments.length > maxSegments) return `has more than ${maxSegments} segments`;
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem) return problem;
  }
  return undefined;
}

/** Why `value` is not a valid topic, or undefined when it is. */
export const topicError = (value: unknown): string | undefined => topicProblem(value, MAX_TOPIC_SEGMENTS);

/** Why `value` is not a valid subscription pattern, or undefined when it is. */
export function patternError(value: unknown): string | undefined {
  if (value === WILDCARD) return undefined;
  if (typeof value === 'string' && value.endsWith(WILDCARD_SUFFIX)) {
    if (value.length > MAX_TOPIC_LENGTH) return `is longer than ${MAX_TOPIC_LENGTH} characters`;
    // The prefix leaves room for at least one more segment below it.
    return topicProblem(value.slice(0, -WILDCARD_SUFFIX.length), MAX_TOPIC_SEGMENTS - 1);
  }
  if (typeof value === 'string' && value.includes('*')) return 'may only use * as a whole last segment';
  return topicError(value);
}

/** Whether `value` is a valid topic (not a pattern). */
export const isTopic = (value: unknown): value is string => topicError(value) === undefined;
/** Whether `value` is a valid subscription pattern: a topic, `prefix/*`, or `*`. */
export const isPattern = (value: unknown): value is string => patternError(value) === undefined;

/**
 * The patterns whose subscribers receive an event on `topic`, most specific first:
 * `a/b/c` → `a/b/c`, `a/b/*`, `a/*`, `*`. One audience lookup per pattern.
 */
export function audiencePatterns(topic: string): string[] {
  const segments = topic.split('/');
  const patterns = [topic];
  for (let depth = segments.length - 1; depth >= 1; depth--) {
    patterns.push(`${segments.slice(0, depth).join('/')}${WILDCARD_SUFFIX}`);
  }
  patterns.push(WILDCARD);
  return patterns;
}

/** Whether `pattern` matches `topic` (the inverse view of audiencePatterns). */
export function matches(pattern: string, topic: string): boolean {
  if (pattern === WILDCARD) return true;
  if (pattern.endsWith(WILDCARD_SUFFIX)) return topic.startsWith(pattern.slice(0, -1));
  return pattern === topic;
}

/** Whether everything `inner` can match is also matched by `outer`. */
export function covers(outer: string, inner: string): boolean {
  if (outer === WILDCARD) return true;
  if (inner === WILDCARD) return false;
  if (outer.endsWith(WILDCARD_SUFFIX)) return inner.startsWith(outer.slice(0, -1));
  return outer === inner;
}

/**
 * The patterns a principal may subscribe to, from the token's `topics` claim:
 * `{sub}` is replaced by the user id; entries that are not valid patterns afterwards are dropped
 * (and reported) rather than widening access. `{sub}` is only substituted by a user id that is a
 * single valid segment: `bob/secret` must not turn `users/{sub}/*` into a grant inside bob's subtree.
 */
export function expandAllowedPatterns(
  claimed: readonly string[],
  userId: string | undefined,
): { allowed: string[]; rejected: string[] } {
  const allowed: string[] = [];
  const rejected: string[] = [];
  const substitutable = userId !== undefined && !userId.includes('/') && segmentProblem(userId) === undefined;
  for (const entry of claimed) {
    if (entry.includes('{sub}') && !substitutable) {
      rejected.push(entry);
      continue;
    }
    const expanded = substitutable ? entry.replaceAll('{sub}', userId) : entry;
    if (isPattern(expanded)) allowed.push(expanded);
    else rejected.push(entry);
  }
  return { allowed: [...new Set(allowed)], rejected };
}

/** Whether some pattern of `allowed` covers `pattern`: the access rule of a subscription. */
export const isAllowed = (pattern: string, allowed: readonly string[]): boolean =>
  allowed.some((grant) => covers(grant, pattern));
