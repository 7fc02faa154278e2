import { signToken } from '@fanout/publisher';
import { authorizerEvent, messageEvent } from '../../support/events.js';
import { context } from './harness.js';

/**
 * The functions' module-load wiring: configuration is read at import (cold start), so a missing or
 * malformed variable fails the import, naming it. Nothing here opens a connection.
 */
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const VARIABLES = [
  'AUTH_JWT_SECRET',
  'AUTH_JWKS_URL',
  'AUTH_ISSUER',
  'AUTH_AUDIENCE',
  'TABLE_NAME',
  'MAX_SUBSCRIPTIONS',
];

async function load<T>(path: string, env: Record<string, string>): Promise<T> {
  const saved = { ...process.env };
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, { AWS_REGION: 'us-east-1', ...env });
  let loaded: T | undefined;
  try {
    await jest.isolateModulesAsync(async () => {
      loaded = await import(path);
    });
  } finally {
    // Restore in place: process.env is a special object (it coerces values to strings).
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
  if (loaded === undefined) throw new Error(`${path} did not load`);
  return loaded;
}

type HandlerModule = { handler: (event: unknown, context: unknown) => Promise<unknown> };

describe('function wiring', () => {
  beforeEach(() => {
    // Powertools writes its JSON lines straight to the process streams; keep test output readable.
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    // The AWS SDK warns at client construction that future versions need Node 22; not this test's concern.
    jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('authorizer refuses to load without AUTH_JWT_SECRET or AUTH_JWKS_URL', async () => {
    await expect(load('../../../functions/authorizer/handler.js', {})).rejects.toThrow(/AUTH_JWT_SECRET/);
    await expect(
      load('../../../functions/authorizer/handler.js', { AUTH_JWT_SECRET: 'too-short' }),
    ).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringMatching(/at least 32 bytes/) });
  });

  it('authorizer verifies a token with the configured secret', async () => {
    const { handler } = await load<HandlerModule>('../../../functions/authorizer/handler.js', {
      AUTH_JWT_SECRET: SECRET,
    });
    const token = await signToken({ secret: SECRET, sub: 'alice', topics: ['users/{sub}/*'] });
    await expect(handler(authorizerEvent({ token }), context)).resolves.toMatchObject({
      principalId: 'alice',
      context: { userId: 'alice', topics: '["users/alice/*"]' },
    });
    await expect(handler(authorizerEvent({}), context)).rejects.toThrow('Unauthorized');
  });

  it.each(['connect', 'disconnect', 'subscribe', 'unsubscribe'])(
    '%s refuses to load without TABLE_NAME',
    async (name) => {
      await expect(load(`../../../functions/${name}/handler.js`, {})).rejects.toThrow(/TABLE_NAME/);
      // subscribe also posts recovered events back, so it needs the @connections endpoint.
      const complete: Record<string, string> =
        name === 'subscribe' ? { MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9/local' } : {};
      await expect(
        load<HandlerModule>(`../../../functions/${name}/handler.js`, { TABLE_NAME: 'fanout', ...complete }),
      ).resolves.toHaveProperty('handler', expect.any(Function));
    },
  );

  it('subscribe refuses a MAX_SUBSCRIPTIONS outside 1..1000', async () => {
    for (const value of ['0', '1001', 'fifty']) {
      await expect(
        load('../../../functions/subscribe/handler.js', {
          TABLE_NAME: 'fanout',
          MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9/local',
          MAX_SUBSCRIPTIONS: value,
        }),
      ).rejects.toThrow(/MAX_SUBSCRIPTIONS/);
    }
  });

  it('default needs no configuration and answers pings', async () => {
    const { handler } = await load<HandlerModule>('../../../functions/default/handler.js', {});
    const response = (await handler(messageEvent({ action: 'ping', id: 'w1' }), context)) as {
      statusCode: number;
      body?: string;
    };
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body ?? '{}')).toEqual({
      type: 'pong',
      id: 'w1',
      position: expect.stringMatching(/^\d{13}$/),
    });
  });
});
