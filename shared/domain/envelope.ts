import { z } from 'zod';
import { MAX_TOPIC_LENGTH } from './limits.js';
import { topicError } from './topics.js';

/**
 * The published event (design 2.1) as EventBridge delivers it to the SQS target: the whole
 * envelope, serialized as the message body.
 */

const TopicSchema = z.string().superRefine((value, ctx) => {
  const problem = topicError(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `topic "${value}" ${problem}` });
});

const UserSchema = z.string().min(1).max(MAX_TOPIC_LENGTH);

export const FanoutDetail = z
  .object({
    topics: z.array(TopicSchema).max(20).optional(),
    users: z.array(UserSchema).max(100).optional(),
    data: z.unknown(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((d) => (d.topics?.length ?? 0) + (d.users?.length ?? 0) > 0, {
    message: 'detail needs at least one of "topics" or "users"',
  });
export type FanoutDetail = z.infer<typeof FanoutDetail>;

export const EventBridgeEnvelope = z.object({
  version: z.string(),
  id: z.string().min(1),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: FanoutDetail,
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelope>;

/** The event as the fan-out engine carries it between invocations (page and retry messages). */
export const FanoutEvent = z.object({
  id: z.string().min(1),
  source: z.string(),
  detailType: z.string(),
  time: z.string(),
  topics: z.array(TopicSchema),
  users: z.array(UserSchema),
  data: z.unknown(),
  expiresAt: z.string().optional(),
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
export const PageMessage = z.object({
  kind: z.literal('fanout.page'),
  event: FanoutEvent,
  source: z.number().int().nonnegative(),
  cursor: z.string().optional(),
});
export type PageMessage = z.infer<typeof PageMessage>;

export const RetryMessage = z.object({
  kind: z.literal('fanout.retry'),
  event: FanoutEvent,
  attempt: z.number().int().positive(),
  targets: z.array(
    z.object({ source: z.number().int().nonnegative(), connectionIds: z.array(z.string()).min(1) }),
  ),
});
export type RetryMessage = z.infer<typeof RetryMessage>;

export type WorkMessage = PageMessage | RetryMessage;
export const WorkMessage = z.discriminatedUnion('kind', [PageMessage, RetryMessage]);
