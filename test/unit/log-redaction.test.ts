/**
 * Logs never carry a token, the JWT secret or an event's `data`: every route handler and the fan-out
 * handler, wired to real Powertools loggers as in production, driven through their success and error
 * paths, and every line they write checked (JSON log lines and EMF documents on stdout, anything on
 * stderr). The whole local platform gets the same check in test/integration/platform-redaction.test.ts.
 */
import { signToken } from '@fanout/publisher';
import type { Context } from 'aws-lambda';
import { createTokenVerifier, type TokenVerifier } from '../../shared/auth/verifier';
import { FanoutEngine } from '../../shared/fanout/engine';
import { createFanoutHandler } from '../../shared/fanout/handler';
import { MemoryConnectionGateway } from '../../shared/gateway/gateway-memory';
import { fromPowertools, observability } from '../../shared/observability/powertools';
import { MemoryWorkQueue } from '../../shared/queue/queue-memory';
import { createAuthorizerHandler } from '../../shared/routes/authorizer';
import { createConnectHandler } from '../../shared/routes/connect';
import { createDefaultHandler } from '../../shared/routes/default';
import { createDisconnectHandler } from '../../shared/routes/disconnect';
import { createSubscribeHandler } from '../../shared/routes/subscribe';
import { createUnsubscribeHandler } from '../../shared/routes/unsubscribe';
import type { ConnectionStore } from '../../shared/store/store';
import { MemoryConnectionStore } from '../../shared/store/store-memory';
import {
  authorizerContext,
  authorizerEvent,
  connectEvent,
  disconnectEvent,
  lambdaContext,
  messageEvent,
} from '../support/events';
import { envelopeBody, NOW, sqsEvent, TrackingStore, yieldOnce } from './fanout/fixtures';

const SECRET = 'redaction-test-secret-0123456789-abcdef';
/** In the data of every event below. Short: a quote of a body may be short too. */
const MARKER = 'Dm7xQ2';
/** Three base64url parts, the first two starting like a JSON object: what any JWT looks like. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/;

/** Every line written to stdout and stderr while `run` runs (nothing reaches the terminal). */
async function linesWritten(run: () => Promise<void>): Promise<string[]> {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** The lines that give away something they must not: what, and the start of the line. */
function leaks(lines: readonly string[], secrets: readonly string[]): string[] {
  return lines.flatMap((line) => {
    const found = secrets.filter((secret) => line.includes(secret));
    if (JWT_LIKE.test(line)) found.push('a JWT');
    return found.length > 0 ? [`${found.join(', ')} in: ${line.slice(0, 300)}`] : [];
  });
}

const messagesOf = (lines: readonly string[]): string[] =>
  lines.flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      const message = (parsed as { message?: unknown }).message;
      return typeof message === 'string' ? [message] : [];
    } catch {
      return [];
    }
  });

/** A store whose every call fails, as DynamoDB does in an outage. */
class FailingStore extends MemoryConnectionStore {
  override async registerConnection(): Promise<void> {
    throw new Error(
      'ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput',
    );
  }
  override async subscribe(): Promise<never> {
    throw new Error(
      'ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput',
    );
  }
}

