import { authConfigFromEnv, DEFAULT_CLOCK_TOLERANCE_SECONDS } from '../../../shared/auth/config.js';
import { createTokenVerifier } from '../../../shared/auth/verifier.js';
import { ConfigError } from '../../../shared/config.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';

describe('authConfigFromEnv', () => {
  it('reads a shared secret with the default clock tolerance', () => {
    expect(authConfigFromEnv({ AUTH_JWT_SECRET: SECRET })).toEqual({
      secret: SECRET,
      issuer: undefined,
      audience: undefined,
      clockToleranceSeconds: DEFAULT_CLOCK_TOLERANCE_SECONDS,
    });
  });

  it('reads a JWKS URL with issuer, audience and clock tolerance', () => {
    expect(
      authConfigFromEnv({
        AUTH_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
        AUTH_ISSUER: 'https://id.example.com/',
        AUTH_AUDIENCE: 'fanout',
        AUTH_CLOCK_TOLERANCE_SECONDS: '30',
      }),
    ).toEqual({
      jwksUrl: 'https://id.example.com/.well-known/jwks.json',
      issuer: 'https://id.example.com/',
      audience: 'fanout',
      clockToleranceSeconds: 30,
    });
  });

  it('keeps the secret byte for byte instead of trimming it', () => {
    const config = authConfigFromEnv({ AUTH_JWT_SECRET: ` ${SECRET} ` });
    expect('secret' in config && config.secret).toBe(` ${SECRET} `);
  });

  it('refuses a configuration with no secret, no secret parameter and no JWKS URL, naming the three variables', () => {
    expect(() => authConfigFromEnv({})).toThrow(ConfigError);
    expect(() => authConfigFromEnv({ AUTH_JWT_SECRET: '  ' })).toThrow(
      /one of AUTH_JWT_SECRET, AUTH_JWT_SECRET_PARAMETER or AUTH_JWKS_URL is required/,
    );
  });

  it('refuses a configuration with both a secret and a JWKS URL', () => {
    expect(() =>
      authConfigFromEnv({ AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'https://id.example.com/jwks' }),
    ).toThrow(/only one of AUTH_JWT_SECRET, AUTH_JWT_SECRET_PARAMETER and AUTH_JWKS_URL/);
  });

  it('refuses a secret shorter than 32 bytes and counts bytes, not characters', () => {
    expect(() => authConfigFromEnv({ AUTH_JWT_SECRET: 'x'.repeat(31) })).toThrow(/at least 32 bytes, got 31/);
    expect(authConfigFromEnv({ AUTH_JWT_SECRET: 'x'.repeat(32) })).toMatchObject({ secret: 'x'.repeat(32) });
    // 16 characters, 32 bytes in UTF-8.
    expect(authConfigFromEnv({ AUTH_JWT_SECRET: 'é'.repeat(16) })).toMatchObject({ secret: 'é'.repeat(16) });
  });

  it('refuses a JWKS URL that is not a URL, or plain http to a remote host', () => {
    expect(() => authConfigFromEnv({ AUTH_JWKS_URL: 'id.example.com/jwks' })).toThrow(/absolute URL/);
    expect(() => authConfigFromEnv({ AUTH_JWKS_URL: 'http://id.example.com/jwks' })).toThrow(/https/);
    expect(() => authConfigFromEnv({ AUTH_JWKS_URL: 'ftp://id.example.com/jwks' })).toThrow(ConfigError);
  });

  it('accepts plain http to a loopback JWKS for local runs', () => {
    expect(authConfigFromEnv({ AUTH_JWKS_URL: 'http://127.0.0.1:4566/jwks' })).toMatchObject({
      jwksUrl: 'http://127.0.0.1:4566/jwks',
    });
    expect(authConfigFromEnv({ AUTH_JWKS_URL: 'http://localhost/jwks' })).toMatchObject({
      jwksUrl: 'http://localhost/jwks',
    });
  });

  it('refuses a clock tolerance that is not an integer from 0 to 300', () => {
    expect(() => authConfigFromEnv({ AUTH_JWT_SECRET: SECRET, AUTH_CLOCK_TOLERANCE_SECONDS: '-1' })).toThrow(
      /AUTH_CLOCK_TOLERANCE_SECONDS/,
    );
    expect(() => authConfigFromEnv({ AUTH_JWT_SECRET: SECRET, AUTH_CLOCK_TOLERANCE_SECONDS: '1.5' })).toThrow(
      ConfigError,
    );
  });
});

describe('createTokenVerifier configuration checks', () => {
  it('applies the same checks to a configuration built in code', () => {
    expect(() => createTokenVerifier({ secret: 'short' })).toThrow(ConfigError);
    expect(() => createTokenVerifier({ jwksUrl: 'http://id.example.com/jwks' })).toThrow(ConfigError);
    expect(() => createTokenVerifier({ secret: SECRET, clockToleranceSeconds: -5 })).toThrow(ConfigError);
  });

  it('builds a JWKS verifier without touching the network until a token arrives', () => {
    const fetchJwks = jest.fn();
    expect(() =>
      createTokenVerifier({ jwksUrl: 'https://id.example.com/.well-known/jwks.json' }, { fetchJwks }),
    ).not.toThrow();
    expect(fetchJwks).not.toHaveBeenCalled();
  });
});
