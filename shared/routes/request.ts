import { check, MAX_REQUEST_ID_LENGTH, MAX_TOPICS_PER_FRAME, type ReplyFrame } from '@fanout/protocol';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { FanoutError } from '../domain/errors.js';
import type { RouteResponse, WebSocketEvent } from './events.js';

/** The frame text: API Gateway base64-encodes binary WebSocket frames. */
function bodyText(event: WebSocketEvent): string | undefined {
  const { body } = event;
  if (body === undefined || body === null) return undefined;
  return event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}

/** Parses the frame into a JSON object, or throws `bad_request`. */
export function parseFrame(event: WebSocketEvent): Record<string, unknown> {
  const text = bodyText(event);
  if (text === undefined || text.length === 0) throw new FanoutError('bad_request', 'the frame is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FanoutError('bad_request', 'the frame is not valid JSON');
  }
  if (!isRecord(value)) throw new FanoutError('bad_request', 'the frame must be a JSON object');
  return value;
}

/** Validates a parsed frame against its schema, or throws `bad_request` naming every problem. */
export function validateFrame<S extends z.ZodMiniType>(schema: S, frame: unknown, what: string): z.output<S> {
  const checked = check(schema, frame);
  if (checked.ok) return checked.value;
  throw new FanoutError('bad_request', `invalid ${what} frame: ${checked.problems.join('; ')}`);
}

/** Throws `bad_request` unless a frame lists 1..MAX_TOPICS_PER_FRAME topics. */
export function assertTopicCount(topics: readonly unknown[]): void {
  if (topics.length === 0 || topics.length > MAX_TOPICS_PER_FRAME) {
    throw new FanoutError(
      'bad_request',
      `"topics" must list 1 to ${MAX_TOPICS_PER_FRAME} entries, got ${topics.length}`,
    );
  }
}

/**
 * The request's `id`, for replies that could not validate the frame. Never throws: it runs while
 * another error is being turned into a reply.
 */
export function requestIdOf(event: WebSocketEvent): string | undefined {
  try {
    const text = bodyText(event);
    const value: unknown = text ? JSON.parse(text) : undefined;
    if (!isRecord(value)) return undefined;
    const { id } = value;
    return typeof id === 'string' && id.length <= MAX_REQUEST_ID_LENGTH ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Time a two-way route keeps for itself after its store call: to build the reply and hand it back
 * to API Gateway before the Lambda timeout ends the invocation without one.
 */
export const REPLY_RESERVE_MS = 1_000;

/** The epoch ms by which a route's store call must be done, from the Lambda context. */
export const writeDeadline = (context: Pick<Context, 'getRemainingTimeInMillis'>, now = Date.now()): number =>
  now + context.getRemainingTimeInMillis() - REPLY_RESERVE_MS;

/** `{ id }` when there is one: replies carry `id` only when the request had one. */
export const withId = (id: string | undefined): { id?: string } => (id === undefined ? {} : { id });

/** A two-way route reply: API Gateway sends `body` back on the same connection. */
export const reply = (frame: ReplyFrame): RouteResponse => ({ statusCode: 200, body: JSON.stringify(frame) });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
