import { isPattern } from '@fanout/protocol';
import type { Principal } from '../auth/verifier.js';
import type { AuthorizerContext } from './events.js';

/**
 * The authorizer → route hand-off. The authorizer encodes a principal into its `context`; API Gateway
 * then repeats that context on every later event of the connection (requestContext.authorizer), so
 * routes read grants from the event instead of from the store. Both directions live here so the
 * encoding cannot drift.
 */
export interface Grants {
  userId?: string;
  allowedTopics: string[];
}

export function encodeGrants(principal: Principal): AuthorizerContext {
  const userId = principal.userId ?? '';
  return {
    userId,
    // A header carries visible ASCII only, and a `sub` may be any text (docs/architecture.md,
    // "Routes on your own HTTP backend"); the topics are patterns, ASCII by their syntax.
    userIdEncoded: encodeURIComponent(userId),
    topics: JSON.stringify(principal.allowedTopics),
  };
}

export type DecodedGrants = { ok: true; grants: Grants } | { ok: false; problem: string };

/** Never throws: a missing or garbled context is reported, and the caller decides (refuse, or no grants). */
export function decodeGrants(
  authorizer: Readonly<Record<string, unknown>> | null | undefined,
): DecodedGrants {
  if (!authorizer) return { ok: false, problem: 'no authorizer context on the event' };
  const { userId, topics } = authorizer;
  if (userId !== undefined && typeof userId !== 'string') {
    return { ok: false, problem: 'authorizer context "userId" is not a string' };
  }
  if (typeof topics !== 'string') return { ok: false, problem: 'authorizer context "topics" is missing' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(topics);
  } catch {
    return { ok: false, problem: 'authorizer context "topics" is not JSON' };
  }
  if (!Array.isArray(parsed)) return { ok: false, problem: 'authorizer context "topics" is not a list' };
  const entries: unknown[] = parsed;
  // The authorizer only emits valid patterns; anything else means the context did not come from it.
  if (!entries.every(isPattern)) {
    return { ok: false, problem: 'authorizer context "topics" holds an invalid pattern' };
  }
  return { ok: true, grants: { ...(userId ? { userId } : {}), allowedTopics: entries } };
}
