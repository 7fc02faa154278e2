import { patternError, topicError } from '@fanout/protocol';
import { UsageError } from './errors.js';

/** Refuses what is not a subscription pattern by the protocol's rules (a topic, `prefix/*`, `*`). */
export function checkPattern(pattern: string, shown = pattern): void {
  const problem = patternError(pattern);
  if (problem !== undefined) {
    throw new UsageError(
      'invalid_pattern',
      `"${shown}" is not a topic pattern: it ${problem} (a pattern is a topic, prefix/*, or *)`,
    );
  }
}

/**
 * Refuses a `--topics` entry the authorizer would drop (shared/auth expands the claim with the
 * protocol's expandAllowedPatterns): a pattern after `{sub}` is replaced by the user id, and `{sub}`
 * only with a user id that is one topic segment.
 */
export function checkGrant(entry: string, sub: string): void {
  if (entry.includes('{sub}') && (sub.includes('/') || topicError(sub) !== undefined)) {
    throw new UsageError(
      'invalid_pattern',
      `"${entry}" uses {sub}, which needs a --sub that is one topic segment (A-Z a-z 0-9 _ . : -), got "${sub}"`,
    );
  }
  checkPattern(entry.replaceAll('{sub}', sub), entry);
}
