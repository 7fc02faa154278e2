import { signToken } from '@fanout/publisher';
import {
  base64url,
  type CryptoKey,
  decodeProtectedHeader,
  exportJWK,
  type FetchImplementation,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose';
import { AuthError, type AuthFailureReason } from '../../../shared/auth/errors.js';
import { createTokenVerifier, type TokenVerifier } from '../../../shared/auth/verifier.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const JWKS_URL = 'https://id.example.com/.well-known/jwks.json';
const now = () => Math.floor(Date.now() / 1000);

async function rejection(verifier: TokenVerifier, token: string | undefined): Promise<unknown> {
  try {
    await verifier.verify(token);
  } catch (err) {
    return err;
  }
  throw new Error('expected the token to be refused');
}

async function expectRefused(verifier: TokenVerifier, token: string | undefined, reason: AuthFailureReason) {
  const err = await rejection(verifier, token);
  expect(err).toBeInstanceOf(AuthError);
  expect(err).toMatchObject({ reason });
}

/** A JWT with a chosen header and payload and no valid signature, as an attacker would craft it. */
function craftedToken(header: object, payload: object, signature = ''): string {
  const encode = (value: object) => base64url.encode(JSON.stringify(value));
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

describe('HS256 tokens', () => {
  const verifier = createTokenVerifier({ secret: SECRET });

  it('resolves the user and expands {sub} in the topics claim', async () => {
    const token = await signToken({ secret: SECRET, sub: 'alice', topics: ['users/{sub}/*', 'orders/eu/*'] });
    const principal = await verifier.verify(token);
    expect(principal).toEqual({
      userId: 'alice',
      allowedTopics: ['users/alice/*', 'orders/eu/*'],
      rejectedTopics: [],
      expiresAt: expect.any(Number),
    });
    expect(principal.expiresAt).toBeGreaterThan(now());
  });

  it('grants nothing when the topics claim is missing', async () => {
    const token = await signToken({ secret: SECRET, sub: 'alice' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'alice', allowedTopics: [] });
  });

  it('accepts an anonymous token (no sub) and drops {sub} grants it cannot expand', async () => {
    const token = await signToken({ secret: SECRET, topics: ['public/*', 'users/{sub}/*'] });
    const principal = await verifier.verify(token);
    expect(principal.userId).toBeUndefined();
    expect(principal.allowedTopics).toEqual(['public/*']);
    expect(principal.rejectedTopics).toEqual(['users/{sub}/*']);
  });

  it('reports claimed topics that are not valid patterns instead of granting them', async () => {
    const token = await signToken({ secret: SECRET, sub: 'alice', topics: ['orders/*/x', 'ok/topic', ''] });
    const principal = await verifier.verify(token);
    expect(principal.allowedTopics).toEqual(['ok/topic']);
    expect(principal.rejectedTopics).toEqual(['orders/*/x', '']);
  });

  it('does not substitute a sub that is not a single topic segment into {sub} grants', async () => {
    const token = await signToken({ secret: SECRET, sub: 'bob/secret', topics: ['users/{sub}/*', 'news/*'] });
    const principal = await verifier.verify(token);
    expect(principal.userId).toBe('bob/secret');
    expect(principal.allowedTopics).toEqual(['news/*']);
    expect(principal.rejectedTopics).toEqual(['users/{sub}/*']);
  });

  it('refuses a missing token', async () => {
    await expectRefused(verifier, undefined, 'missing_token');
    await expectRefused(verifier, '', 'missing_token');
  });

  it('refuses an expired token', async () => {
    const token = await signToken({ secret: SECRET, sub: 'alice', expiresInSeconds: -60 });
    await expectRefused(verifier, token, 'expired_token');
  });

  it('tolerates a few seconds of clock skew on exp, and no more than configured', async () => {
    const token = await signToken({ secret: SECRET, sub: 'alice', expiresInSeconds: -2 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'alice' });
    const strict = createTokenVerifier({ secret: SECRET, clockToleranceSeconds: 0 });
    await expectRefused(strict, token, 'expired_token');
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signToken({ secret: 'another-secret-that-is-also-32-bytes!', sub: 'alice' });
    await expectRefused(verifier, token, 'invalid_token');
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const token = await signToken({ secret: SECRET, sub: 'alice', topics: ['users/{sub}/*'] });
    const [header, , signature] = token.split('.');
    const forged = `${header}.${base64url.encode(JSON.stringify({ sub: 'alice', topics: ['*'], exp: now() + 60 }))}.${signature}`;
    await expectRefused(verifier, forged, 'invalid_token');
  });

  it('refuses an unsigned token (alg none)', async () => {
    const token = craftedToken({ alg: 'none', typ: 'JWT' }, { sub: 'alice', topics: ['*'], exp: now() + 60 });
    await expectRefused(verifier, token, 'invalid_token');
  });

  it('refuses a token without an expiry', async () => {
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET));
    await expectRefused(verifier, token, 'invalid_token');
  });

  it('refuses text that is not a JWT', async () => {
    await expectRefused(verifier, 'not-a-jwt', 'invalid_token');
    await expectRefused(verifier, 'a.b.c', 'invalid_token');
  });

  it('refuses a topics claim that is not an array of strings', async () => {
    const sign = (topics: unknown) =>
      new SignJWT({ sub: 'alice', topics })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET));
    await expectRefused(verifier, await sign('orders/*'), 'invalid_token');
    await expectRefused(verifier, await sign(['orders/*', 42]), 'invalid_token');
    await expectRefused(verifier, await sign({ 0: 'orders/*' }), 'invalid_token');
  });

  it('refuses a sub that is not a non-empty string', async () => {
    const token = craftedToken({ alg: 'HS256' }, { sub: '', exp: now() + 60 });
    // Re-sign the crafted claims properly so only the sub is at fault.
    const signed = await new SignJWT({ sub: '' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    await expectRefused(verifier, token, 'invalid_token');
    await expectRefused(verifier, signed, 'invalid_token');
  });
});

