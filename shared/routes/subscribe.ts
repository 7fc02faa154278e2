import {
  DEFAULT_MAX_SUBSCRIPTIONS,
  isPosition,
  MAX_TOPICS_PER_FRAME,
  type Position,
  positionAt,
  type ReplyFrame,
  SubscribeFrame,
  sleep,
  USER_STREAM,
} from '@fanout/protocol';
import type { MiddyfiedHandler } from '@middy/core';
import { FanoutError } from '../domain/errors.js';
import { assertAllowed, assertPatterns } from '../domain/topics.js';
import type { Observability } from '../observability/powertools.js';
import { POINTER_WRITE_BOUND_MS } from '../store/history.js';
import type { ConnectionStore } from '../store/store.js';
import { errorFrames } from './error-frames.js';
import type { RouteResponse, WebSocketEvent } from './events.js';
import { decodeGrants } from './grants.js';
import { routeHandler } from './middy.js';
import { type RecoveryDeps, recover } from './recovery.js';
import { assertTopicCount, parseFrame, reply, validateFrame, withId, writeDeadline } from './request.js';

export interface SubscribeDeps extends Observability {
  store: ConnectionStore;
  /** Cap on subscriptions per connection (default DEFAULT_MAX_SUBSCRIPTIONS). */
  maxSubscriptions?: number;
  /** Sends missed events again when a subscribe names `since`; without it, recovery is refused. */
  recovery?: Omit<RecoveryDeps, 'log'> & { pause?: (ms: number) => Promise<void> };
  now?: () => number;
}

export interface SubscribeInput {
  connectionId: string;
  /** The parsed frame, not yet validated. */
  frame: unknown;
  /** Patterns this connection may subscribe to (from the authorizer context). */
  allowedTopics: readonly string[];
  /** The connection's user (from the authorizer context): the stream `since.$user` recovers. */
  userId?: string;
  /** Epoch ms by which the store must be done, retrying conflicts with concurrent subscribes. */
  deadline?: number;
}

/**
 * Checks run cheapest first and all before any write: shape (`bad_request`), each pattern
 * (`invalid_topic`), the ACL (`forbidden`), `since`; the store enforces the per-connection cap
 * atomically (`too_many_subscriptions`), so a rejected frame subscribes nothing. With `since`, the
 * subscription is stored first (so nothing published from now on is missed), then what was missed
 * before is sent again, and the reply says whether that recovery was complete.
 */
export async function subscribe(deps: SubscribeDeps, input: SubscribeInput): Promise<ReplyFrame> {
  const frame = validateFrame(SubscribeFrame, input.frame, 'subscribe');
  const since =
    frame.since === undefined ? undefined : validateSince(frame.since, frame.topics, input.userId);
  // Only a recovery of direct messages may subscribe to no topic.
  const recoveringOnly = frame.topics.length === 0 && frame.since !== undefined && USER_STREAM in frame.since;
  if (!recoveringOnly) assertTopicCount(frame.topics);
  const { topics } = frame;
  assertPatterns(topics);
  assertAllowed(topics, input.allowedTopics);
  const max = deps.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS;
  const result =
    topics.length === 0
      ? { subscriptions: [], total: 0 }
      : await deps.store.subscribe(input.connectionId, topics, max, {
          ...(input.deadline === undefined ? {} : { deadline: input.deadline }),
        });
  deps.logger.info('subscribed', {
    connectionId: input.connectionId,
    topics: result.subscriptions,
    total: result.total,
  });
  deps.metrics.addMetric('Subscribed', 'Count', 1);
  const recovery = since === undefined ? undefined : await recoverSince(deps, input, since);
  return {
    type: 'subscribed',
    ...withId(frame.id),
    topics: result.subscriptions,
    ...(recovery ?? {}),
    position: positionAt((deps.now ?? Date.now)()),
    ...(deps.recovery ? { settleMs: deps.recovery.marginMs } : {}),
  };
}

/**
 * `since` checked: every key a pattern of the frame, or `$user` (ignored for a connection without a
 * user: a client cannot tell, and has nothing to recover there), every value a position.
 */
function validateSince(
  since: Readonly<Record<string, unknown>>,
  topics: readonly unknown[],
  userId: string | undefined,
): Map<string, Position> {
  const checked = new Map<string, Position>();
  const entries = Object.entries(since);
  if (entries.length > MAX_TOPICS_PER_FRAME + 1) {
    throw new FanoutError('bad_request', `"since" names more than ${MAX_TOPICS_PER_FRAME + 1} streams`);
  }
  for (const [key, value] of entries) {
    if (key !== USER_STREAM && !topics.includes(key)) {
      throw new FanoutError(
        'bad_request',
        `"since" names "${key.slice(0, 64)}", which the frame does not subscribe to`,
      );
    }
    if (!isPosition(value)) {
      throw new FanoutError('bad_request', `"since.${key.slice(0, 64)}" is not a position the server issued`);
    }
    if (key !== USER_STREAM || userId !== undefined) checked.set(key, value);
  }
  return checked;
}

async function recoverSince(
  deps: SubscribeDeps,
  input: SubscribeInput,
  since: ReadonlyMap<string, Position>,
): Promise<{ recovered: boolean; missed: number }> {
  if (!deps.recovery) return { recovered: false, missed: 0 };
  const streams = [...since].map(([key, position]) => ({
    stream:
      key === USER_STREAM && input.userId !== undefined
        ? ({ kind: 'user', userId: input.userId } as const)
        : ({ kind: 'pattern', pattern: key } as const),
    since: position,
  }));
  // A delivery page that read its audience before this subscription was stored has stored its
  // pointers by now, or reads the audience again and finds the subscription (history.ts).
  await (deps.recovery.pause ?? sleep)(POINTER_WRITE_BOUND_MS);
  const outcome = await recover(
    { ...deps.recovery, log: deps.logger },
    { connectionId: input.connectionId, streams },
  );
  deps.metrics.addMetric(outcome.recovered ? 'Recovered' : 'RecoveryRefused', 'Count', 1);
  if (!outcome.recovered) {
    deps.logger.info('recovery refused', { connectionId: input.connectionId, reason: outcome.reason });
    return { recovered: false, missed: 0 };
  }
  deps.metrics.addMetric('Replayed', 'Count', outcome.missed);
  return { recovered: true, missed: outcome.missed };
}

/**
 * The route as both edges call it: the event in, the reply out (errors thrown, for errorReply).
 * `deadline`: epoch ms by which the store must be done (the Lambda's remaining time, or the HTTP
 * backend's share of API Gateway's integration timeout).
 */
export async function subscribeRoute(
  deps: SubscribeDeps,
  event: WebSocketEvent,
  deadline: number,
): Promise<RouteResponse> {
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
  const userId = decoded.ok ? decoded.grants.userId : undefined;
  return reply(
    await subscribe(deps, {
      connectionId,
      frame,
      allowedTopics,
      deadline,
      ...(userId ? { userId } : {}),
    }),
  );
}

/** Throws a RangeError unless `maxSubscriptions` is unset or a positive integer. */
export function assertMaxSubscriptions(max: number | undefined): void {
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new RangeError(`maxSubscriptions must be a positive integer, got ${max}`);
  }
}

export function createSubscribeHandler(deps: SubscribeDeps): MiddyfiedHandler<WebSocketEvent, RouteResponse> {
  assertMaxSubscriptions(deps.maxSubscriptions);
  return routeHandler(
    (event: WebSocketEvent, context) => subscribeRoute(deps, event, writeDeadline(context)),
    deps,
    errorFrames(deps),
  );
}
