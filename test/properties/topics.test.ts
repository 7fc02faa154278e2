/**
 * Laws of the topic rules and the access check (sdk/protocol/src/topics.ts; docs/architecture.md,
 * "Topics and access"), over generated topics, patterns and claims.
 */
import {
  audiencePatterns,
  covers,
  expandAllowedPatterns,
  isAllowed,
  isPattern,
  isTopic,
  MAX_TOPIC_LENGTH,
  MAX_TOPIC_SEGMENTS,
  matches,
  patternError,
  topicError,
} from '@fanout/protocol';
import fc from 'fast-check';
import {
  FRESH_SEGMENT,
  patternArb,
  relatedPatternArb,
  segmentArb,
  topicArb,
  topicMatchedByArb,
  witnessTopic,
} from '../support/arbitraries';
import { checkProperty } from '../support/properties';

const RUNS = 100;
const SEGMENT = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The topic rule as the documentation words it, written independently of topics.ts. */
const documentedTopic = (value: string): boolean =>
  value.length >= 1 &&
  value.length <= MAX_TOPIC_LENGTH &&
  value.split('/').length <= MAX_TOPIC_SEGMENTS &&
  value.split('/').every((segment) => SEGMENT.test(segment));

const documentedPattern = (value: string): boolean => {
  if (value === '*') return true;
  if (!value.endsWith('/*')) return documentedTopic(value);
  const prefix = value.slice(0, -2);
  return (
    value.length <= MAX_TOPIC_LENGTH &&
    documentedTopic(prefix) &&
    prefix.split('/').length <= MAX_TOPIC_SEGMENTS - 1
  );
};

/** Text near the rules' edges: valid characters, separators, stars, spaces and letters outside ASCII. */
const roughTextArb = fc.oneof(
  fc.string({
    unit: fc.constantFrom('a', 'B', '9', '_', '.', ':', '-', '/', '*', ' ', 'é', '{'),
    maxLength: 24,
  }),
  fc
    .array(fc.oneof(segmentArb, fc.constantFrom('', '*', 'a*', 'x'.repeat(65))), { maxLength: 10 })
    .map((segments) => segments.join('/')),
  // Around the segment limit, with and without a trailing `*`.
  fc
    .tuple(fc.array(segmentArb, { minLength: 7, maxLength: 9 }), fc.constantFrom('', '/*', '*'))
    .map(([segments, end]) => `${segments.join('/')}${end}`),
  fc
    .array(fc.constantFrom('a', 'b'), { minLength: 7, maxLength: 9 })
    .map((segments) => `${segments.join('/')}/*`),
  // Around the length limit: 60-character segments adding up to 253–257 characters.
  fc.tuple(fc.constantFrom(249, 250, 251, 252, 253), fc.constantFrom('', '/*')).map(
    ([length, end]) =>
      `${
        'a'
          .repeat(length)
          .match(/.{1,60}/g)
          ?.join('/') ?? ''
      }${end}`,
  ),
  fc.string(),
);

describe('the topic rules', () => {
  it('accept exactly the topics and patterns the documentation describes', async () => {
    await checkProperty(
      fc.property(fc.oneof({ weight: 4, arbitrary: roughTextArb }, topicArb, patternArb), (value) => {
        expect({ value, topic: isTopic(value), pattern: isPattern(value) }).toEqual({
          value,
          topic: documentedTopic(value),
          pattern: documentedPattern(value),
        });
      }),
      RUNS,
    );
  });

  it('answer any input with a reason or undefined, never by throwing', async () => {
    await checkProperty(
      fc.property(fc.anything(), (value) => {
        const answers = [topicError(value), patternError(value)];
        expect(answers.filter((a) => a !== undefined && (typeof a !== 'string' || a.length === 0))).toEqual(
          [],
        );
      }),
      RUNS,
    );
  });
});

