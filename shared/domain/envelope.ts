import { EventDetail, TopicSchema, UserIdSchema } from '@fanout/protocol';
import * as z from 'zod/mini';

/**
 * The published event as EventBridge delivers it to the SQS target: the whole envelope, serialized
 * as the message body, with the publisher's `Detail` (the protocol's EventDetail) inside.
 */

export const EventBridgeEnvelope = z.object({
  version: z.string(),
  id: z.string().check(z.minLength(1)),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: EventDetail,
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelope>;

/** The event as the fan-out engine carries it between invocations (page and retry messages). */
export const FanoutEvent = z.object({
  id: z.string().check(z.minLength(1)),
  source: z.string(),
  detailType: z.string(),
  time: z.string(),
  topics: z.array(TopicSchema),
  users: z.array(UserIdSchema),
  data: z.unknown(),
  expiresAt: z.optional(z.string()),
});
export type FanoutEvent = z.infer<typeof FanoutEvent>;

export function toFanoutEvent(envelope: EventBridgeEnvelope): FanoutEvent {
  const { detail } = envelope;
  return {
    id: envelope.id,
    source: envelope.source,
    detailType: envelope['detail-type'],
    time: envelope.time,
    topics: [...new Set(detail.topics ?? [])],
    users: [...new Set(detail.users ?? [])],
    data: detail.data,
    ...(detail.expiresAt ? { expiresAt: detail.expiresAt } : {}),
  };
}

/**
 * Work the fan-out queue carries besides EventBridge envelopes:
 * - page:  deliver one page of one audience source (and chain the next page);
 * - retry: deliver again to exactly these connections, whose earlier attempts failed.
 * Sources are indexes into `audienceSources(event)`, which is deterministic for an event.
 */
const Index = z.int().check(z.nonnegative());

export const PageMessage = z.object({
  kind: z.literal('fanout.page'),
  event: FanoutEvent,
  source: Index,
  cursor: z.optional(z.string()),
  /** When the event's audience reading began (epoch ms): de-duplication trusts only older lists. */
  startedAt: z.optional(z.number()),
});
export type PageMessage = z.infer<typeof PageMessage>;

export const RetryMessage = z.object({
  kind: z.literal('fanout.retry'),
  event: FanoutEvent,
  /** Retry messages so far for these connections; a hand-over at the deadline keeps the count. */
  attempt: z.int().check(z.positive()),
  targets: z.array(
    z.object({
      source: Index,
      connectionIds: z.array(z.string()).check(z.minLength(1)),
      /** When the connections that may still be opening opened (epoch ms), by id. */
      connectedAt: z.optional(z.record(z.string(), z.number())),
    }),
  ),
  /** When the first post to these connections failed (epoch ms): the retry window starts there. */
  firstFailedAt: z.optional(z.number()),
});
export type RetryMessage = z.infer<typeof RetryMessage>;

export type WorkMessage = PageMessage | RetryMessage;
export const WorkMessage = z.discriminatedUnion('kind', [PageMessage, RetryMessage]);
