/**
 * Why a token was refused. Logged by the authorizer; never sent to the client, which only ever sees
 * API Gateway's 401 (telling a caller *why* its token failed helps an attacker more than a dashboard).
 */
export const AUTH_FAILURE_REASONS = ['missing_token', 'invalid_token', 'expired_token'] as const;

export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** The token itself is the problem. Infrastructure failures (JWKS unreachable) are not AuthErrors. */
export class AuthError extends Error {
  override readonly name = 'AuthError';

  constructor(
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
  }
}

export const isAuthError = (err: unknown): err is AuthError => err instanceof AuthError;
