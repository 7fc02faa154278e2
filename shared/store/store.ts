import type { AudienceMember, AudienceSource } from '../domain/audience.js';

/**
 * ConnectionStore: who is connected, what they subscribed to, and who should get an event.
 *
 * Guarantees every implementation keeps (the contract tests in test/ run against each):
 * - Every row it writes carries `expiresAt` (epoch seconds, connectedAt + 2 h + margin), so rows
 *   never outlive their connection even when `$disconnect` never arrives.
 * - `removeConnection` deletes every row of the connection (its metadata, its subscription rows,
 *   the topic index rows and the user index row) and is idempotent. It first hands what the
 *   connection held to `beforeDelete`, if given; when that throws, nothing is deleted.
 * - `subscribe` is all-or-nothing with respect to the limit: it either adds every new pattern or
 *   throws `too_many_subscriptions` and adds none.
 * - `audiencePage` never returns one connection twice within a source and pages with an opaque
 *   cursor; it reads only the rows of that source (no scans). Each member lists every pattern the
 *   connection is subscribed to, which `deliveredByEarlierSource` uses to de-duplicate.
 * - Concurrent subscribe/unsubscribe on one connection are serialized with a revision number on the
 *   connection, and each call re-reads it after writing its index rows and repairs them when a newer
 *   revision (or a disconnect) overtook it, so the index rows converge to the connection's latest set.
 *   A call that loses to concurrent writers retries until its deadline; when it gives up, it throws
 *   `internal` having changed nothing, so its answer always matches what is stored.
 * - Every write sequence may stop at any step and be retried: the retry leaves the rows as if the
 *   first call had finished, and no step in between makes a subscription held before the call miss
 *   an event. Members carry `listedAt` only on lists that are safe to de-duplicate with.
 * - Connection ids are never reused (API Gateway assigns a fresh one per connection), so
 *   `registerConnection` is not conditional.
 * - `audiencePage` takes a limit of at least 1 and throws on a cursor (or `through`) it did not issue
 *   for that source. A row written after a read that gave cursor C is either up to C, and so found
 *   by a read again `through` C, or after C: never in neither.
 */
export interface NewConnection {
  connectionId: string;
  /** Epoch milliseconds, as API Gateway's requestContext.connectedAt. */
  connectedAt: number;
  userId?: string;
  sourceIp?: string;
  /** Patterns this connection may subscribe to (already expanded from the token). */
  allowedTopics: readonly string[];
}

/** What a connection held when it was removed: its patterns and its user. */
export interface HeldStreams {
  userId?: string;
  patterns: string[];
}

export interface SubscribeResult {
  /** Patterns now subscribed that were requested (including ones already held). */
  subscriptions: string[];
  /** Total subscriptions the connection holds afterwards. */
  total: number;
}

/** How long a write may keep retrying conflicts with concurrent writers on the same connection. */
export interface WriteOptions {
  /**
   * Epoch ms after which no new attempt starts: the caller's own deadline (a route's Lambda timeout,
   * less what it needs to reply). Without one, a store makes a small fixed number of attempts.
   */
  deadline?: number;
}

export interface AudiencePage {
  members: AudienceMember[];
  /** Present when more members may follow; pass it back to get them. */
  cursor?: string;
}

/** The limit rule of `audiencePage`, for every implementation: a RangeError unless a positive integer. */
export function checkAudienceLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`audience page limit must be a positive integer, got ${limit}`);
  }
}

/** A cursor `audiencePage` did not issue for that source: the page message carrying it is unusable. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

export const isInvalidCursorError = (err: unknown): err is InvalidCursorError =>
  err instanceof InvalidCursorError;

export interface ConnectionStore {
  registerConnection(connection: NewConnection): Promise<void>;
  /**
   * Adds `patterns` to the connection's subscriptions. Throws FanoutError `too_many_subscriptions`
   * when the result would hold more than `maxSubscriptions`, and `internal` when the connection is
   * not registered.
   */
  subscribe(
    connectionId: string,
    patterns: readonly string[],
    maxSubscriptions: number,
    options?: WriteOptions,
  ): Promise<SubscribeResult>;
  /** Removes `patterns` (those not held are ignored). Returns the patterns that were removed. */
  unsubscribe(connectionId: string, patterns: readonly string[], options?: WriteOptions): Promise<string[]>;
  removeConnection(connectionId: string, beforeDelete?: (held: HeldStreams) => Promise<void>): Promise<void>;
  /**
   * Up to `limit` members of `source` after `cursor` (from the start without one). With `through`,
   * a cursor this source issued, no row after the one it names: the range an earlier read ended at,
   * read again with every row written into it since, and no cursor once that row is reached.
   */
  audiencePage(
    source: AudienceSource,
    limit: number,
    cursor?: string,
    through?: string,
  ): Promise<AudiencePage>;
}
