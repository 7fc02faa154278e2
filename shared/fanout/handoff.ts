import { backoffDelay } from '@fanout/protocol';
import type { FanoutEvent, PageMessage, RetryMessage } from '../domain/envelope.js';
import { MAX_DELAY_SECONDS } from '../queue/queue.js';
import type { Delivery } from './deliver.js';

/**
 * Connection ids per retry message: keeps a message far below SQS's 256 KiB even next to a 128 KB
 * payload (1,000 ids of API Gateway's ~16 characters ≈ 20 KB).
 */
export const MAX_IDS_PER_RETRY_MESSAGE = 1000;

/** Source `source` of `event` (from `cursor`, when given) for another invocation to deliver. */
export function pageMessage(
  event: FanoutEvent,
  source: number,
  at: { cursor?: string; startedAt?: number } = {},
): PageMessage {
  const { cursor, startedAt } = at;
  return {
    kind: 'fanout.page',
    event,
    source,
    ...(cursor === undefined ? {} : { cursor }),
    // JSON has no infinity: an unknown start is simply left out.
    ...(startedAt === undefined || !Number.isFinite(startedAt) ? {} : { startedAt }),
  };
}

/** What a retry message says besides its connections. */
export interface RetryOf {
  attempt: number;
  /** When the first post to these connections failed; absent for a plain hand-over. */
  firstFailedAt?: number;
  /** Connections that opened after this moment (epoch ms) keep their `connectedAt`. */
  connectedAfter?: number;
}

/**
 * Retry messages naming exactly `deliveries` (grouped by source, in first-seen order), as few as
 * the id cap allows: usually one per event and record. A connection young enough that a 410 may
 * still mean "connecting" keeps its opening time, so the retry knows that too.
 */
export function retryMessages(
  event: FanoutEvent,
  deliveries: readonly Delivery[],
  of: RetryOf,
  maxIds = MAX_IDS_PER_RETRY_MESSAGE,
): RetryMessage[] {
  const messages: RetryMessage[] = [];
  const connectedAfter = of.connectedAfter ?? Number.POSITIVE_INFINITY;
  for (let start = 0; start < deliveries.length; start += maxIds) {
    const bySource = new Map<number, { connectionIds: string[]; connectedAt?: Record<string, number> }>();
    for (const { source, connectionId, connectedAt } of deliveries.slice(start, start + maxIds)) {
      const target = bySource.get(source) ?? { connectionIds: [] };
      target.connectionIds.push(connectionId);
      if (connectedAt !== undefined && connectedAt > connectedAfter) {
        target.connectedAt = { ...target.connectedAt, [connectionId]: connectedAt };
      }
      bySource.set(source, target);
    }
    const targets = [...bySource].map(([source, target]) => ({ source, ...target }));
    messages.push({
      kind: 'fanout.retry',
      event,
      attempt: of.attempt,
      targets,
      ...(of.firstFailedAt === undefined ? {} : { firstFailedAt: of.firstFailedAt }),
    });
  }
  return messages;
}

/**
 * The SQS delay of retry message number `attempt`: equal-jittered growth from `baseSeconds`,
 * doubling to SQS's 900-second maximum, so a retry window of minutes takes a handful of messages
 * and a throttle or an outage gets time to pass.
 */
export function retryDelaySeconds(attempt: number, baseSeconds: number, random: () => number): number {
  const policy = {
    baseDelayMs: baseSeconds * 1000,
    maxDelayMs: MAX_DELAY_SECONDS * 1000,
    jitter: 'equal',
  } as const;
  return Math.round(backoffDelay(attempt - 1, policy, random) / 1000);
}
