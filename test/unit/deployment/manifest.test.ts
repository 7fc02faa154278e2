import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_SUBSCRIPTIONS } from '@fanout/protocol';
import { ConfigError, readEnvironment } from '../../../shared/config';
import {
  FUNCTION_NAMES,
  type FunctionSpec,
  functionSpec,
  integerSetting,
  manifest,
  parseManifest,
  visibilityTimeoutSeconds,
} from '../../../shared/deployment/manifest';

const file = join(__dirname, '..', '..', '..', 'terraform', 'modules', 'fanout', 'functions.json');
/** A fresh copy of the manifest on disk, to break one thing in. */
const raw = (): { functions: Record<string, Record<string, unknown>> } & Record<string, unknown> =>
  JSON.parse(readFileSync(file, 'utf8'));

describe('the deployment manifest', () => {
  it('is the file Terraform reads, parsed whole', () => {
    expect(parseManifest(raw())).toEqual(manifest);
    expect(FUNCTION_NAMES).toEqual(Object.keys(raw().functions).sort());
  });

  it('names where each problem is, and says the rest plainly', () => {
    expect(() => parseManifest({ ...raw(), extra: true })).toThrow(
      /malformed:\n {2}Unrecognized key: "extra"$/,
    );
  });

  it('refuses a default outside its range, naming where', () => {
    const broken = raw();
    const fanout = broken.functions.fanout as { environment: Record<string, { default: number }> };
    (fanout.environment.FANOUT_CONCURRENCY as { default: number }).default = 0;
    expect(() => parseManifest(broken)).toThrow(/functions\.fanout\.environment\.FANOUT_CONCURRENCY/);
  });

  it('refuses a key it does not know, a wiring source and a policy resource Terraform does not bind', () => {
    const typo = raw();
    (typo.functions.connect as Record<string, unknown>).memory = 512;
    expect(() => parseManifest(typo)).toThrow(/functions\.connect.*memory/s);

    const source = raw();
    const connect = source.functions.connect as { environment: Record<string, { from?: string }> };
    (connect.environment.TABLE_NAME as { from: string }).from = 'table_arn';
    expect(() => parseManifest(source)).toThrow(/TABLE_NAME/);

    const resource = raw();
    const statement = (resource.functions.connect as { policy: { resources: string[] }[] }).policy[1];
    if (statement) statement.resources = ['*'];
    expect(() => parseManifest(resource)).toThrow(/functions\.connect\.policy\.1\.resources/);
  });

  it('refuses a setting that two functions read with different ranges', () => {
    const broken = raw();
    const connect = broken.functions.connect as { environment: Record<string, unknown> };
    connect.environment.FANOUT_CONCURRENCY = {
      type: 'integer',
      min: 1,
      max: 5,
      default: 2,
      description: 'clashes with the fan-out function',
    };
    expect(() => parseManifest(broken)).toThrow(/FANOUT_CONCURRENCY is a setting of connect and fanout/);
  });

  it('refuses an exactly_one_of that names a required or undeclared variable', () => {
    const broken = raw();
    (broken.functions.connect as Record<string, unknown>).exactly_one_of = ['TABLE_NAME', 'NOT_DECLARED'];
    expect(() => parseManifest(broken)).toThrow(/exactly_one_of names TABLE_NAME.*\n.*NOT_DECLARED/);
  });

  it('gives subscriptions per connection the default the protocol documents', () => {
    expect(integerSetting('subscribe', 'MAX_SUBSCRIPTIONS').default).toBe(DEFAULT_MAX_SUBSCRIPTIONS);
    expect(() => integerSetting('subscribe', 'TABLE_NAME')).toThrow(/no integer setting TABLE_NAME/);
  });

  it('sets the visibility timeout to 6 times the fan-out timeout plus the batching window', () => {
    // Lambda's rule for an SQS event source ("Using Lambda with Amazon SQS"), stated independently here.
    for (const [timeout, window] of [
      [60, 0],
      [1, 5],
      [900, 300],
    ] as const) {
      expect(visibilityTimeoutSeconds({ fanout_timeout: timeout, batching_window_seconds: window })).toBe(
        6 * timeout + window,
      );
    }
  });
});

describe('reading a function environment by its manifest entry', () => {
  const authorizer = functionSpec('authorizer');
  const SECRET = 'a-shared-secret-of-at-least-32-bytes!';

  it('requires exactly one of the variables the entry groups', () => {
    const two: FunctionSpec = { ...authorizer, exactly_one_of: ['AUTH_JWT_SECRET', 'AUTH_JWKS_URL'] };
    expect(() => readEnvironment(two, {})).toThrow(
      new ConfigError('one of AUTH_JWT_SECRET or AUTH_JWKS_URL is required but neither is set'),
    );
    expect(() => readEnvironment(two, { AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'https://x/' })).toThrow(
      new ConfigError('set only one of AUTH_JWT_SECRET and AUTH_JWKS_URL, not both'),
    );
    expect(() => readEnvironment(authorizer, {})).toThrow(
      'one of AUTH_JWT_SECRET, AUTH_JWT_SECRET_PARAMETER or AUTH_JWKS_URL is required but none is set',
    );
    const three: FunctionSpec = {
      ...authorizer,
      exactly_one_of: ['AUTH_JWT_SECRET', 'AUTH_JWKS_URL', 'AUTH_ISSUER'],
    };
    expect(() => readEnvironment(three, {})).toThrow(
      'one of AUTH_JWT_SECRET, AUTH_JWKS_URL or AUTH_ISSUER is required but none is set',
    );
    expect(() => readEnvironment(three, { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: 'i' })).toThrow(
      'set only one of AUTH_JWT_SECRET, AUTH_JWKS_URL and AUTH_ISSUER, not several',
    );
  });

  it('keeps a sensitive value byte for byte and trims the others', () => {
    const env = readEnvironment(authorizer, { AUTH_JWT_SECRET: ` ${SECRET} `, AUTH_AUDIENCE: ' fanout ' });
    expect(env.optionalString('AUTH_JWT_SECRET')).toBe(` ${SECRET} `);
    expect(env.optionalString('AUTH_AUDIENCE')).toBe('fanout');
  });

  it('names every bad variable at once', () => {
    expect(() =>
      readEnvironment(functionSpec('fanout'), { FANOUT_CONCURRENCY: '0', FANOUT_PAGE_SIZE: 'many' }),
    ).toThrow(
      /TABLE_NAME is required.*QUEUE_URL is required.*FANOUT_CONCURRENCY must be an integer from 1 to 1000, got "0".*FANOUT_PAGE_SIZE must be/,
    );
  });

  it('refuses to read a variable the entry does not declare, or as another type', () => {
    const env = readEnvironment(
      functionSpec('subscribe'),
      { TABLE_NAME: 't', MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9/local' },
      'the subscribe function',
    );
    expect(() => env.integer('TABLE_NAME')).toThrow(
      'functions.json declares no integer variable TABLE_NAME for the subscribe function',
    );
    expect(() => env.string('MAX_SUBSCRIPTIONS')).toThrow(/no string variable MAX_SUBSCRIPTIONS/);
    expect(() => env.optionalString('FANOUT_EXAMPLE')).toThrow(/no string variable FANOUT_EXAMPLE/);
  });

  it('refuses to read an optional string that is unset as if it were set', () => {
    const env = readEnvironment(authorizer, { AUTH_JWT_SECRET: SECRET });
    expect(() => env.string('AUTH_JWKS_URL')).toThrow(
      new ConfigError('AUTH_JWKS_URL is required but not set'),
    );
  });
});
