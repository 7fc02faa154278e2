import * as z from 'zod/mini';
import type { ErrorCode } from './errors.js';
import { MAX_REQUEST_ID_LENGTH } from './limits.js';
import type { Position } from './positions.js';
import { type Checked, check } from './validate.js';

/**
 * The frames of the WebSocket protocol, both ways. API Gateway picks the route by the frame's
 * `action` (route selection `$request.body.action`); the schemas validate the rest of the frame
 * once the route is known. Topic lists are `unknown[]` here on purpose: each entry is checked by
 * the topic rules afterwards, so a bad topic gets `invalid_topic` rather than `bad_request`.
 */

const requestId = z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_REQUEST_ID_LENGTH)));

// ----------------------------------------------------------------------------------------------
// Client → server
// ----------------------------------------------------------------------------------------------

/**
 * `{"action":"subscribe","topics":["orders/eu/*"],"id":"r1"}`, or, to recover what the connection
 * missed while away, with `"since":{"orders/eu/*":"<position>","$user":"<position>"}`: the last
 * position received, per pattern, and under `$user` for direct messages. `topics` may be empty when
 * `since` names only `$user`.
 */
export const SubscribeFrame = z.object({
  action: z.literal('subscribe'),
  topics: z.array(z.unknown()),
  id: requestId,
  since: z.optional(z.record(z.string(), z.unknown())),
});
/** A subscribe frame, as parsed (topics still to be checked one by one). */
export type SubscribeFrame = z.infer<typeof SubscribeFrame>;

/** `{"action":"unsubscribe","topics":["orders/eu/*"],"id":"r2"}` */
export const UnsubscribeFrame = z.object({
  action: z.literal('unsubscribe'),
  topics: z.array(z.unknown()),
  id: requestId,
});
/** An unsubscribe frame, as parsed. */
export type UnsubscribeFrame = z.infer<typeof UnsubscribeFrame>;

/** `{"action":"ping","id":"r3"}`: answered with `pong`; any frame resets API Gateway's idle timer. */
export const PingFrame = z.object({ action: z.literal('ping'), id: requestId });
/** A ping frame, as parsed. */
export type PingFrame = z.infer<typeof PingFrame>;

/** Every action a client may send, in the order the README lists them. */
export const ACTIONS = ['subscribe', 'unsubscribe', 'ping'] as const;
/** The `action` of a client frame. */
export type Action = (typeof ACTIONS)[number];

/** Any frame a client sends. */
export type ClientFrame = SubscribeFrame | UnsubscribeFrame | PingFrame;

// ----------------------------------------------------------------------------------------------
// Server → client
// ----------------------------------------------------------------------------------------------

/** Replies carry the request's `id` when it had one. */
export type ReplyFrame =
  | SubscribedFrame
  | { type: 'unsubscribed'; id?: string; topics: string[] }
  | PongFrame
  | ErrorFrame;

/**
 * The answer to a subscribe. `position` is the server's position at the reply. With `since`, it
 * also says whether everything missed was recovered: `recovered: true` means every event the
 * connection would have received since those positions has been sent again (before this reply),
 * `missed` of them; `false` means recovery was impossible (the positions are older than the
 * history's retention, or more events were missed than a reply may replay): reload your state.
 */
export interface SubscribedFrame {
  type: 'subscribed';
  id?: string;
  topics: string[];
  position?: Position;
  recovered?: boolean;
  missed?: number;
  /**
   * How long after this reply events whose delivery had already begun may still arrive on the
   * client's other connections (ms): a client renewing its connection keeps the old one open that
   * long after subscribing on the new one, and misses nothing.
   */
  settleMs?: number;
}

/** The answer to a ping, with the server's position at the reply. */
export interface PongFrame {
  type: 'pong';
  id?: string;
  position?: Position;
}

/** A refused request (or a frame the server could not read), with one of the stable codes. */
export interface ErrorFrame {
  type: 'error';
  id?: string;
  /**
   * One of `ERROR_CODES`. Typed as text because a newer server may send a code this version does
   * not list yet; `isErrorCode` tells them apart.
   */
  code: ErrorCode | (string & Record<never, never>);
  message: string;
}

