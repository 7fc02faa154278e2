import type { ReplyFrame } from '@fanout/protocol';
import { MemoryLog, MemoryMetrics } from '../../../shared/observability/ports.js';
import type { RouteResponse } from '../../../shared/routes/events.js';
import { MemoryConnectionStore } from '../../../shared/store/store-memory.js';
import { CONNECTED_AT, CONNECTION_ID, lambdaContext } from '../../support/events.js';

/** Fresh in-memory dependencies for one test: no network, nothing written to stdout. */
export function routeDeps() {
  return { store: new MemoryConnectionStore(), logger: new MemoryLog(), metrics: new MemoryMetrics() };
}

export const context = lambdaContext();

/** The frame a two-way route sends back: the response body, parsed. */
export function replyOf(response: RouteResponse): ReplyFrame {
  expect(response.statusCode).toBe(200);
  return JSON.parse(response.body ?? 'null');
}

/** A connection registered as `$connect` would have left it. */
export async function connected(
  store: MemoryConnectionStore,
  grants: { userId?: string; topics?: string[]; connectionId?: string } = {},
): Promise<void> {
  await store.registerConnection({
    connectionId: grants.connectionId ?? CONNECTION_ID,
    connectedAt: CONNECTED_AT,
    ...(grants.userId ? { userId: grants.userId } : {}),
    allowedTopics: grants.topics ?? [],
  });
}

/**
 * The patterns a connection holds, as the fan-out reads them: the subscription list on its entry in
 * its user's audience. Undefined when that audience does not list it.
 */
export async function subscriptionsOf(
  store: MemoryConnectionStore,
  userId: string,
  connectionId = CONNECTION_ID,
): Promise<readonly string[] | undefined> {
  const { members } = await store.audiencePage({ kind: 'user', userId }, 1000);
  return members.find((member) => member.connectionId === connectionId)?.subscriptions;
}

/** Log entries at `level` whose message matches. */
export const logged = (
  logger: MemoryLog,
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string | RegExp,
) =>
  logger.entries.filter(
    (entry) =>
      entry.level === level &&
      (typeof message === 'string' ? entry.message === message : message.test(entry.message)),
  );
