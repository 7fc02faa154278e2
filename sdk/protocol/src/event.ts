import * as z from 'zod/mini';
import { MAX_TOPIC_LENGTH, MAX_TOPICS_PER_EVENT, MAX_USERS_PER_EVENT } from './limits.js';
import { topicError } from './topics.js';

/**
 * What a publisher puts in the `Detail` of its EventBridge entry: the topics and users to deliver
 * to, and the data. The platform parses every event with this schema; the publisher SDK checks with
 * it before sending, so both sides reject the same events.
 */

/** A topic (not a pattern), with the topic rules' message when it breaks them. */
export const TopicSchema = z.string().check((ctx) => {
  const problem = topicError(ctx.value);
  if (problem)
    ctx.issues.push({ code: 'custom', message: `topic "${ctx.value}" ${problem}`, input: ctx.value });
});

/** A user id: the JWT `sub` of the connections to deliver to. */
export const UserIdSchema = z.string().check(z.minLength(1), z.maxLength(MAX_TOPIC_LENGTH));

/**
 * The `Detail` schema: at least one topic or user, at most 20 topics and 100 users, any JSON `data`,
 * an optional ISO 8601 `expiresAt`.
 *
 * @example
 * ```ts
 * check(EventDetail, { topics: ['orders/eu/1'], data: { status: 'shipped' } }); // { ok: true, … }
 * ```
 */
export const EventDetail = z
  .object({
    /** Topics to publish on; subscribers of each topic, or of a wildcard above it, receive the event. */
    topics: z.optional(z.array(TopicSchema).check(z.maxLength(MAX_TOPICS_PER_EVENT))),
    /** User ids (the JWT `sub`) whose connections all receive the event. */
    users: z.optional(z.array(UserIdSchema).check(z.maxLength(MAX_USERS_PER_EVENT))),
    /** Any JSON value, delivered unchanged. */
    data: z.unknown(),
    /** ISO 8601 time after which the event is dropped instead of delivered. */
    expiresAt: z.optional(z.iso.datetime({ offset: true })),
  })
  .check(
    z.refine((d) => (d.topics?.length ?? 0) + (d.users?.length ?? 0) > 0, {
      message: 'detail needs at least one of "topics" or "users"',
    }),
  );
/** A valid `Detail`, as parsed. */
export type EventDetail = z.infer<typeof EventDetail>;
