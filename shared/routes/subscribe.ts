import { DEFAULT_MAX_SUBSCRIPTIONS, type ReplyFrame, SubscribeFrame } from '@fanout/protocol';
import type { MiddyfiedHandler } from '@middy/core';
import { assertAllowed, assertPatterns } from '../domain/topics.js';
import type { Observability } from '../observability/powertools.js';
import type { ConnectionStore } from '../store/store.js';
import { errorFrames } from './error-frames.js';
import type { RouteResponse, WebSocketEvent } from './events.js';
import { decodeGrants } from './grants.js';
import { routeHandler } from './middy.js';
import { assertTopicCount, parseFrame, reply, validateFrame, withId, writeDeadline } from './request.js';

export interface SubscribeDeps extends Observability {
  store: ConnectionStore;
  /** Cap on subscriptions per connection (default DEFAULT_MAX_SUBSCRIPTIONS). */
  maxSubscriptions?: number;
}

export interface SubscribeInput {
  connectionId: string;
  /** The parsed frame, not yet validated. */
  frame: unknown;
  /** Patterns this connection may subscribe to (from the authorizer context). */
  allowedTopics: readonly string[];
  /** Epoch ms by which the store must be done, retrying conflicts with concurrent subscribes. */
  deadline?: number;
}

/**
 * Checks run cheapest first and all before any write: shape (`bad_request`), each pattern
 * (`invalid_topic`), the ACL (`forbidden`); the store enforces the per-connection cap atomically
 * (`too_many_subscriptions`), so a rejected frame subscribes nothing.
 */
export async function subscribe(deps: SubscribeDeps, input: SubscribeInput): Promise<ReplyFrame> {
  const frame = validateFrame(SubscribeFrame, input.frame, 'subscribe');
  assertTopicCount(frame.topics);
  const { topics } = frame;
  assertPatterns(topics);
  assertAllowed(topics, input.allowedTopics);
  const max = deps.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS;
  const result = await deps.store.subscribe(input.connectionId, topics, max, {
    ...(input.deadline === undefined ? {} : { deadline: input.deadline }),
  });
  deps.logger.info('subscribed', {
    connectionId: input.connectionId,
    topics: result.subscriptions,
    total: result.total,
  });
  deps.metrics.addMetric('Subscribed', 'Count', 1);
  return { type: 'subscribed', ...withId(frame.id), topics: result.subscriptions };
}

export function createSubscribeHandler(deps: SubscribeDeps): MiddyfiedHandler<WebSocketEvent, RouteResponse> {
  const max = deps.maxSubscriptions;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new RangeError(`maxSubscriptions must be a positive integer, got ${max}`);
  }
  return routeHandler(
    async (event: WebSocketEvent, context) => {
      const { connectionId, authorizer } = event.requestContext;
      const frame = parseFrame(event);
      const decoded = decodeGrants(authorizer);
      if (!decoded.ok) {
        // Fail closed: without readable grants the connection may subscribe to nothing.
        deps.logger.error('authorizer context unusable; no topics allowed', {
          connectionId,
          problem: decoded.problem,
        });
      }
      const allowedTopics = decoded.ok ? decoded.grants.allowedTopics : [];
      const deadline = writeDeadline(context);
      return reply(await subscribe(deps, { connectionId, frame, allowedTopics, deadline }));
    },
    deps,
    errorFrames(deps),
  );
}
