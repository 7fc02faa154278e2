import { z } from 'zod';
import type { ErrorCode } from './errors.js';

/**
 * Client → server frames (design 2.2). Route selection is `$request.body.action`, so a frame's
 * `action` picks the route; these schemas validate the rest once the route is known.
 */

/** Longest request id echoed back in a reply. */
export const MAX_REQUEST_ID_LENGTH = 128;
const requestId = z.string().min(1).max(MAX_REQUEST_ID_LENGTH).optional();

export const SubscribeFrame = z.object({
  action: z.literal('subscribe'),
  topics: z.array(z.unknown()),
  id: requestId,
});
export type SubscribeFrame = z.infer<typeof SubscribeFrame>;

export const UnsubscribeFrame = z.object({
  action: z.literal('unsubscribe'),
  topics: z.array(z.unknown()),
  id: requestId,
});
export type UnsubscribeFrame = z.infer<typeof UnsubscribeFrame>;

export const PingFrame = z.object({ action: z.literal('ping'), id: requestId });
export type PingFrame = z.infer<typeof PingFrame>;

/** Server → client replies and pushes (design 2.2, 2.3). */
export type ReplyFrame =
  | { type: 'subscribed'; id?: string; topics: string[] }
  | { type: 'unsubscribed'; id?: string; topics: string[] }
  | { type: 'pong'; id?: string }
  | { type: 'error'; id?: string; code: ErrorCode; message: string };

export interface EventFrameBase {
  type: 'event';
  /** EventBridge event id: delivery is at-least-once, clients drop duplicates by it. */
  id: string;
  source: string;
  detailType: string;
  time: string;
  data: unknown;
}

/** Delivered because the connection subscribed to `subscription`, which matches `topic`. */
export interface TopicEventFrame extends EventFrameBase {
  topic: string;
  subscription: string;
}

/** Delivered to every connection of `user`. */
export interface UserEventFrame extends EventFrameBase {
  user: string;
}

export type EventFrame = TopicEventFrame | UserEventFrame;
