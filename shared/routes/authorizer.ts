import type { MiddyfiedHandler } from '@middy/core';
import { isAuthError } from '../auth/errors.js';
import type { Principal, TokenVerifier } from '../auth/verifier.js';
import type { Observability } from '../observability/powertools.js';
import type { AuthorizerResponse, WebSocketAuthorizerEvent } from './events.js';
import { encodeGrants } from './grants.js';
import { routeHandler } from './middy.js';

/** The exact error text API Gateway maps to `401 Unauthorized` on the WebSocket upgrade. */
export const UNAUTHORIZED = 'Unauthorized';

export interface AuthorizerDeps extends Observability {
  verifier: TokenVerifier;
}

export interface AuthorizeInput {
  /** From the connect URL's `token` query parameter: browsers cannot set headers on a WebSocket. */
  token: string | undefined;
  methodArn: string;
  connectionId?: string;
}

/**
 * Verifies the connect token. Token problems throw `Unauthorized` (401; the reason is logged, not
 * told to the caller). Other failures (JWKS unreachable) propagate, which API Gateway answers with
 * 500: the client should retry later, not fetch a new token.
 */
export async function authorize(deps: AuthorizerDeps, input: AuthorizeInput): Promise<AuthorizerResponse> {
  const { logger, metrics } = deps;
  let principal: Principal;
  try {
    principal = await deps.verifier.verify(input.token);
  } catch (err) {
    if (!isAuthError(err)) {
      logger.error('token verification failed', { connectionId: input.connectionId, error: err });
      throw err;
    }
    logger.warn('connection refused', {
      connectionId: input.connectionId,
      reason: err.reason,
      detail: err.message,
    });
    metrics.addMetric('Unauthorized', 'Count', 1);
    throw new Error(UNAUTHORIZED);
  }
  if (principal.rejectedTopics.length > 0) {
    logger.warn('token grants invalid topic patterns; ignored', {
      connectionId: input.connectionId,
      userId: principal.userId,
      rejectedTopics: principal.rejectedTopics,
    });
  }
  logger.info('connection authorized', {
    connectionId: input.connectionId,
    userId: principal.userId,
    allowedTopics: principal.allowedTopics.length,
  });
  metrics.addMetric('Authorized', 'Count', 1);
  return {
    principalId: principal.userId ?? 'anonymous',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: input.methodArn }],
    },
    context: encodeGrants(principal),
  };
}

export function createAuthorizerHandler(
  deps: AuthorizerDeps,
): MiddyfiedHandler<WebSocketAuthorizerEvent, AuthorizerResponse> {
  return routeHandler(
    (event: WebSocketAuthorizerEvent) =>
      authorize(deps, {
        token: event.queryStringParameters?.token,
        methodArn: event.methodArn,
        connectionId: event.requestContext?.connectionId,
      }),
    deps,
  );
}
