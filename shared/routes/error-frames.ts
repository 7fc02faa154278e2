import type { ReplyFrame } from '@fanout/protocol';
import type { MiddlewareObj } from '@middy/core';
import { isFanoutError } from '../domain/errors.js';
import type { Observability } from '../observability/powertools.js';
import type { RouteResponse, WebSocketEvent } from './events.js';
import { reply, requestIdOf, withId } from './request.js';

/**
 * The edge of a two-way route: a FanoutError thrown by a use case becomes an `{"type":"error"}`
 * reply with its stable code; anything else is logged and becomes `internal`, without the stack or
 * message (those may name tables, ARNs or keys). The connection stays open either way.
 */
export function errorFrames(options: Observability): MiddlewareObj<WebSocketEvent, RouteResponse> {
  if (typeof options?.logger?.error !== 'function' || typeof options?.metrics?.addMetric !== 'function') {
    throw new TypeError('errorFrames needs { logger, metrics } (a Log and a MetricSink)');
  }
  const { logger, metrics } = options;

  return {
    onError: (request) => {
      // Set, not returned: a returned value would stop middy's onError chain before the metrics flush.
      request.response = errorReply({ logger, metrics }, request.event, request.error);
    },
  };
}

/**
 * The reply frame for an error of a two-way route. Both edges answer with it: the middy one above
 * for the Lambda functions, and the HTTP backend (shared/backend/server.ts).
 */
export function errorReply(
  { logger, metrics }: Pick<Observability, 'logger' | 'metrics'>,
  event: WebSocketEvent,
  error: unknown,
): RouteResponse {
  const where = {
    routeKey: event.requestContext.routeKey,
    connectionId: event.requestContext.connectionId,
  };
  let frame: ReplyFrame;
  if (isFanoutError(error)) {
    const log = error.code === 'internal' ? logger.error : logger.info;
    log.call(logger, 'request refused', { ...where, code: error.code, reason: error.message });
    frame = { type: 'error', ...withId(requestIdOf(event)), code: error.code, message: error.message };
  } else {
    logger.error('unexpected error', { ...where, code: 'internal', error });
    frame = {
      type: 'error',
      ...withId(requestIdOf(event)),
      code: 'internal',
      message: 'internal error; the request may be retried',
    };
  }
  metrics.addMetric('RouteErrors', 'Count', 1);
  return reply(frame);
}