describe('issuer and audience checks', () => {
  const verifier = createTokenVerifier({
    secret: SECRET,
    issuer: 'https://id.example.com/',
    audience: 'fanout',
  });

  it('accepts a token from the configured issuer for the configured audience', async () => {
    const token = await signToken({
      secret: SECRET,
      sub: 'alice',
      issuer: 'https://id.example.com/',
      audience: 'fanout',
    });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'alice' });
  });

  it('refuses a token from another issuer', async () => {
    const token = await signToken({
      secret: SECRET,
      sub: 'alice',
      issuer: 'https://evil.example/',
      audience: 'fanout',
    });
    await expectRefused(verifier, token, 'invalid_token');
  });

  it('refuses a token for another audience, or with no issuer and audience at all', async () => {
    const other = await signToken({
      secret: SECRET,
      sub: 'alice',
      issuer: 'https://id.example.com/',
      audience: 'billing',
    });
    await expectRefused(verifier, other, 'invalid_token');
    await expectRefused(verifier, await signToken({ secret: SECRET, sub: 'alice' }), 'invalid_token');
  });
});

describe('RS256 and ES256 tokens from a JWKS', () => {
  interface SigningKey {
    privateKey: CryptoKey;
    jwk: JWK;
  }
  let rsa: SigningKey;
  let ec: SigningKey;
  let stranger: SigningKey;

  async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  }

  beforeAll(async () => {
    rsa = await signingKey('RS256', 'rsa-1');
    ec = await signingKey('ES256', 'ec-1');
    stranger = await signingKey('RS256', 'rsa-unknown');
  });

  /** Serves the key set from memory: the verifier runs its real remote-JWKS code, with no network. */
  function servedJwks(keys: () => JWK[], status = 200): jest.Mock<ReturnType<FetchImplementation>> {
    return jest.fn(async () =>
      status === 200
        ? new Response(JSON.stringify({ keys: keys() }), { headers: { 'content-type': 'application/json' } })
        : new Response('unavailable', { status }),
    );
  }

  const sign = (key: SigningKey, alg: 'RS256' | 'ES256', claims: object = { topics: ['users/{sub}/*'] }) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg, kid: key.jwk.kid ?? '' })
      .setSubject('alice')
      .setExpirationTime('10m')
      .sign(key.privateKey);

  it('verifies RS256 and ES256 tokens against the key set, fetching it once for many tokens', async () => {
    const fetchJwks = servedJwks(() => [rsa.jwk, ec.jwk]);
    const verifier = createTokenVerifier({ jwksUrl: JWKS_URL }, { fetchJwks });
    const rsToken = await sign(rsa, 'RS256');
    const esToken = await sign(ec, 'ES256');
    expect(decodeProtectedHeader(esToken).alg).toBe('ES256');

    await expect(verifier.verify(rsToken)).resolves.toMatchObject({
      userId: 'alice',
      allowedTopics: ['users/alice/*'],
    });
    await expect(verifier.verify(esToken)).resolves.toMatchObject({ userId: 'alice' });
    await expect(verifier.verify(rsToken)).resolves.toMatchObject({ userId: 'alice' });
    expect(fetchJwks).toHaveBeenCalledTimes(1);
    expect(String(fetchJwks.mock.calls[0]?.[0])).toBe(JWKS_URL);
  });

  it('refuses a token signed by a key that is not in the set', async () => {
    const verifier = createTokenVerifier({ jwksUrl: JWKS_URL }, { fetchJwks: servedJwks(() => [rsa.jwk]) });
    await expectRefused(verifier, await sign(stranger, 'RS256'), 'invalid_token');
  });

  it('refuses an HS256 token, even one using the public key as its secret', async () => {
    const verifier = createTokenVerifier({ jwksUrl: JWKS_URL }, { fetchJwks: servedJwks(() => [rsa.jwk]) });
    const hsToken = await new SignJWT({ sub: 'alice', topics: ['*'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
    await expectRefused(verifier, hsToken, 'invalid_token');
  });

  it('refuses an RS256 token when configured with a shared secret', async () => {
    const verifier = createTokenVerifier({ secret: SECRET });
    await expectRefused(verifier, await sign(rsa, 'RS256'), 'invalid_token');
  });

  it('refuses an expired JWKS-signed token as expired', async () => {
    const verifier = createTokenVerifier({ jwksUrl: JWKS_URL }, { fetchJwks: servedJwks(() => [ec.jwk]) });
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1' })
      .setExpirationTime(now() - 600)
      .sign(ec.privateKey);
    await expectRefused(verifier, token, 'expired_token');
  });

  it('reports an unreachable key set as an infrastructure error, not a bad token', async () => {
    const verifier = createTokenVerifier({ jwksUrl: JWKS_URL }, { fetchJwks: servedJwks(() => [], 503) });
    const err = await rejection(verifier, await sign(rsa, 'RS256'));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(AuthError);
  });
});

describe('signToken', () => {
  it('mints an HS256 JWT with sub, topics, iat and exp', async () => {
    const token = await signToken({
      secret: SECRET,
      sub: 'alice',
      topics: ['a/*'],
      expiresInSeconds: 120,
      now: 1_000,
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const [, payload] = token.split('.');
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(payload ?? '')))).toEqual({
      sub: 'alice',
      topics: ['a/*'],
      iat: 1_000,
      exp: 1_120,
    });
  });
});
