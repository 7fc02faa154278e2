import { isAllowed, patternError } from '@fanout/protocol';
import { FanoutError } from './errors.js';

/**
 * The topic rules of the protocol (`@fanout/protocol`), as the routes enforce them: each failure
 * becomes a FanoutError with its stable code.
 */

/** Throws `invalid_topic` unless every entry is a valid pattern. */
export function assertPatterns(values: readonly unknown[]): asserts values is string[] {
  for (const value of values) {
    const problem = patternError(value);
    if (problem) {
      throw new FanoutError(
        'invalid_topic',
        `"${String(value)}" is not a valid topic or pattern: it ${problem}`,
        {
          topic: value,
        },
      );
    }
  }
}

/** Throws `forbidden` for the first pattern that no allowed pattern covers. */
export function assertAllowed(patterns: readonly string[], allowed: readonly string[]): void {
  for (const pattern of patterns) {
    if (!isAllowed(pattern, allowed)) {
      throw new FanoutError('forbidden', `not allowed to subscribe to "${pattern}"`, { topic: pattern });
    }
  }
}
