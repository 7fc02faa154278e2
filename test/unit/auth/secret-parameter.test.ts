import { SSMClient } from '@aws-sdk/client-ssm';
import { signToken } from '@fanout/publisher';
import { type LocalSsm, startLocalSsm } from '../../../local/ssm/server.js';
import { authSourceFromEnv } from '../../../shared/auth/config.js';
import { AuthError } from '../../../shared/auth/errors.js';
import {
  createParameterSecretVerifier,
  type LoadParameter,
  secretsFromParameter,
  ssmParameterLoader,
} from '../../../shared/auth/secret-parameter.js';
import { ConfigError } from '../../../shared/config.js';

const OLD = 'the-old-secret-that-is-at-least-32-bytes';
const NEW = 'the-new-secret-that-is-at-least-32-bytes';
const NAME = '/fanout-test/auth-jwt-secret';

let ssm: LocalSsm;
let client: SSMClient;

beforeAll(async () => {
  ssm = await startLocalSsm({ region: 'eu-west-1', parameters: { [NAME]: NEW } });
  client = new SSMClient({
    endpoint: ssm.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client?.destroy();
  await ssm?.close();
});

describe('authSourceFromEnv', () => {
  it('names the SSM parameter when AUTH_JWT_SECRET_PARAMETER is set, with the claim checks', () => {
    expect(authSourceFromEnv({ AUTH_JWT_SECRET_PARAMETER: NAME, AUTH_ISSUER: 'https://id/' })).toEqual({
      secretParameter: NAME,
      issuer: 'https://id/',
      audience: undefined,
      clockToleranceSeconds: 5,
    });
  });

  it('refuses a parameter name SSM cannot hold, and a parameter beside a secret', () => {
    expect(() => authSourceFromEnv({ AUTH_JWT_SECRET_PARAMETER: 'has space' })).toThrow(
      /AUTH_JWT_SECRET_PARAMETER must be an SSM parameter name/,
    );
    expect(() => authSourceFromEnv({ AUTH_JWT_SECRET_PARAMETER: NAME, AUTH_JWT_SECRET: OLD })).toThrow(
      /set only one of AUTH_JWT_SECRET, AUTH_JWT_SECRET_PARAMETER and AUTH_JWKS_URL/,
    );
  });

  it('reads the environment key as before when no parameter is named', () => {
    expect(authSourceFromEnv({ AUTH_JWT_SECRET: OLD })).toMatchObject({ secret: OLD });
  });
});

describe('the secret in an SSM SecureString parameter', () => {
  it('refuses a parameter that comes back without a value, naming it', async () => {
    const empty = new SSMClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    empty.middlewareStack.add(
      () => async () => ({ output: { Parameter: { Name: NAME }, $metadata: {} }, response: {} }),
      {
        step: 'initialize',
      },
    );
    await expect(ssmParameterLoader(empty)(NAME)).rejects.toThrow(`the SSM parameter ${NAME} has no value`);
    empty.destroy();
  });

  it('is read with the real SDK client, decrypted, one secret a line', async () => {
    const load = ssmParameterLoader(client);
    expect(await load(NAME)).toBe(NEW);
    expect(secretsFromParameter(`${NEW}\n${OLD}\n`)).toEqual([NEW, OLD]);
    await expect(load('/no/such/parameter')).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  it('is read once per cold start, however many tokens and however concurrent', async () => {
    const verifier = createParameterSecretVerifier({ secretParameter: NAME }, ssmParameterLoader(client));
    const before = ssm.reads(NAME);
    const tokens = await Promise.all([1, 2, 3].map((i) => signToken({ secret: NEW, sub: `user-${i}` })));
    const principals = await Promise.all(tokens.map((token) => verifier.verify(token)));
    expect(principals.map((p) => p.userId)).toEqual(['user-1', 'user-2', 'user-3']);
    await verifier.verify(tokens[0]);
    expect(ssm.reads(NAME) - before).toBe(1);
  });

  it('accepts tokens signed with the new or the old secret during a rotation, and no other', async () => {
    ssm.put('/fanout-test/rotating', `${NEW}\n${OLD}`);
    const verifier = createParameterSecretVerifier(
      { secretParameter: '/fanout-test/rotating' },
      ssmParameterLoader(client),
    );
    expect((await verifier.verify(await signToken({ secret: NEW, sub: 'new' }))).userId).toBe('new');
    expect((await verifier.verify(await signToken({ secret: OLD, sub: 'old' }))).userId).toBe('old');
    const other = await signToken({ secret: 'a-third-secret-nobody-rotated-to-ever', sub: 'x' });
    await expect(verifier.verify(other)).rejects.toMatchObject({ reason: 'invalid_token' });
    // A token expired is expired whichever secret signed it.
    const expired = await signToken({ secret: OLD, sub: 'old', expiresInSeconds: -60 });
    await expect(verifier.verify(expired)).rejects.toMatchObject({ reason: 'expired_token' });
  });

  it('does not keep a failed read: the next token reads the parameter again', async () => {
    let calls = 0;
    const flaky: LoadParameter = async () => {
      calls++;
      if (calls === 1) throw new Error('SSM unreachable');
      return NEW;
    };
    const verifier = createParameterSecretVerifier({ secretParameter: NAME }, flaky);
    const token = await signToken({ secret: NEW, sub: 'alice' });
    const failed = await verifier.verify(token).catch((err: unknown) => err);
    // Not the caller's fault: not an AuthError, so the authorizer answers 500 and the alarm fires.
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(AuthError);
    expect((await verifier.verify(token)).userId).toBe('alice');
    expect(calls).toBe(2);
  });

  it('refuses a parameter holding a secret shorter than 32 bytes, naming the rule', async () => {
    ssm.put('/fanout-test/short', `${NEW}\nshort`);
    const verifier = createParameterSecretVerifier(
      { secretParameter: '/fanout-test/short' },
      ssmParameterLoader(client),
    );
    const failed = await verifier
      .verify(await signToken({ secret: NEW, sub: 'a' }))
      .catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(ConfigError);
    expect(String(failed)).toContain('at least 32 bytes, got 5');
  });
});