/** Tokens the authorizer refuses, each a JWT or close to one. */
async function refusedTokens(): Promise<Record<string, string>> {
  const base64 = (value: object | string) =>
    Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const payload = { sub: 'mallory', topics: ['*'], exp: Math.floor(Date.now() / 1000) + 600 };
  return {
    badSignature: await signToken({ secret: 'another-secret-of-at-least-32-bytes!!', sub: 'mallory' }),
    expired: await signToken({ secret: SECRET, sub: 'mallory', expiresInSeconds: -3600 }),
    algNone: `${base64({ alg: 'none', typ: 'JWT' })}.${base64(payload)}.`,
    payloadNotJson: `${base64({ alg: 'HS256', typ: 'JWT' })}.${base64(`{"sub":"mallory",${MARKER}`)}.c2ln`,
    garbage: `eyJ${MARKER}.not-a-token`,
  };
}

describe('route handlers with Powertools loggers', () => {
  const context = lambdaContext('routes');

  async function drive(
    verifier: TokenVerifier,
    store: ConnectionStore,
    tokens: Record<string, string>,
    valid: string,
  ): Promise<void> {
    const authorizer = createAuthorizerHandler({ verifier, ...fromPowertools(observability('authorizer')) });
    await authorizer(authorizerEvent({ token: valid }), context).catch(() => undefined);
    for (const token of Object.values(tokens)) {
      await expect(authorizer(authorizerEvent({ token }), context)).rejects.toThrow();
    }
    await expect(authorizer(authorizerEvent({}), context)).rejects.toThrow('Unauthorized');

    // Route events carry the token too: API Gateway repeats the query string of the connect URL.
    const grants = authorizerContext({ userId: 'alice', topics: ['orders/*'] });
    const query = { token: valid };
    const connect = createConnectHandler({ store, ...fromPowertools(observability('connect')) });
    await connect(connectEvent({ query, authorizer: { ...grants, integrationLatency: 3 } }), context).catch(
      () => undefined,
    );
    await connect(connectEvent({ query, authorizer: null }), context);
    const subscribe = createSubscribeHandler({ store, ...fromPowertools(observability('subscribe')) });
    const frames = [
      { action: 'subscribe', topics: ['orders/eu'], id: 's1' },
      { action: 'subscribe', topics: ['secret/plans'], id: 's2' },
      { action: 'subscribe', topics: ['bad topic'], id: 's3' },
      { action: 'subscribe', topics: 'orders/eu' },
    ];
    for (const frame of frames) await subscribe(messageEvent(frame, { authorizer: grants }), context);
    await subscribe(messageEvent('{"action":"subscribe",', { authorizer: grants }), context);
    const unsubscribe = createUnsubscribeHandler({ store, ...fromPowertools(observability('unsubscribe')) });
    await unsubscribe(
      messageEvent({ action: 'unsubscribe', topics: ['orders/eu'] }, { authorizer: grants }),
      context,
    );
    const ping = createDefaultHandler(fromPowertools(observability('default')));
    await ping(messageEvent({ action: 'ping', id: 'p1' }, { authorizer: grants }), context);
    await ping(messageEvent({ action: 'shout', id: 'p2' }, { authorizer: grants }), context);
    const disconnect = createDisconnectHandler({ store, ...fromPowertools(observability('disconnect')) });
    await disconnect(disconnectEvent({ authorizer: grants }), context);
  }

  it('log no token, no secret, through authorization, connect, subscribe, ping and disconnect', async () => {
    const valid = await signToken({ secret: SECRET, sub: 'alice', topics: ['orders/*'] });
    const tokens = await refusedTokens();
    const verifier = createTokenVerifier({ secret: SECRET });
    const lines = await linesWritten(() => drive(verifier, new MemoryConnectionStore(), tokens, valid));

    expect(leaks(lines, [SECRET, valid, ...Object.values(tokens), MARKER])).toEqual([]);
    // The paths above did log: refusals with their reasons, the connection, the subscription.
    expect(messagesOf(lines)).toEqual(
      expect.arrayContaining([
        'connection authorized',
        'connection refused',
        'connected',
        'connection refused: authorizer context unusable',
        'subscribed',
        'request refused',
        'unsubscribed',
        'disconnected',
      ]),
    );
  });

  it('log no token when the key source or the table fails', async () => {
    // RS256 with a key id: verifying it needs the key set, which cannot be fetched.
    const base64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 600;
    const valid = `${base64({ alg: 'RS256', kid: 'k1' })}.${base64({ sub: 'alice', exp })}.c2lnbmF0dXJl`;
    // A JWKS that cannot be fetched: the error propagates (500), after being logged.
    const verifier = createTokenVerifier(
      { jwksUrl: 'https://issuer.example/.well-known/jwks.json' },
      {
        fetchJwks: async () => {
          throw new Error('connect ECONNREFUSED 192.0.2.1:443');
        },
      },
    );
    const lines = await linesWritten(() => drive(verifier, new FailingStore(), {}, valid));

    expect(leaks(lines, [SECRET, valid, MARKER])).toEqual([]);
    expect(messagesOf(lines)).toEqual(
      expect.arrayContaining(['token verification failed', 'route failed', 'unexpected error']),
    );
  });

  it('log no token even when POWERTOOLS_LOGGER_LOG_EVENT asks for every event', async () => {
    const valid = await signToken({ secret: SECRET, sub: 'alice', topics: ['orders/*'] });
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
    try {
      const verifier = createTokenVerifier({ secret: SECRET });
      const lines = await linesWritten(() => drive(verifier, new MemoryConnectionStore(), {}, valid));
      expect(leaks(lines, [SECRET, valid])).toEqual([]);
      expect(messagesOf(lines)).toContain('connection authorized');
    } finally {
      delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
    }
  });
});

describe('the fan-out handler with Powertools loggers', () => {
  const context: Context = { ...lambdaContext('fanout'), getRemainingTimeInMillis: () => 60_000 };

  /** An engine on in-memory ports, logging through Powertools; `a` is live, `gone` answers 410, `flaky` 500. */
  async function fanout(): Promise<{ run: (bodies: string[]) => Promise<unknown>; store: TrackingStore }> {
    const store = new TrackingStore({ now: () => NOW - 60_000 });
    const gateway = new MemoryConnectionGateway({ fault: (id) => (id === 'flaky' ? 'other' : undefined) });
    for (const [id, userId] of [
      ['a', 'alice'],
      ['gone', 'bob'],
      ['flaky', 'carol'],
    ] as const) {
      await store.registerConnection({
        connectionId: id,
        connectedAt: NOW - 3_600_000,
        userId,
        allowedTopics: ['*'],
      });
      await store.subscribe(id, ['orders/*'], 50);
    }
    gateway.connect('a', 'flaky');
    const powertools = observability('fanout');
    const { logger: log, metrics } = fromPowertools(powertools);
    const engine = new FanoutEngine(
      {
        store,
        gateway,
        queue: new MemoryWorkQueue(),
        log,
        metrics,
        now: () => NOW,
        random: () => 0.5,
        sleep: yieldOnce,
      },
      { maxAttempts: 2 },
    );
    const handler = createFanoutHandler({ engine, powertools });
    return { run: (bodies) => handler(sqsEvent(bodies), context), store };
  }

  const data = { note: MARKER, card: `4111-${MARKER}` };
  const bodies = (): string[] => {
    const valid = envelopeBody({ topics: ['orders/eu/1'], users: ['alice'], data }, 'evt-ok');
    return [
      valid,
      // Not JSON, the data next to the fault: a parser's message would quote it.
      valid.replace(`"note":"${MARKER}"`, `"note":${MARKER}`),
      envelopeBody({ topics: ['orders//bad'], data }, 'evt-bad-topic'),
      envelopeBody({ users: ['alice'], data, expiresAt: '2020-01-01T00:00:00Z' }, 'evt-expired'),
      envelopeBody({ topics: ['orders/eu/2'], data: { ...data, pad: 'x'.repeat(140_000) } }, 'evt-large'),
      JSON.stringify({ kind: 'fanout.page', event: { id: 'evt-page', data }, source: 0 }),
    ];
  };

  it('logs no data through delivery, prune, retries, malformed, expired and oversized events', async () => {
    const { run } = await fanout();
    const lines = await linesWritten(async () => {
      await run(bodies());
    });

    expect(leaks(lines, [MARKER])).toEqual([]);
    expect(messagesOf(lines)).toEqual(
      expect.arrayContaining([
        'delivered',
        're-enqueued failing connections',
        'dead-lettering a malformed record',
        'dropping an expired event',
        'dead-lettered an event too large to deliver',
      ]),
    );
  });

  it('logs no data when the store fails, nor when POWERTOOLS_LOGGER_LOG_EVENT asks for every event', async () => {
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
    try {
      const { run, store } = await fanout();
      store.failAudience = () => true;
      const lines = await linesWritten(async () => {
        await run(bodies());
      });
      expect(leaks(lines, [MARKER])).toEqual([]);
      expect(messagesOf(lines)).toContain('record could not be handled; SQS will redeliver it');
    } finally {
      delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
    }
  });
});
