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
}

/**
 * De-duplication without shared state: a connection is delivered to by the first source that
 * contains it. While reading source `index`, a member is skipped when an earlier source also holds
 * it; each page decides this alone, so pages can run in parallel in different invocations.
 */
export function deliveredByEarlierSource(
  member: AudienceMember,
  sources: readonly AudienceSource[],
  index: number,
): boolean {
  for (let i = 0; i < index && i < sources.length; i++) {
    const source = sources[i];
    if (source?.kind === 'pattern' && member.subscriptions.includes(source.pattern)) return true;
    if (source?.kind === 'user' && member.userId === source.userId) return true;
  }
  return false;
}
