import { type ReplyFrame, UnsubscribeFrame } from '@fanout/protocol';
import type { MiddyfiedHandler } from '@middy/core';
import { assertPatterns } from '../domain/topics.js';
import type { Observability } from '../observability/powertools.js';
import type { ConnectionStore } from '../store/store.js';
import { errorFrames } from './error-frames.js';
import type { RouteResponse, WebSocketEvent } from './events.js';
import { routeHandler } from './middy.js';
import { assertTopicCount, parseFrame, reply, validateFrame, withId, writeDeadline } from './request.js';

export interface UnsubscribeDeps extends Observability {
  store: ConnectionStore;
}

export interface UnsubscribeInput {
  connectionId: string;
  /** The parsed frame, not yet validated. */
  frame: unknown;
  /** Epoch ms by which the store must be done, retrying conflicts with concurrent writes. */
  deadline?: number;
}

/**
 * Removes the requested patterns. No ACL check: dropping a subscription never widens access. The
 * reply echoes what was asked (patterns not held are not an error), so a client's view converges.
 */
export async function unsubscribe(deps: UnsubscribeDeps, input: UnsubscribeInput): Promise<ReplyFrame> {
  const frame = validateFrame(UnsubscribeFrame, input.frame, 'unsubscribe');
  assertTopicCount(frame.topics);
  const { topics } = frame;
  assertPatterns(topics);
  const requested = [...new Set(topics)];
  const removed = await deps.store.unsubscribe(input.connectionId, requested, {
    ...(input.deadline === undefined ? {} : { deadline: input.deadline }),
  });
  deps.logger.info('unsubscribed', { connectionId: input.connectionId, requested, removed });
  deps.metrics.addMetric('Unsubscribed', 'Count', 1);
  return { type: 'unsubscribed', ...withId(frame.id), topics: requested };
}

export function createUnsubscribeHandler(
  deps: UnsubscribeDeps,
): MiddyfiedHandler<WebSocketEvent, RouteResponse> {
  return routeHandler(
    async (event: WebSocketEvent, context) => {
      const { connectionId } = event.requestContext;
      const deadline = writeDeadline(context);
      return reply(await unsubscribe(deps, { connectionId, frame: parseFrame(event), deadline }));
    },
    deps,
    errorFrames(deps),
  );
}
