import type { Position } from '@fanout/protocol';
import type { FanoutEvent } from '../domain/envelope.js';

/**
 * HistoryStore: what was delivered, kept for a while so that a connection that comes back can be
 * sent what it missed (docs/architecture.md, "Recovery").
 *
 * An event's body is stored once; each stream it was delivered on (a subscription pattern, or a
 * user's direct messages) gets a small pointer to it at the position of the delivery page. A stream
 * is read after a position, oldest first. Everything expires with the retention window (TTL), and
 * every read ignores what is past it, whether TTL has removed it yet or not.
 *
 * Guarantees every implementation keeps (the contract tests run against each):
 * - `record` resolves only once the body and every pointer are stored; recording the same event or
 *   pointer again changes nothing a reader can see (a redelivered record may do it twice).
 * - `read` returns the pointers of one stream strictly after `after`, in position order (ties in
 *   event id order), at most `limit`, and says whether more follow; never one older than the
 *   retention window.
 * - `events` returns the bodies it still holds, in any order; an expired or unknown id is left out.
 * - `remember` marks streams as recently held (a connection left them); `held` tells which of a
 *   list still are, within the retention window.
 */
export type Stream = { kind: 'pattern'; pattern: string } | { kind: 'user'; userId: string };

/**
 * The bound that closes the race between a delivery page and a recovering subscriber: a page that
 * took longer than this from reading its audience to storing its pointers reads the audience again,
 * and a recovery waits this long after storing its subscription before it reads the history. Either
 * the page's (second) read finds the new subscription, or its pointer is stored before the recovery
 * reads (docs/architecture.md, "Recovery").
 */
export const POINTER_WRITE_BOUND_MS = 500;

export interface HistoryPointer {
  position: Position;
  eventId: string;
}

export interface HistoryPage {
  pointers: HistoryPointer[];
  /** More pointers follow the last one returned. */
  more: boolean;
}

export interface HistoryStore {
  /** How long history is kept, in seconds (0: none is kept, and nothing can be recovered). */
  readonly retentionSeconds: number;
  /** Stores one pointer per stream at `position`, and the event's body when `withBody`. */
  record(
    event: FanoutEvent,
    streams: readonly Stream[],
    position: Position,
    withBody: boolean,
  ): Promise<void>;
  read(stream: Stream, after: Position, limit: number): Promise<HistoryPage>;
  events(eventIds: readonly string[]): Promise<FanoutEvent[]>;
  /** Marks `streams` as held until the retention window from now has passed. */
  remember(streams: readonly Stream[]): Promise<void>;
  /** For each stream, whether it was remembered within the retention window. */
  held(streams: readonly Stream[]): Promise<boolean[]>;
}

/** The streams a connection held: each of its patterns, and its user's direct messages. */
export const streamsHeld = (held: { userId?: string; patterns: readonly string[] }): Stream[] => [
  ...held.patterns.map((pattern) => ({ kind: 'pattern', pattern }) as const),
  ...(held.userId ? [{ kind: 'user', userId: held.userId } as const] : []),
];

/**
 * The `beforeDelete` of `ConnectionStore.removeConnection` that remembers what a leaving connection
 * held, so its streams keep getting history until it may come back (undefined without history).
 */
export const rememberLeaving = (history: HistoryStore | undefined) =>
  history && history.retentionSeconds > 0
    ? (held: { userId?: string; patterns: readonly string[] }) => history.remember(streamsHeld(held))
    : undefined;

/** The key of a stream, as the stores and the messages that name streams spell it. */
export const streamKey = (stream: Stream): string =>
  stream.kind === 'pattern' ? `P#${stream.pattern}` : `U#${stream.userId}`;
