import { expandAllowedPatterns, topicError } from '@fanout/protocol';
import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyOptions,
  type JWTVerifyResult,
  jwtVerify,
} from 'jose';
import { assertVerifierConfig, DEFAULT_CLOCK_TOLERANCE_SECONDS, type TokenVerifierConfig } from './config.js';
import { AuthError } from './errors.js';

/** Who a verified token speaks for, and what it may subscribe to. */
export interface Principal {
  /** The `sub` claim: the user id for direct-to-user delivery. */
  userId?: string;
  /** Patterns from the `topics` claim, `{sub}` expanded; what the connection may subscribe to. */
  allowedTopics: string[];
  /** Claimed entries dropped because they were not valid patterns once expanded (for the log). */
  rejectedTopics: string[];
  /** The `exp` claim, epoch seconds. */
  expiresAt?: number;
}

export interface TokenVerifier {
  /** Resolves the principal, or rejects with AuthError (token problems) or another error (key source down). */
  verify(token: string | undefined): Promise<Principal>;
}

export interface TokenVerifierOptions {
  /** Fetches the JWKS instead of the network (tests, custom agents). Only used with `jwksUrl`. */
  fetchJwks?: FetchImplementation;
}

/** Pinned per key type so a token can never pick its own algorithm (`none`, or HS256 with a public key). */
const SECRET_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'ES256'];

/** jose errors that mean "this token is bad", as opposed to "the key source is broken". */
const INVALID_TOKEN_CODES = new Set<string>([
  errors.JWTClaimValidationFailed.code,
  errors.JWTInvalid.code,
  errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
]);

type VerifyJwt = (token: string, options: JWTVerifyOptions) => Promise<JWTVerifyResult>;

/**
 * Builds a verifier once per cold start: the secret is encoded once and the remote JWKS is created
 * once, so its key cache survives across invocations of a warm Lambda.
 */
export function createTokenVerifier(
  config: TokenVerifierConfig,
  options: TokenVerifierOptions = {},
): TokenVerifier {
  assertVerifierConfig(config);
  const verifyJwt = keyedVerify(config, options);
  const verifyOptions: JWTVerifyOptions = {
    algorithms: 'secret' in config ? SECRET_ALGORITHMS : JWKS_ALGORITHMS,
    clockTolerance: config.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    // A token without `exp` would open connections for ever once leaked.
    requiredClaims: ['exp'],
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  };

  return {
    async verify(token) {
      if (!token) throw new AuthError('missing_token', 'no token was given');
      let payload: JWTPayload;
      try {
        ({ payload } = await verifyJwt(token, verifyOptions));
      } catch (err) {
        throw classify(err);
      }
      return principalFrom(payload);
    },
  };
}

function keyedVerify(config: TokenVerifierConfig, options: TokenVerifierOptions): VerifyJwt {
  if ('secret' in config) {
    const keys = (typeof config.secret === 'string' ? [config.secret] : config.secret).map((secret) =>
      new TextEncoder().encode(secret),
    );
    // During a rotation a token may be signed with the new secret or the old one: the first key whose
    // signature checks wins; any other failure (expired, wrong audience) is the token's, whatever key.
    return async (token, verifyOptions) => {
      let failure: unknown;
      for (const key of keys) {
        try {
          return await jwtVerify(token, key, verifyOptions);
        } catch (err) {
          if (!(err instanceof errors.JWSSignatureVerificationFailed)) throw err;
          failure = err;
        }
      }
      throw failure;
    };
  }
  const jwks = createRemoteJWKSet(
    new URL(config.jwksUrl),
    options.fetchJwks ? { [customFetch]: options.fetchJwks } : {},
  );
  return (token, verifyOptions) => jwtVerify(token, jwks, verifyOptions);
}

function classify(err: unknown): unknown {
  if (err instanceof errors.JWTExpired) return new AuthError('expired_token', err.message);
  if (err instanceof errors.JOSEError && INVALID_TOKEN_CODES.has(err.code)) {
    return new AuthError('invalid_token', err.message);
  }
  // JWKS timeouts, non-200 answers, unreadable key sets: not the caller's fault, so not an AuthError.
  return err;
}

function principalFrom(payload: JWTPayload): Principal {
  const { sub, exp } = payload;
  if (sub !== undefined && (typeof sub !== 'string' || sub.length === 0)) {
    throw new AuthError('invalid_token', 'the "sub" claim must be a non-empty string');
  }
  const claimed = topicsClaim(payload.topics);
  // `{sub}` is only substituted when the user id is one plain segment: a sub such as "bob/secret"
  // would otherwise turn `users/{sub}/*` into a grant inside bob's namespace.
  const { allowed, rejected } = expandAllowedPatterns(claimed, isSegment(sub) ? sub : undefined);
  return {
    ...(sub ? { userId: sub } : {}),
    allowedTopics: allowed,
    rejectedTopics: rejected,
    ...(typeof exp === 'number' ? { expiresAt: exp } : {}),
  };
}

function topicsClaim(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new AuthError('invalid_token', 'the "topics" claim must be an array');
  const entries: unknown[] = value;
  const topics: string[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      throw new AuthError('invalid_token', 'the "topics" claim must hold strings only');
    }
    topics.push(entry);
  }
  return topics;
}

const isSegment = (value: string | undefined): value is string =>
  value !== undefined && !value.includes('/') && topicError(value) === undefined;
