import { isAllowed, patternError } from '@fanout/protocol';
import { FanoutError } from './errors.js';

/**
 * The topic rules of the protocol (`@fanout/protocol`), as the routes enforce them: each failure
 * becomes a FanoutError with its stable code.
 */

/** Longest part of a client's bad value quoted back in an error message. */
const MAX_QUOTED = 64;

/**
 * A client's value, for an error message: strings quoted and cut short, anything else named by its
 * type. Never `String(value)`, which recurses into an array nested thousands deep until the stack
 * overflows.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value);
  }
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

/** Throws `invalid_topic` unless every entry is a valid pattern. */
export function assertPatterns(values: readonly unknown[]): asserts values is string[] {
  for (const value of values) {
    const problem = patternError(value);
    if (problem) {
      const shown = describeValue(value);
      throw new FanoutError('invalid_topic', `${shown} is not a valid topic or pattern: it ${problem}`, {
        topic: typeof value === 'string' ? value.slice(0, MAX_QUOTED) : shown,
      });
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
