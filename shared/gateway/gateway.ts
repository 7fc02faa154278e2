/**
 * ConnectionGateway: talks to live WebSocket connections (API Gateway's `@connections` API).
 *
 * Guarantees: `post` either resolves (the frame was accepted for that connection) or throws a
 * GatewayError whose `kind` says what to do next; it never retries by itself (the fan-out engine owns
 * retries and backoff). There is no broadcast: one call per connection.
 */
export type GatewayErrorKind =
  /** 410: the connection is gone; prune it. */
  | 'gone'
  /** 429 / LimitExceededException: back off and retry. */
  | 'throttled'
  /** 413: the frame is over 128 KB; retrying cannot help. */
  | 'too_large'
  /** 403: the caller may not manage connections (IAM); retrying cannot help. */
  | 'forbidden'
  /** 5xx, network errors, anything else: may be transient, retry with backoff. */
  | 'other';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  constructor(
    readonly kind: GatewayErrorKind,
    message: string,
    readonly statusCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isGatewayError = (err: unknown): err is GatewayError => err instanceof GatewayError;

export interface ConnectionGateway {
  post(connectionId: string, data: Uint8Array): Promise<void>;
}
