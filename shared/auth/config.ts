import { ConfigError, functionEnvironment } from '../config.js';
import { integerSetting } from '../deployment/manifest.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Claim checks applied to every token, whichever key verifies it. */
export interface ClaimChecks {
  /** Required `iss` value, when set. */
  issuer?: string;
  /** Required `aud` value (one of the token's audiences), when set. */
  audience?: string;
  /** Allowed clock skew for `exp`/`nbf`, seconds. */
  clockToleranceSeconds?: number;
}

/**
 * HS256 with a shared secret, or RS256/ES256 with keys from a JWKS URL. During a rotation `secret`
 * holds the new and the old secret: a token signed with either is accepted.
 */
export type TokenVerifierConfig = ClaimChecks &
  ({ secret: string | readonly string[] } | { jwksUrl: string });

/**
 * Where the authorizer's key comes from: a verifier configuration, or the name of the SSM SecureString
 * parameter holding the HS256 secret(s), read once per cold start (shared/auth/secret-parameter.ts).
 */
export type AuthSource = TokenVerifierConfig | (ClaimChecks & { secretParameter: string });

/** RFC 7518 3.2: an HS256 key must be at least as long as the hash output (256 bits). */
export const MIN_SECRET_BYTES = 32;

/**
 * Token issuers and Lambda hosts rarely agree to the second; the default absorbs NTP-level skew only.
 * The default and the range (up to 300 s) are the manifest's AUTH_CLOCK_TOLERANCE_SECONDS.
 */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = integerSetting(
  'authorizer',
  'AUTH_CLOCK_TOLERANCE_SECONDS',
).default;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Reads where the key comes from: exactly one of AUTH_JWT_SECRET_PARAMETER (on AWS, the module's
 * choice for HS256), AUTH_JWT_SECRET (tests and local tools) and AUTH_JWKS_URL, plus the optional
 * AUTH_ISSUER, AUTH_AUDIENCE and AUTH_CLOCK_TOLERANCE_SECONDS, as the authorizer's entry in the
 * manifest declares them. Throws ConfigError at cold start.
 */
export function authSourceFromEnv(raw: Env): AuthSource {
  const env = functionEnvironment('authorizer', raw);
  const secretParameter = env.optionalString('AUTH_JWT_SECRET_PARAMETER');
  if (secretParameter === undefined) return authConfigFromEnv(raw);
  if (!/^[A-Za-z0-9_.\-/]{1,2048}$/.test(secretParameter)) {
    throw new ConfigError(
      `AUTH_JWT_SECRET_PARAMETER must be an SSM parameter name, got "${secretParameter}"`,
    );
  }
  return {
    issuer: env.optionalString('AUTH_ISSUER'),
    audience: env.optionalString('AUTH_AUDIENCE'),
    clockToleranceSeconds: env.integer('AUTH_CLOCK_TOLERANCE_SECONDS'),
    secretParameter,
  };
}

/**
 * The verifier configuration when the key is in the environment: AUTH_JWT_SECRET or AUTH_JWKS_URL
 * (authSourceFromEnv also knows the SSM parameter). Throws ConfigError at cold start.
 */
export function authConfigFromEnv(raw: Env): TokenVerifierConfig {
  // The manifest's schema checks "exactly one of" and keeps the secret byte for byte, as the signer uses it.
  const env = functionEnvironment('authorizer', raw);
  const checks: ClaimChecks = {
    issuer: env.optionalString('AUTH_ISSUER'),
    audience: env.optionalString('AUTH_AUDIENCE'),
    clockToleranceSeconds: env.integer('AUTH_CLOCK_TOLERANCE_SECONDS'),
  };
  const secret = env.optionalString('AUTH_JWT_SECRET');
  const config: TokenVerifierConfig =
    secret === undefined ? { ...checks, jwksUrl: env.string('AUTH_JWKS_URL') } : { ...checks, secret };
  assertVerifierConfig(config);
  return config;
}

/** Throws ConfigError for a configuration that would verify tokens unsafely or not at all. */
export function assertVerifierConfig(config: TokenVerifierConfig): void {
  if ('secret' in config) {
    const secrets = typeof config.secret === 'string' ? [config.secret] : config.secret;
    if (secrets.length === 0) throw new ConfigError('no JWT secret was given');
    for (const secret of secrets) {
      const bytes = Buffer.byteLength(secret, 'utf8');
      if (bytes < MIN_SECRET_BYTES) {
        throw new ConfigError(
          `the JWT secret (AUTH_JWT_SECRET) must be at least ${MIN_SECRET_BYTES} bytes, got ${bytes}`,
        );
      }
    }
  } else {
    assertJwksUrl(config.jwksUrl);
  }
  const tolerance = config.clockToleranceSeconds;
  if (tolerance !== undefined && (!Number.isInteger(tolerance) || tolerance < 0)) {
    throw new ConfigError(`clockToleranceSeconds must be a non-negative integer, got ${tolerance}`);
  }
}

function assertJwksUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`AUTH_JWKS_URL must be an absolute URL, got "${value}"`);
  }
  // Keys fetched over plain HTTP could be swapped in transit; loopback is allowed for local runs.
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  if (!secure) {
    throw new ConfigError(`AUTH_JWKS_URL must use https (http only on loopback), got "${value}"`);
  }
}
