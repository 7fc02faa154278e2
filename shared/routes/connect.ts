import type { MiddyfiedHandler } from '@middy/core';
import type { Observability } from '../observability/powertools.js';
import type { ConnectionStore } from '../store/store.js';
import type { RouteResponse, WebSocketEvent, WebSocketRequestContext } from './events.js';
import { decodeGrants } from './grants.js';
import { logFailures, routeHandler } from './middy.js';

export interface ConnectDeps extends Observability {
  store: ConnectionStore;
}

/**
 * Registers the connection with the grants the authorizer put on the event. A `$connect` without a
 * readable authorizer context means the route is mis-wired (no authorizer, or another one): refuse
 * it (403) rather than register a connection with unknown rights.
 */
export async function connect(deps: ConnectDeps, context: WebSocketRequestContext): Promise<RouteResponse> {
  const { logger, metrics, store } = deps;
  const { connectionId, connectedAt } = context;
  const decoded = decodeGrants(context.authorizer);
  if (!decoded.ok) {
    logger.error('connection refused: authorizer context unusable', {
      connectionId,
      problem: decoded.problem,
    });
    metrics.addMetric('ConnectRefused', 'Count', 1);
    return { statusCode: 403 };
  }
  const { userId, allowedTopics } = decoded.grants;
  const sourceIp = context.identity?.sourceIp;
  await store.registerConnection({
    connectionId,
    connectedAt,
    ...(userId ? { userId } : {}),
    ...(sourceIp ? { sourceIp } : {}),
    allowedTopics,
  });
  logger.info('connected', { connectionId, userId, sourceIp, allowedTopics: allowedTopics.length });
  metrics.addMetric('Connected', 'Count', 1);
  return { statusCode: 200 };
}

export function createConnectHandler(deps: ConnectDeps): MiddyfiedHandler<WebSocketEvent, RouteResponse> {
  return routeHandler(
    (event: WebSocketEvent) => connect(deps, event.requestContext),
    deps,
    logFailures(deps.logger),
  );
}