describe('audiencePatterns', () => {
  it('lists valid patterns that match the topic, once each, most specific first, ending with *', async () => {
    await checkProperty(
      fc.property(topicArb, (topic) => {
        const patterns = audiencePatterns(topic);
        expect(new Set(patterns).size).toBe(patterns.length);
        expect(patterns).toHaveLength(topic.split('/').length + 1);
        expect([patterns[0], patterns.at(-1)]).toEqual([topic, '*']);
        // Each entry is valid, matches the topic, and is at least as general as the one before it.
        const wrong = patterns.filter(
          (pattern, i) =>
            !isPattern(pattern) ||
            !matches(pattern, topic) ||
            (i > 0 && !covers(pattern, patterns[i - 1] ?? '')),
        );
        expect({ topic, wrong }).toEqual({ topic, wrong: [] });
      }),
      RUNS,
    );
  });

  it('leaves out no valid pattern that matches the topic', async () => {
    // Candidates cut from the topic itself at any character, with and without `/*`, besides any pattern:
    // `a/b/*` against `a/bc`, `a/*` against `a`, and the like.
    const caseArb = topicArb.chain((topic) =>
      fc.tuple(
        fc.constant(topic),
        fc.oneof(
          patternArb,
          fc
            .nat(topic.length)
            .chain((cut) =>
              fc.constantFrom(topic.slice(0, cut), `${topic.slice(0, cut)}/*`, `${topic.slice(0, cut)}*`),
            ),
        ),
      ),
    );
    await checkProperty(
      fc.property(caseArb, ([topic, pattern]) => {
        expect({ topic, pattern, listed: audiencePatterns(topic).includes(pattern) }).toEqual({
          topic,
          pattern,
          listed: isPattern(pattern) && matches(pattern, topic),
        });
      }),
      RUNS,
    );
  });
});

describe('covers, the access rule of a subscription', () => {
  it('is reflexive', async () => {
    await checkProperty(
      fc.property(patternArb, (pattern) =>
        expect({ pattern, covers: covers(pattern, pattern) }).toEqual({ pattern, covers: true }),
      ),
      RUNS,
    );
  });

  it('is transitive', async () => {
    const chainArb = patternArb.chain((inner) =>
      relatedPatternArb(inner).chain((middle) =>
        fc.tuple(relatedPatternArb(middle), fc.constant(middle), fc.constant(inner)),
      ),
    );
    let chained = 0;
    await checkProperty(
      fc.property(chainArb, ([outer, middle, inner]) => {
        if (!(covers(outer, middle) && covers(middle, inner))) return;
        chained += 1;
        expect({ outer, middle, inner, covers: covers(outer, inner) }).toEqual({
          outer,
          middle,
          inner,
          covers: true,
        });
      }),
      RUNS,
    );
    // The generator must produce covering chains, or the law was never put to the test.
    expect(chained).toBeGreaterThan(RUNS / 10);
  });

  it('never lets a grant reach a topic beyond it: covers(g, p) and matches(p, t) give matches(g, t)', async () => {
    const caseArb = patternArb.chain((pattern) =>
      fc.tuple(relatedPatternArb(pattern), fc.constant(pattern), topicMatchedByArb(pattern)),
    );
    await checkProperty(
      fc.property(caseArb, ([grant, pattern, topic]) => {
        expect({ pattern, topic, matches: matches(pattern, topic) }).toEqual({
          pattern,
          topic,
          matches: true,
        });
        if (!covers(grant, pattern)) return;
        expect({ grant, pattern, topic, reached: matches(grant, topic) }).toEqual({
          grant,
          pattern,
          topic,
          reached: true,
        });
      }),
      RUNS,
    );
  });

  it('refuses only grants that miss some topic the pattern matches', async () => {
    const caseArb = patternArb.chain((pattern) => fc.tuple(relatedPatternArb(pattern), fc.constant(pattern)));
    await checkProperty(
      fc.property(caseArb, ([grant, pattern]) => {
        if (covers(grant, pattern)) return;
        // A topic the pattern matches and the grant does not: refusing was not over-cautious.
        const witness = witnessTopic(pattern);
        expect({
          grant,
          pattern,
          witness,
          valid: isTopic(witness),
          byPattern: matches(pattern, witness),
          byGrant: matches(grant, witness),
        }).toEqual({ grant, pattern, witness, valid: true, byPattern: true, byGrant: false });
      }),
      RUNS,
    );
  });

  it('allows a pattern exactly when one of the grants covers it', async () => {
    const caseArb = patternArb.chain((pattern) =>
      fc.tuple(fc.array(relatedPatternArb(pattern), { maxLength: 4 }), fc.constant(pattern)),
    );
    await checkProperty(
      fc.property(caseArb, ([grants, pattern]) => {
        expect({ grants, pattern, allowed: isAllowed(pattern, grants) }).toEqual({
          grants,
          pattern,
          allowed: grants.some((grant) => covers(grant, pattern)),
        });
      }),
      RUNS,
    );
  });
});