/** What every event frame carries, whichever way it was addressed. */
export interface EventFrameBase {
  type: 'event';
  /** The EventBridge event id. Delivery is at-least-once: drop duplicates by it. */
  id: string;
  /** EventBridge `Source` of the publisher, e.g. `orders`. */
  source: string;
  /** EventBridge `DetailType`, e.g. `OrderUpdated`. */
  detailType: string;
  /** When the event was published (EventBridge `time`, ISO 8601, to the second). */
  time: string;
  /** The publisher's `data`, unchanged. */
  data: unknown;
  /** Where this event is in the connection's stream: send the greatest one as `since` to recover. */
  position?: Position;
}

/** Delivered because the connection subscribed to `subscription`, which matches `topic`. */
export interface TopicEventFrame extends EventFrameBase {
  topic: string;
  subscription: string;
}

/** Delivered to every connection of `user` (the JWT `sub`). */
export interface UserEventFrame extends EventFrameBase {
  user: string;
}

/** A delivered event: `topic` and `subscription` when it came through a subscription, `user` when addressed to a user. */
export type EventFrame = TopicEventFrame | UserEventFrame;

/**
 * Several event frames in one message, in position order: how a recovery sends what a connection
 * missed (fewer, fuller messages than one per event). Handle each as if it had come alone.
 */
export interface EventsFrame {
  type: 'events';
  events: EventFrame[];
}

/** Any frame the server sends. */
export type ServerFrame = ReplyFrame | EventFrame | EventsFrame;

// Loose objects: a newer server may add fields, and an older client must keep working (and pass
// the fields on to the application).
const topicsReply = z.array(z.string());
const position = z.optional(z.string());
const eventBase = {
  type: z.literal('event'),
  id: z.string().check(z.minLength(1)),
  source: z.string(),
  detailType: z.string(),
  time: z.string(),
  data: z.unknown(),
  position,
};
const TopicEventSchema = z.looseObject({ ...eventBase, topic: z.string(), subscription: z.string() });
const UserEventSchema = z.looseObject({ ...eventBase, user: z.string() });
const ServerFrameSchema = z.union([
  TopicEventSchema,
  UserEventSchema,
  z.looseObject({ type: z.literal('events'), events: z.array(z.union([TopicEventSchema, UserEventSchema])) }),
  z.looseObject({
    type: z.literal('subscribed'),
    id: z.optional(z.string()),
    topics: topicsReply,
    position,
    recovered: z.optional(z.boolean()),
    missed: z.optional(z.number()),
    settleMs: z.optional(z.number()),
  }),
  z.looseObject({ type: z.literal('unsubscribed'), id: z.optional(z.string()), topics: topicsReply }),
  z.looseObject({ type: z.literal('pong'), id: z.optional(z.string()), position }),
  z.looseObject({
    type: z.literal('error'),
    id: z.optional(z.string()),
    // An unknown code from a newer server is still an error: keep it as text.
    code: z.string(),
    message: z.string(),
  }),
]);

/**
 * Parses a frame received from the server: JSON text in, a typed frame out, or the problems that
 * make it unusable. An error frame with a code this version does not know keeps that code.
 */
export function parseServerFrame(text: string): Checked<ServerFrame> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problems: ['the frame is not JSON'] };
  }
  // Every branch has a literal `type`; a frame whose type matches none is reported as such
  // instead of as six unions of problems.
  const type = typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined;
  if (!['event', 'events', 'subscribed', 'unsubscribed', 'pong', 'error'].includes(String(type))) {
    return { ok: false, problems: [`unknown frame type ${JSON.stringify(type)}`] };
  }
  return check(ServerFrameSchema, json) as Checked<ServerFrame>;
}

/** Whether `frame` is an event frame (a delivery, as opposed to a reply). */
export const isEventFrame = (frame: ServerFrame): frame is EventFrame => frame.type === 'event';
