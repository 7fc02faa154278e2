import { signToken } from '@fanout/publisher';
import { base64url, SignJWT } from 'jose';
import { createTokenVerifier, type TokenVerifier } from '../../../shared/auth/verifier.js';
import { MemoryLog, MemoryMetrics } from '../../../shared/observability/ports.js';
import { createAuthorizerHandler } from '../../../shared/routes/authorizer.js';
import { authorizerEvent, CONNECTION_ID, METHOD_ARN } from '../../support/events.js';
import { context, logged } from './harness.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const ISSUER = 'https://id.example.com/';
const AUDIENCE = 'fanout';

function setup(
  verifier: TokenVerifier = createTokenVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE }),
) {
  const logger = new MemoryLog();
  const metrics = new MemoryMetrics();
  return { logger, metrics, handler: createAuthorizerHandler({ verifier, logger, metrics }) };
}

const token = (claims: Partial<Parameters<typeof signToken>[0]> = {}) =>
  signToken({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, sub: 'alice', ...claims });

describe('$connect REQUEST authorizer', () => {
  it('allows a valid HS256 token and hands user id and expanded topics to later routes', async () => {
    const { handler, metrics } = setup();
    const event = authorizerEvent({ token: await token({ topics: ['users/{sub}/*', 'orders/eu/*'] }) });
    const result = await handler(event, context);
    expect(result).toEqual({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: { userId: 'alice', userIdEncoded: 'alice', topics: '["users/alice/*","orders/eu/*"]' },
    });
    // API Gateway accepts only strings, numbers and booleans as context values.
    for (const value of Object.values(result.context))
      expect(['string', 'number', 'boolean']).toContain(typeof value);
    expect(metrics.total('Authorized')).toBe(1);
  });

  it('allows an anonymous token as principal "anonymous" with an empty user id', async () => {
    const { handler } = setup();
    const anonymous = await signToken({
      secret: SECRET,
      issuer: ISSUER,
      audience: AUDIENCE,
      topics: ['public/*'],
    });
    const result = await handler(authorizerEvent({ token: anonymous }), context);
    expect(result.principalId).toBe('anonymous');
    expect(result.context).toEqual({ userId: '', userIdEncoded: '', topics: '["public/*"]' });
  });

  it('logs granted topics that were dropped as invalid', async () => {
    const { handler, logger } = setup();
    await handler(authorizerEvent({ token: await token({ topics: ['ok/*', 'bad/*/x'] }) }), context);
    expect(logged(logger, 'warn', /invalid topic patterns/)[0]?.extra[0]).toMatchObject({
      rejectedTopics: ['bad/*/x'],
    });
  });

  const refusals: [string, () => Promise<string | undefined>, string][] = [
    ['no token', async () => undefined, 'missing_token'],
    ['an empty token', async () => '', 'missing_token'],
    ['an expired token', () => token({ expiresInSeconds: -3600 }), 'expired_token'],
    [
      'a token with a bad signature',
      () => token({ secret: 'some-other-secret-also-32-bytes-long' }),
      'invalid_token',
    ],
    ['a token from another issuer', () => token({ issuer: 'https://evil.example/' }), 'invalid_token'],
    ['a token for another audience', () => token({ audience: 'billing' }), 'invalid_token'],
    [
      'an unsigned token (alg none)',
      async () =>
        `${base64url.encode('{"alg":"none","typ":"JWT"}')}.${base64url.encode(
          JSON.stringify({ sub: 'alice', topics: ['*'], iss: ISSUER, aud: AUDIENCE, exp: 4_102_444_800 }),
        )}.`,
      'invalid_token',
    ],
    ['garbage', async () => 'definitely.not.a-jwt', 'invalid_token'],
  ];

  it.each(refusals)('refuses %s with exactly "Unauthorized" and logs why', async (_what, make, reason) => {
    const { handler, logger, metrics } = setup();
    const tokenValue = await make();
    await expect(
      handler(authorizerEvent(tokenValue === undefined ? {} : { token: tokenValue }), context),
    ).rejects.toThrow(new Error('Unauthorized'));
    const [entry] = logged(logger, 'warn', 'connection refused');
    expect(entry?.extra[0]).toMatchObject({ reason, connectionId: CONNECTION_ID });
    expect(metrics.total('Unauthorized')).toBe(1);
    expect(metrics.total('Authorized')).toBe(0);
  });

  it('refuses a token that grants topics in a malformed claim', async () => {
    const { handler } = setup();
    const bad = await new SignJWT({ sub: 'alice', topics: 'orders/*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    await expect(handler(authorizerEvent({ token: bad }), context)).rejects.toThrow('Unauthorized');
  });

  it('reads the token only from the "token" query parameter', async () => {
    const { handler } = setup();
    const event = authorizerEvent({ query: { Authorization: await token() } });
    await expect(handler(event, context)).rejects.toThrow('Unauthorized');
  });

  it('lets a key-source failure through (a 500, so clients retry) and logs it as an error', async () => {
    const broken: TokenVerifier = { verify: async () => Promise.reject(new Error('JWKS fetch timed out')) };
    const { handler, logger } = setup(broken);
    const failure = handler(authorizerEvent({ token: 'whatever' }), context);
    await expect(failure).rejects.toThrow('JWKS fetch timed out');
    expect(logged(logger, 'error', 'token verification failed')).toHaveLength(1);
  });
});
