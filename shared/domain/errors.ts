/**
 * Stable error codes sent to clients in `{"type":"error","code":...}` frames (design 2.2).
 * Codes are part of the public contract: add new ones, never rename.
 */
export const ERROR_CODES = [
  'bad_request',
  'unknown_action',
  'invalid_topic',
  'forbidden',
  'too_many_subscriptions',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * A domain error: something the caller did or asked for that the platform refuses.
 * Thrown by use cases; turned into an error frame only at the edge (the route handler).
 */
export class FanoutError extends Error {
  override readonly name = 'FanoutError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

export const isFanoutError = (err: unknown): err is FanoutError => err instanceof FanoutError;
