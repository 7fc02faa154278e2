import type { MiddyfiedHandler } from '@middy/core';
import type { Observability } from '../observability/powertools.js';
import { type HistoryStore, rememberLeaving } from '../store/history.js';
import type { ConnectionStore } from '../store/store.js';
import type { RouteResponse, WebSocketEvent, WebSocketRequestContext } from './events.js';
import { logFailures, routeHandler } from './middy.js';

export interface DisconnectDeps extends Observability {
  store: ConnectionStore;
  /** With history kept, what the connection held keeps getting history until it may recover. */
  history?: HistoryStore;
}

/**
 * Deletes every row of the connection. `$disconnect` is best-effort on AWS, so this is only the fast
 * path: row TTLs clean up after connections whose disconnect never arrives.
 */
export async function disconnect(
  deps: DisconnectDeps,
  context: WebSocketRequestContext,
): Promise<RouteResponse> {
  const { connectionId, disconnectStatusCode, disconnectReason } = context;
  await deps.store.removeConnection(connectionId, rememberLeaving(deps.history));
  deps.logger.info('disconnected', { connectionId, disconnectStatusCode, disconnectReason });
  deps.metrics.addMetric('Disconnected', 'Count', 1);
  return { statusCode: 200 };
}

export function createDisconnectHandler(
  deps: DisconnectDeps,
): MiddyfiedHandler<WebSocketEvent, RouteResponse> {
  return routeHandler(
    (event: WebSocketEvent) => disconnect(deps, event.requestContext),
    deps,
    logFailures(deps.logger),
  );
}
