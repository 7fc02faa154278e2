/**
 * `fanout backend`'s HTTP edge in-process, over real HTTP (fetch to a loopback port), with in-memory
 * ports: the proof comes first, every refusal has its status and code, every route runs the use case
 * the Lambda route runs, and close() lets calls in flight finish.
 */

import { request as httpRequest } from 'node:http';
import { BACKEND_ROUTES, type BackendRouteKey, PROOF_HEADER } from '../../../shared/backend/contract';
import { GatewayProof } from '../../../shared/backend/proof';
import { type BackendHandle, type BackendRoutes, startBackend } from '../../../shared/backend/server';
import { MemoryLog, MemoryMetrics } from '../../../shared/observability/ports';
import type { NewConnection } from '../../../shared/store/store';
import { MemoryConnectionStore } from '../../../shared/store/store-memory';
import { CONNECTED_AT, CONNECTION_ID, SOURCE_IP } from '../../support/events';

const SECRET = 'proof-0123456789abcdef0123456789abcdef';

/** A store whose writes can be held back or made to fail. */
class ControlledStore extends MemoryConnectionStore {
  gate: Promise<void> | undefined;
  failWrites = false;
  override async registerConnection(connection: NewConnection): Promise<void> {
    if (this.failWrites)
      throw new Error('ProvisionedThroughputExceededException on table fanout-connections');
    return super.registerConnection(connection);
  }
  override async subscribe(...args: Parameters<MemoryConnectionStore['subscribe']>) {
    if (this.failWrites)
      throw new Error('ProvisionedThroughputExceededException on table fanout-connections');
    if (this.gate) await this.gate;
    return super.subscribe(...args);
  }
}

let store: ControlledStore;
let log: MemoryLog;
let metrics: MemoryMetrics;
let flushes: number;
let backend: BackendHandle;

beforeEach(async () => {
  store = new ControlledStore();
  log = new MemoryLog();
  metrics = new MemoryMetrics();
  flushes = 0;
  const ports = { logger: log, metrics };
  const routes: BackendRoutes = {
    connect: { store, ...ports },
    disconnect: { store, ...ports },
    default: ports,
    subscribe: { store, ...ports },
    unsubscribe: { store, ...ports },
  };
  backend = await startBackend({
    routes,
    proof: new GatewayProof(SECRET),
    log,
    flushMetrics: () => {
      flushes += 1;
    },
  });
});

afterEach(async () => {
  await backend.close();
});

/** The headers API Gateway's integration of `route` sends. */
function gatewayHeaders(route: BackendRouteKey, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [PROOF_HEADER]: SECRET,
    ConnectionId: CONNECTION_ID,
    RouteKey: route,
    EventType: BACKEND_ROUTES[route].eventType,
    ConnectedAt: String(CONNECTED_AT),
    SourceIp: SOURCE_IP,
    AuthorizerUserId: 'alice',
    AuthorizerTopics: '["demo/*"]',
    ...extra,
  };
}

const call = (route: BackendRouteKey, body = '', extra: Record<string, string> = {}) =>
  fetch(`${backend.url}${BACKEND_ROUTES[route].path}`, {
    method: 'POST',
    headers: gatewayHeaders(route, extra),
    body,
  });

const frame = (action: string, fields: Record<string, unknown> = {}) =>
  JSON.stringify({ action, id: 'r1', ...fields });

/** The connections alice's audience lists: what `$connect` registered and `$disconnect` removes. */
async function usersConnections(): Promise<string[]> {
  const { members } = await store.audiencePage({ kind: 'user', userId: 'alice' }, 10);
  return members.map((member) => member.connectionId);
}

async function connected(): Promise<void> {
  expect((await call('$connect')).status).toBe(200);
}

