import { ACTIONS, PingFrame, positionAt, type ReplyFrame } from '@fanout/protocol';
import type { MiddyfiedHandler } from '@middy/core';
import { FanoutError } from '../domain/errors.js';
import type { Observability } from '../observability/powertools.js';
import { errorFrames } from './error-frames.js';
import type { RouteResponse, WebSocketEvent } from './events.js';
import { routeHandler } from './middy.js';
import { parseFrame, reply, validateFrame, withId } from './request.js';

const MAX_SHOWN_ACTION = 64;

export type DefaultDeps = Observability;

/**
 * The `$default` route: whatever route selection did not match. `ping` lives here (it needs no
 * route of its own: a reply is all it does, and any frame resets API Gateway's idle timer).
 */
export function handleDefault(deps: DefaultDeps, frame: Record<string, unknown>): ReplyFrame {
  const { action } = frame;
  if (action === undefined) throw new FanoutError('bad_request', 'the frame has no "action"');
  if (typeof action !== 'string') throw new FanoutError('bad_request', '"action" must be a string');
  if (action !== 'ping') {
    // The action is the client's text: echo a bounded prefix of it, not up to 128 KB.
    const shown = action.length > MAX_SHOWN_ACTION ? `${action.slice(0, MAX_SHOWN_ACTION)}…` : action;
    throw new FanoutError(
      'unknown_action',
      `unknown action "${shown}"; known actions: ${ACTIONS.join(', ')}`,
      { action: shown },
    );
  }
  const ping = validateFrame(PingFrame, frame, 'ping');
  deps.metrics.addMetric('Pings', 'Count', 1);
  return { type: 'pong', ...withId(ping.id), position: positionAt(Date.now()) };
}

/** The route as both edges call it: the event in, the reply out (errors thrown, for errorReply). */
export async function defaultRoute(deps: DefaultDeps, event: WebSocketEvent): Promise<RouteResponse> {
  return reply(handleDefault(deps, parseFrame(event)));
}

export function createDefaultHandler(deps: DefaultDeps): MiddyfiedHandler<WebSocketEvent, RouteResponse> {
  return routeHandler((event: WebSocketEvent) => defaultRoute(deps, event), deps, errorFrames(deps));
}
