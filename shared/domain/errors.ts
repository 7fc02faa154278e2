import type { ErrorCode } from '@fanout/protocol';

/**
 * A domain error: something the caller did or asked for that the platform refuses, with one of the
 * protocol's stable codes (`ERROR_CODES` in `@fanout/protocol`). Thrown by use cases; turned into an
 * error frame only at the edge (the route handler).
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
