import type { FanoutEvent, PageMessage, RetryMessage } from '../domain/envelope.js';
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

/**
 * Retry messages naming exactly `failed` (grouped by source, in first-seen order), as few as the id
 * cap allows: usually one per event and record.
 */
export function retryMessages(
  event: FanoutEvent,
  failed: readonly Delivery[],
  attempt: number,
  maxIds = MAX_IDS_PER_RETRY_MESSAGE,
): RetryMessage[] {
  const messages: RetryMessage[] = [];
  for (let start = 0; start < failed.length; start += maxIds) {
    const bySource = new Map<number, string[]>();
    for (const { source, connectionId } of failed.slice(start, start + maxIds)) {
      const ids = bySource.get(source) ?? [];
      ids.push(connectionId);
      bySource.set(source, ids);
    }
    const targets = [...bySource].map(([source, connectionIds]) => ({ source, connectionIds }));
    messages.push({ kind: 'fanout.retry', event, attempt, targets });
  }
  return messages;
}