describe('fanout backend over HTTP', () => {
  it('answers the health check without proof, with 200 and the JSON status', async () => {
    const response = await fetch(`${backend.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('refuses a call without the proof with 403 proof_missing and stores nothing, at any path', async () => {
    for (const path of [BACKEND_ROUTES.$connect.path, '/admin', '/routes/nothing']) {
      const headers = gatewayHeaders('$connect');
      delete headers[PROOF_HEADER];
      const response = await fetch(`${backend.url}${path}`, { method: 'POST', headers });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ code: 'proof_missing', message: expect.any(String) });
    }
    expect(await usersConnections()).toEqual([]);
  });

  it('refuses a forged connection id with a wrong proof with 403 proof_invalid, leaving the real connection alone', async () => {
    await connected();
    const response = await call('unsubscribe', frame('unsubscribe', { topics: ['demo/*'] }), {
      [PROOF_HEADER]: `${SECRET.slice(0, -1)}X`,
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'proof_invalid' });
    // Logged with the reason and the peer, never the headers (the proof is one).
    const refused = log.entries.filter((entry) => entry.message === 'call refused');
    expect(refused).toEqual([
      expect.objectContaining({ level: 'warn', extra: [expect.objectContaining({ code: 'proof_invalid' })] }),
    ]);
    expect(JSON.stringify(log.entries)).not.toContain(SECRET.slice(0, 20));
  });

  it('answers an unknown path with 404 not_found and another method with 405, once the proof is right', async () => {
    const unknown = await fetch(`${backend.url}/routes/publish`, {
      method: 'POST',
      headers: { [PROOF_HEADER]: SECRET },
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'not_found' });
    const get = await fetch(`${backend.url}${BACKEND_ROUTES.subscribe.path}`, {
      headers: { [PROOF_HEADER]: SECRET },
    });
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ code: 'method_not_allowed' });
  });

  it('refuses a body over API Gateway’s 128 KB message limit with 413 payload_too_large', async () => {
    const response = await call('subscribe', 'x'.repeat(128 * 1024 + 1));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'payload_too_large' });
  });

  it('refuses a call whose mapped headers are missing with 400 header_missing', async () => {
    const response = await call('subscribe', frame('subscribe', { topics: ['demo/*'] }), {
      ConnectionId: '',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'header_missing' });
  });

  it('registers a connection on $connect (200, no body) with the grants of the mapped authorizer context', async () => {
    const response = await call('$connect');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(await usersConnections()).toEqual([CONNECTION_ID]);
    expect(metrics.total('Connected')).toBe(1);
    expect(flushes).toBe(1);
  });

  it('registers a user whose id is long and not ASCII, and whose token grants 700 patterns, as the connect function does', async () => {
    const userId = `zoë-東京-${'u'.repeat(3000)}`;
    const grants = Array.from({ length: 700 }, (_, i) => `tenant-${i}/rooms/*`);
    const topics = JSON.stringify(grants);
    // Each header within the backend's bound, both together past node's default for all of a
    // request's headers (16 KiB), which would answer 431.
    expect(topics.length).toBeLessThanOrEqual(16 * 1024);
    expect(topics.length + encodeURIComponent(userId).length).toBeGreaterThan(16 * 1024);
    const response = await call('$connect', '', {
      AuthorizerUserId: encodeURIComponent(userId),
      AuthorizerTopics: topics,
    });
    expect(response.status).toBe(200);
    const { members } = await store.audiencePage({ kind: 'user', userId }, 10);
    expect(members.map((member) => member.connectionId)).toEqual([CONNECTION_ID]);
    const reply = await call('subscribe', frame('subscribe', { topics: ['tenant-699/rooms/*'] }), {
      AuthorizerUserId: encodeURIComponent(userId),
      AuthorizerTopics: topics,
    });
    expect(await reply.json()).toMatchObject({ type: 'subscribed', topics: ['tenant-699/rooms/*'] });
  });

  it('refuses $connect without a readable authorizer context with 403, as the connect function does, storing nothing', async () => {
    const response = await call('$connect', '', { AuthorizerTopics: 'not json' });
    expect(response.status).toBe(403);
    expect(await usersConnections()).toEqual([]);
  });

  it('answers subscribe, unsubscribe, ping on $default and on a ping route with the reply frame in the body', async () => {
    await connected();
    const subscribed = await call('subscribe', frame('subscribe', { topics: ['demo/*'] }));
    expect(subscribed.status).toBe(200);
    expect(subscribed.headers.get('content-type')).toContain('application/json');
    expect(await subscribed.json()).toMatchObject({ type: 'subscribed', id: 'r1', topics: ['demo/*'] });

    const unsubscribed = await call('unsubscribe', frame('unsubscribe', { topics: ['demo/*'] }));
    expect(await unsubscribed.json()).toEqual({ type: 'unsubscribed', id: 'r1', topics: ['demo/*'] });

    for (const route of ['$default', 'ping'] as const) {
      expect(await (await call(route, frame('ping'))).json()).toMatchObject({ type: 'pong', id: 'r1' });
    }
  });

  it('answers a refused frame with the same error frame as the Lambda routes (200, the connection stays)', async () => {
    await connected();
    const forbidden = await call('subscribe', frame('subscribe', { topics: ['secret/plans'] }));
    expect(forbidden.status).toBe(200);
    expect(await forbidden.json()).toEqual({
      type: 'error',
      id: 'r1',
      code: 'forbidden',
      message: expect.any(String),
    });
    expect(await (await call('$default', 'not json')).json()).toMatchObject({ code: 'bad_request' });
    expect(await (await call('unsubscribe', frame('unsubscribe'))).json()).toMatchObject({
      code: 'bad_request',
    });
    expect(metrics.total('RouteErrors')).toBe(3);
  });

  it('answers a store failure on a two-way route with the internal error frame, without the error text', async () => {
    store.failWrites = true;
    const response = await call('subscribe', frame('subscribe', { topics: ['demo/*'] }));
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ type: 'error', id: 'r1', code: 'internal' });
    expect(body).not.toContain('fanout-connections');
  });

  it('answers a store failure on $connect with 502, the status a failing connect function gives the handshake, and logs it with the route and connection', async () => {
    store.failWrites = true;
    expect((await call('$connect')).status).toBe(502);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'route failed',
        extra: [expect.objectContaining({ routeKey: '$connect', connectionId: CONNECTION_ID })],
      }),
    );
  });

  it('answers a $disconnect failure with 502 too (API Gateway ignores it), logging it', async () => {
    jest.spyOn(store, 'removeConnection').mockRejectedValueOnce(new Error('table gone'));
    expect((await call('$disconnect')).status).toBe(502);
    expect(log.entries.some((entry) => entry.message === 'route failed')).toBe(true);
  });

  it('deletes the connection on $disconnect with its close status logged', async () => {
    await connected();
    await call('subscribe', frame('subscribe', { topics: ['demo/*'] }));
    const response = await call('$disconnect', '', { DisconnectStatusCode: '1000', DisconnectReason: 'bye' });
    expect(response.status).toBe(200);
    expect(await usersConnections()).toEqual([]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: 'disconnected',
        extra: [expect.objectContaining({ disconnectStatusCode: 1000, disconnectReason: 'bye' })],
      }),
    );
  });

  it('logs one line per call with route, connection, status and duration, and never the frame', async () => {
    await connected();
    await call('subscribe', frame('subscribe', { topics: ['demo/*'], marker: 'Qx81Zt' }));
    const calls = log.entries.filter((entry) => entry.message === 'call');
    expect(calls.map((entry) => entry.extra[0])).toEqual([
      { routeKey: '$connect', connectionId: CONNECTION_ID, status: 200, durationMs: expect.any(Number) },
      { routeKey: 'subscribe', connectionId: CONNECTION_ID, status: 200, durationMs: expect.any(Number) },
    ]);
    expect(JSON.stringify(log.entries)).not.toContain('Qx81Zt');
  });

  it('logs a call whose caller went away mid-body as failed, and keeps serving', async () => {
    const req = httpRequest(`${backend.url}${BACKEND_ROUTES.subscribe.path}`, {
      method: 'POST',
      headers: { ...gatewayHeaders('subscribe'), 'content-length': '1000' },
    });
    req.on('error', () => {}); // the socket is cut on purpose
    req.write('{"action":"sub');
    await waitFor(() => backend.inFlight() === 1);
    req.destroy();
    await waitFor(() => log.entries.some((entry) => entry.message === 'call failed'));
    expect(log.entries.find((entry) => entry.message === 'call failed')?.level).toBe('error');
    expect((await fetch(`${backend.url}/health`)).status).toBe(200);
  });

  it('finishes the calls in flight on close(), refuses new connections, and resolves once they are answered', async () => {
    await connected();
    let release: () => void = () => {};
    store.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inFlight = call('subscribe', frame('subscribe', { topics: ['demo/*'] }));
    await waitFor(() => backend.inFlight() === 1);
    let closed = false;
    const closing = backend.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    await expect(fetch(`${backend.url}/health`)).rejects.toThrow();

    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.headers.get('connection')).toBe('close');
    expect(await response.json()).toMatchObject({ type: 'subscribed' });
    await closing;
    expect(closed).toBe(true);
    expect(log.entries.map((entry) => entry.message)).toEqual(
      expect.arrayContaining(['stopping', 'stopped']),
    );
  });

  it('cuts the calls still in flight at the shutdown timeout, logging how many', async () => {
    await backend.close();
    const ports = { logger: log, metrics };
    backend = await startBackend({
      routes: {
        connect: { store, ...ports },
        disconnect: { store, ...ports },
        default: ports,
        subscribe: { store, ...ports },
        unsubscribe: { store, ...ports },
      },
      proof: new GatewayProof(SECRET),
      log,
      shutdownTimeoutMs: 100,
    });
    store.gate = new Promise<void>(() => {});
    const inFlight = call('subscribe', frame('subscribe', { topics: ['demo/*'] })).catch((err: Error) => err);
    await waitFor(() => backend.inFlight() === 1);
    await backend.close();
    expect(await inFlight).toMatchObject({ message: 'fetch failed' });
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'calls still in flight at the shutdown timeout were cut',
        extra: [{ inFlight: 1 }],
      }),
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