describe('expandAllowedPatterns', () => {
  /** User ids as tokens may carry them: plain segments, and ones that try to leave their subtree. */
  const subArb = fc.oneof(
    segmentArb,
    fc.constantFrom(
      'bob/secret',
      '*',
      '',
      '..',
      'a/*',
      '{sub}',
      ' ',
      'x'.repeat(65),
      'users/bob',
      FRESH_SEGMENT,
    ),
    fc.string({ maxLength: 12 }),
  );

  it('never grants anything outside users/<sub>/ from the claim users/{sub}/*', async () => {
    const caseArb = subArb.chain((sub) => fc.tuple(fc.constant(sub), fc.array(topicArb, { maxLength: 3 })));
    await checkProperty(
      fc.property(caseArb, ([sub, otherTopics]) => {
        const { allowed, rejected } = expandAllowedPatterns(['users/{sub}/*'], sub);
        const plainSegment = isTopic(sub) && !sub.includes('/');
        // A plain segment gets its own subtree and nothing else; any other id gets nothing.
        expect({ sub, allowed, rejected }).toEqual(
          plainSegment
            ? { sub, allowed: [`users/${sub}/*`], rejected: [] }
            : { sub, allowed: [], rejected: ['users/{sub}/*'] },
        );
        const probes = [...otherTopics, `users/${sub}`, `users/${sub}x/y`, 'users/other/x'].filter(isTopic);
        const escapes = allowed.flatMap((grant) =>
          probes
            .filter((topic) => matches(grant, topic))
            .filter((topic) => topic.split('/')[0] !== 'users' || topic.split('/')[1] !== sub)
            .map((topic) => `${grant} reaches ${topic}`),
        );
        expect(escapes).toEqual([]);
      }),
      RUNS,
    );
  });

  it('keeps only valid patterns, each one a claimed entry with {sub} replaced, and reports the rest', async () => {
    const claimArb = fc.oneof(
      patternArb,
      fc.constantFrom('users/{sub}/*', '{sub}', '{sub}/*', 'a/{sub}', 'a/{sub}{sub}/b', '*/{sub}', 'a/b*'),
      roughTextArb,
    );
    await checkProperty(
      fc.property(fc.array(claimArb, { maxLength: 6 }), fc.option(subArb), (claimed, sub) => {
        const userId = sub ?? undefined;
        const { allowed, rejected } = expandAllowedPatterns(claimed, userId);
        const substitutable = userId !== undefined && isTopic(userId) && !userId.includes('/');
        const expand = (entry: string) => (substitutable ? entry.replaceAll('{sub}', userId) : entry);
        const granted = (entry: string) => !(entry.includes('{sub}') && !substitutable);
        expect(new Set(allowed).size).toBe(allowed.length);
        // Only valid patterns, each one some claimed entry expanded: never widened.
        expect(allowed.filter((grant) => !isPattern(grant))).toEqual([]);
        expect(allowed.filter((grant) => !claimed.some((e) => granted(e) && expand(e) === grant))).toEqual(
          [],
        );
        // Every entry is either granted (expanded) or reported, never silently lost.
        const lost = claimed.filter(
          (entry) => !(granted(entry) && allowed.includes(expand(entry))) && !rejected.includes(entry),
        );
        expect(lost).toEqual([]);
      }),
      RUNS,
    );
  });
});
