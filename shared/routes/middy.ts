import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Log } from '../observability/ports.js';
import type { Observability } from '../observability/powertools.js';

export type RouteFn<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

/**
 * Wraps a route in middy. The Powertools middlewares are attached only when real Powertools
 * instances were given: the in-memory ports of the tests have nothing to inject or flush.
 *
 * `edge` middlewares are attached last, so their onError runs first (middy runs onError in reverse
 * order): an error turned into a reply there is still followed by the metrics flush.
 */
export function routeHandler<TEvent, TResult>(
  route: RouteFn<TEvent, TResult>,
  { powertools }: Observability,
  ...edge: MiddlewareObj<TEvent, TResult>[]
): MiddyfiedHandler<TEvent, TResult> {
  const handler = middy<TEvent, TResult>(route);
  if (powertools) {
    // Never the whole event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: route events carry the
    // connect URL's token (API Gateway repeats its query string) and the client's frames.
    handler.use(injectLambdaContext(powertools.logger, { logEvent: false }));
    handler.use(logMetrics(powertools.metrics));
  }
  for (const middleware of edge) handler.use(middleware);
  return handler;
}

interface RoutedEvent {
  requestContext: { routeKey: string; connectionId: string };
}

/**
 * For routes whose failure API Gateway turns into an HTTP status (`$connect` → 500): log the error
 * with the route and connection, then let it propagate.
 */
export function logFailures<TEvent extends RoutedEvent, TResult>(
  logger: Log,
): MiddlewareObj<TEvent, TResult> {
  return {
    onError: ({ event, error }) => {
      const { routeKey, connectionId } = event.requestContext;
      logger.error('route failed', { routeKey, connectionId, error });
    },
  };
}
