import { audiencePatterns } from '@fanout/protocol';
import type { FanoutEvent } from './envelope.js';

/**
 * Where an event's audience comes from: one source per subscription pattern that matches any of
 * its topics (most specific first, per topic, in the order the topics were published), then one per
 * user. The list is deterministic for an event, so page and retry messages refer to sources by index.
 */
export type AudienceSource =
  | { kind: 'pattern'; pattern: string; topic: string }
  | { kind: 'user'; userId: string };

export function audienceSources(event: Pick<FanoutEvent, 'topics' | 'users'>): AudienceSource[] {
  const sources: AudienceSource[] = [];
  const seen = new Set<string>();
  for (const topic of event.topics) {
    for (const pattern of audiencePatterns(topic)) {
      if (seen.has(pattern)) continue;
      seen.add(pattern);
      sources.push({ kind: 'pattern', pattern, topic });
    }
  }
  for (const userId of new Set(event.users)) sources.push({ kind: 'user', userId });
  return sources;
}

/** A connection as an audience lookup returns it. */
export interface AudienceMember {
  connectionId: string;
  userId?: string;
  /** Every pattern the connection is subscribed to (kept on each index row for de-duplication). */
  subscriptions: readonly string[];
  /**
   * When this row's copy of `subscriptions` was written (epoch ms). Absent on rows that do not say:
   * their list is then never trusted to skip a connection.
   */
  listedAt?: number;
  /** When the connection opened (epoch ms, API Gateway's connectedAt). */
  connectedAt?: number;
}

/**
 * How long after a row's list was written it is trusted for de-duplication, measured against the
 * moment the event's audience reading began. It absorbs the clock difference between the function
 * that wrote the row and the one reading it (Lambda clocks are NTP-disciplined, well within this).
 */
export const LIST_SETTLE_MS = 2_000;

/** What one invocation knows about an event's audience while it reads it. */
export interface AudienceReading {
  /** When the event's audience reading began (the first invocation that handled it), epoch ms. */
  startedAt: number;
  /** Sources read completely by this invocation: a connection not found there was not in them. */
  complete: ReadonlySet<number>;
}

/**
 * De-duplication without shared state: a connection is delivered by the first source that holds it,
 * and while reading source `index`, a member is skipped when an earlier source delivers to it. Each
 * page decides this alone, so pages can run in parallel in different invocations.
 *
 * The member's list only *claims* that an earlier source holds it; a subscribe landing between two
 * source reads makes the claim true for the later read and false for the earlier one. So the claim
 * is trusted only when it cannot be stale: the row's list was written (and, the store guarantees,
 * every row it names was created) before the event's reading began, and the earlier source was not
 * read here without the connection. Otherwise the connection is delivered: a duplicate is allowed,
 * a loss is not (docs/architecture.md, "The fan-out algorithm").
 */
export function deliveredByEarlierSource(
  member: AudienceMember,
  sources: readonly AudienceSource[],
  index: number,
  reading: AudienceReading,
): boolean {
  const owner = claimedEarlierSource(member, sources, index);
  if (owner === undefined) return false;
  // This invocation read the owner completely and did not meet the connection there.
  if (reading.complete.has(owner)) return false;
  return member.listedAt !== undefined && member.listedAt < reading.startedAt - LIST_SETTLE_MS;
}

/** The first source before `index` that the member's list says holds it. */
function claimedEarlierSource(
  member: AudienceMember,
  sources: readonly AudienceSource[],
  index: number,
): number | undefined {
  for (let i = 0; i < index && i < sources.length; i++) {
    const source = sources[i];
    if (source?.kind === 'pattern' && member.subscriptions.includes(source.pattern)) return i;
    if (source?.kind === 'user' && member.userId === source.userId) return i;
  }
  return undefined;
}
