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

/**
 * The route as both edges call it: the event in, the reply out (errors thrown, for errorReply).
 * `deadline`: epoch ms by which the store must be done (the Lambda's remaining time, or the HTTP
 * backend's share of API Gateway's integration timeout).
 */
export async function unsubscribeRoute(
  deps: UnsubscribeDeps,
  event: WebSocketEvent,
  deadline: number,
): Promise<RouteResponse> {
  const { connectionId } = event.requestContext;
  return reply(await unsubscribe(deps, { connectionId, frame: parseFrame(event), deadline }));
}

export function createUnsubscribeHandler(
  deps: UnsubscribeDeps,
): MiddyfiedHandler<WebSocketEvent, RouteResponse> {
  return routeHandler(
    (event: WebSocketEvent, context) => unsubscribeRoute(deps, event, writeDeadline(context)),
    deps,
    errorFrames(deps),
  );
}
