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
  /** 400: API Gateway does not accept the request (a malformed connection id); retrying cannot help. */
  | 'invalid'
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

/** Error types of the `@connections` API (its service model), by what they mean for a post. */
const KIND_BY_NAME: Readonly<Record<string, GatewayErrorKind>> = {
  GoneException: 'gone',
  LimitExceededException: 'throttled',
  ThrottlingException: 'throttled',
  TooManyRequestsException: 'throttled',
  PayloadTooLargeException: 'too_large',
  ForbiddenException: 'forbidden',
  BadRequestException: 'invalid',
};

const KIND_BY_STATUS: Readonly<Record<number, GatewayErrorKind>> = {
  400: 'invalid',
  410: 'gone',
  429: 'throttled',
  413: 'too_large',
  403: 'forbidden',
};

/**
 * What a failed `@connections` call means for the fan-out engine. The error type comes first; the
 * HTTP status is the fallback because an answer does not always name its type: a bare 410 must
 * still prune the connection.
 */
export function classifyFailure(errorType: string | undefined, status: number | undefined): GatewayErrorKind {
  const byName = errorType === undefined ? undefined : KIND_BY_NAME[errorType];
  if (byName) return byName;
  return (status === undefined ? undefined : KIND_BY_STATUS[status]) ?? 'other';
}

export interface ConnectionGateway {
  post(connectionId: string, data: Uint8Array): Promise<void>;
}
