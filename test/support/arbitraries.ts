import { isPattern, MAX_TOPIC_LENGTH, MAX_TOPIC_SEGMENTS } from '@fanout/protocol';
import fc from 'fast-check';

/**
 * fast-check generators for topics and patterns (docs/architecture.md, "Topics and access"), drawn from
 * a small alphabet on purpose: with few distinct segments, generated patterns and topics often share
 * prefixes, so laws about `covers` and `matches` are exercised on related pairs, not only on strangers.
 * Upper-case letters never appear in generated segments: `FRESH_SEGMENT` is one, so it names a topic
 * no generated pattern can mention.
 */
const SEGMENT_CHARS = [...'abc019_.:-'];

/** A segment no generated topic or pattern contains. */
export const FRESH_SEGMENT = 'Z';

export const segmentArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'users', 'orders', 'eu') },
  {
    weight: 4,
    arbitrary: fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 1, maxLength: 6 }),
  },
  // Long segments reach the 256-character limit in a few segments.
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 60, maxLength: 64 }),
  },
);

const segmentsArb = (maxSegments: number): fc.Arbitrary<string[]> =>
  fc.array(segmentArb, { minLength: 1, maxLength: maxSegments });

/** A valid topic: 1–8 segments, at most 256 characters. */
export const topicArb: fc.Arbitrary<string> = segmentsArb(MAX_TOPIC_SEGMENTS)
  .map((segments) => segments.join('/'))
  .filter((topic) => topic.length <= MAX_TOPIC_LENGTH);

/** A valid pattern: a topic, `prefix/*` (prefix of at most 7 segments) or `*`. */
export const patternArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: topicArb },
  {
    weight: 3,
    arbitrary: segmentsArb(MAX_TOPIC_SEGMENTS - 1)
      .map((segments) => `${segments.join('/')}/*`)
      .filter((pattern) => pattern.length <= MAX_TOPIC_LENGTH),
  },
  { weight: 1, arbitrary: fc.constant('*') },
);

/**
 * The patterns at or above `pattern`, computed from its segments (not with `audiencePatterns`, whose
 * laws the tests check): `a/b/c` → `a/b/c`, `a/b/*`, `a/*`, `*`; `a/b/*` → `a/b/*`, `a/*`, `*`.
 */
export function ancestorsOf(pattern: string): string[] {
  if (pattern === '*') return ['*'];
  const wildcard = pattern.endsWith('/*');
  const segments = (wildcard ? pattern.slice(0, -2) : pattern).split('/');
  const ancestors = wildcard ? [] : [pattern];
  for (let depth = segments.length; depth >= 1; depth--) {
    if (wildcard || depth < segments.length) ancestors.push(`${segments.slice(0, depth).join('/')}/*`);
  }
  ancestors.push('*');
  return ancestors;
}

/**
 * Patterns that almost cover `pattern`: its text cut at any character, as a `/*` prefix or as it is
 * (`a/*` and `a` beside `ab/c`, `a/b/*` beside `a/bc`). Only valid ones; `*` when the cut leaves none.
 */
export const nearPatternArb = (pattern: string): fc.Arbitrary<string> =>
  fc
    .nat(pattern.length)
    .chain((cut) => fc.constantFrom(`${pattern.slice(0, cut)}/*`, pattern.slice(0, cut)))
    .map((candidate) => (isPattern(candidate) ? candidate : '*'));

/** A pattern related to `pattern`: one of its ancestors, a near miss, or any pattern. */
export const relatedPatternArb = (pattern: string): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom(...ancestorsOf(pattern)), nearPatternArb(pattern), patternArb);

/** A valid topic that `pattern` matches: the topic itself, a topic below its prefix, or any topic for `*`. */
export function topicMatchedByArb(pattern: string): fc.Arbitrary<string> {
  if (pattern === '*') return topicArb;
  if (!pattern.endsWith('/*')) return fc.constant(pattern);
  const prefix = pattern.slice(0, -2);
  const room = MAX_TOPIC_SEGMENTS - prefix.split('/').length;
  return segmentsArb(room)
    .map((below) => `${prefix}/${below.join('/')}`)
    .filter((topic) => topic.length <= MAX_TOPIC_LENGTH);
}

/**
 * A topic `pattern` matches that no other generated pattern can match unless it covers `pattern`:
 * the pattern's own topic, or its prefix with `FRESH_SEGMENT` below it (1 character, so it fits within
 * the limits whenever the pattern does).
 */
export function witnessTopic(pattern: string): string {
  if (pattern === '*') return FRESH_SEGMENT;
  return pattern.endsWith('/*') ? `${pattern.slice(0, -2)}/${FRESH_SEGMENT}` : pattern;
}
