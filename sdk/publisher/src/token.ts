import { SignJWT } from 'jose';

/** The claims and lifetime of a token to mint. */
export interface SignTokenInput {
  /** HS256 shared secret (the same AUTH_JWT_SECRET the authorizer uses). */
  secret: string;
  /** User id; omitted for anonymous tokens. */
  sub?: string;
  /** Patterns the holder may subscribe to; `{sub}` is expanded by the verifier. */
  topics?: readonly string[];
  /** Lifetime from `now`; negative values produce already-expired tokens (for tests). Default 1 hour. */
  expiresInSeconds?: number;
  issuer?: string;
  audience?: string;
  /** Issue time, epoch seconds (default: the clock). */
  now?: number;
}

const DEFAULT_LIFETIME_SECONDS = 60 * 60;

/**
 * Mints an HS256 token the authorizer accepts: for tests, the local runtime and scripts.
 * Production tokens come from the deployment's own identity provider.
 */
export async function signToken(input: SignTokenInput): Promise<string> {
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const claims = input.topics ? { topics: [...input.topics] } : {};
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + (input.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS));
  if (input.sub) jwt.setSubject(input.sub);
  if (input.issuer) jwt.setIssuer(input.issuer);
  if (input.audience) jwt.setAudience(input.audience);
  return jwt.sign(new TextEncoder().encode(input.secret));
}
