/**
 * The local platform with `routeBackend: 'http'` (`fanout dev --route-backend http`): the gateway calls
 * the built `fanout backend` (dist/backend, in its own process) through HTTP integrations with the
 * request parameters of shared/backend/contract.ts, instead of invoking route Lambdas; the authorizer
 * and the fan-out stay Lambda. Driven as users drive it: `ws` clients, PutEvents through the SDK.
 * What both shapes must do alike (replies, error frames, rows) is platform.test.ts, which runs on each;
 * here is what only the backend has: its calls and logs, the proof, forged headers, SIGTERM.
 */
import WebSocket from 'ws';
import { BACKEND_ROUTES, MAPPED_HEADERS, PROOF_HEADER } from '../../shared/backend/contract';
import { type PlatformHarness, startHarness, waitUntil } from '../support/platform';

let h: PlatformHarness;

const backend = () => {
  const started = h.platform.backend;
  if (!started) throw new Error('the platform runs no backend');
  return started;
};

/** The backend's JSON log lines. */
const backendLogs = (): Record<string, unknown>[] =>
  h.logs
    .filter((entry) => entry.functionName.endsWith('-backend'))
    .flatMap((entry) => {
      try {
        return [JSON.parse(entry.line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

/** A call to the backend from outside the gateway, with whatever headers the caller chooses. */
const callBackend = (route: keyof typeof BACKEND_ROUTES, headers: Record<string, string>, body = '') =>
  fetch(`${backend().url}${BACKEND_ROUTES[route].path}`, { method: 'POST', headers, body });

/**
 * The README walkthrough, with every reply checked. Resolves with the connection id once the
 * connection's rows are gone.
 */
async function walkthrough(harness: PlatformHarness): Promise<string> {
  const client = await harness.connect('demo', ['demo/*', 'users/{sub}/*']);
  expect((await harness.rowsOf(client.connectionId)).length).toBeGreaterThan(0);

  expect(await client.request({ action: 'subscribe', topics: ['demo/*'] })).toEqual({
    type: 'subscribed',
    id: expect.any(String),
    topics: ['demo/*'],
    position: expect.stringMatching(/^\d{13}$/),
    settleMs: expect.any(Number),
  });
  const [eventId] = await harness.publish({ detail: { topics: ['demo/hello'], data: { hello: 'world' } } });
  expect(await client.waitFor((f) => f.id === eventId, 'the demo/hello event')).toMatchObject({
    type: 'event',
    topic: 'demo/hello',
    subscription: 'demo/*',
    data: { hello: 'world' },
  });

  expect(await client.request({ action: 'unsubscribe', topics: ['demo/*'] })).toEqual({
    type: 'unsubscribed',
    id: expect.any(String),
    topics: ['demo/*'],
  });
  expect(await client.request({ action: 'ping' })).toEqual({
    type: 'pong',
    id: expect.any(String),
    position: expect.any(String),
  });
  // The same error frames as the Lambda routes.
  expect(await client.request({ action: 'subscribe', topics: ['secret/plans'] })).toEqual({
    type: 'error',
    id: expect.any(String),
    code: 'forbidden',
    message: 'not allowed to subscribe to "secret/plans"',
  });
  expect(await client.request({ action: 'dance' })).toMatchObject({ type: 'error', code: 'unknown_action' });

  await client.close();
  await waitUntil(
    async () => (await harness.rowsOf(client.connectionId)).length === 0,
    'the rows of the closed connection to be removed by $disconnect',
  );
  expect(await harness.connectionRows()).toEqual([]);
  return client.connectionId;
}

describe('the local platform with the routes on fanout backend', () => {
  beforeAll(async () => {
    h = await startHarness({ routeBackend: 'http' });
  }, 60_000);

  afterEach(async () => {
    await h.closeClients();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('runs the README walkthrough: connect, subscribe, publish, receive, unsubscribe, ping, disconnect, leaving no connection row', async () => {
    // No route function runs: the backend serves every route.
    expect(Object.keys(h.platform.functions).sort()).toEqual(['authorizer', 'fanout']);
    const connectionId = await walkthrough(h);
    // One line per call, naming the route and the connection, and never a token or a frame. The
    // backend logs a call when it answers, which may come a moment after its deletes.
    const calls = (): Record<string, unknown>[] => backendLogs().filter((line) => line.message === 'call');
    await waitUntil(
      () => calls().some((line) => line.routeKey === '$disconnect'),
      'the backend to log the $disconnect call',
    );
    expect(new Set(calls().map((line) => line.routeKey))).toEqual(
      new Set(['$connect', 'subscribe', 'unsubscribe', '$default', '$disconnect']),
    );
    expect(calls().every((line) => line.connectionId === connectionId)).toBe(true);
    const written = h.logs.filter((entry) => entry.functionName.endsWith('-backend')).map((e) => e.line);
    expect(written.join('\n')).not.toMatch(/eyJ|hello|world/);
  });

  it('refuses calls from outside the gateway with 403, a forged connection id included, and writes nothing', async () => {
    const victim = await h.connect('victor', ['demo/*']);
    await h.subscribe(victim, ['demo/*']);
    const rowsBefore = await h.allRows();
    const forged = {
      [MAPPED_HEADERS.connectionId.header]: victim.connectionId,
      [MAPPED_HEADERS.routeKey.header]: 'unsubscribe',
      [MAPPED_HEADERS.eventType.header]: 'MESSAGE',
      [MAPPED_HEADERS.connectedAt.header]: String(Date.now()),
    };
    const body = JSON.stringify({ action: 'unsubscribe', topics: ['demo/*'] });

    const withoutProof = await callBackend('unsubscribe', forged, body);
    expect(withoutProof.status).toBe(403);
    expect(await withoutProof.json()).toMatchObject({ code: 'proof_missing' });
    const wrongProof = await callBackend('unsubscribe', { ...forged, [PROOF_HEADER]: 'x'.repeat(43) }, body);
    expect(wrongProof.status).toBe(403);
    expect(await wrongProof.json()).toMatchObject({ code: 'proof_invalid' });
    const connect = await callBackend('$connect', {
      ...forged,
      [MAPPED_HEADERS.routeKey.header]: '$connect',
      [MAPPED_HEADERS.eventType.header]: 'CONNECT',
      [MAPPED_HEADERS.connectionId.header]: 'Forged0Id000=',
      [MAPPED_HEADERS.topics.header]: '["#"]',
    });
    expect(connect.status).toBe(403);

    expect(await h.allRows()).toEqual(rowsBefore);
    // The victim's subscription still delivers.
    const [eventId] = await h.publish({ detail: { topics: ['demo/still'], data: {} } });
    await victim.waitFor((f) => f.id === eventId, 'the event after the forged unsubscribe');
    expect(backendLogs().filter((line) => line.message === 'call refused')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'proof_missing', status: 403 }),
        expect.objectContaining({ code: 'proof_invalid', status: 403 }),
      ]),
    );
  });

  it('gives the backend the connection id the gateway assigned, whatever mapped headers the client sends on its handshake', async () => {
    const token = await h.token({ sub: 'mallory', topics: ['demo/*'] });
    const before = new Set(h.platform.gateway.connections());
    const ws = new WebSocket(h.url(token), {
      headers: {
        [MAPPED_HEADERS.connectionId.header]: 'Forged0Id000=',
        [MAPPED_HEADERS.topics.header]: '["#"]',
        [PROOF_HEADER]: 'not-the-proof-but-long-enough-0123456789',
      },
    });
    try {
      await new Promise<void>((opened, failed) => {
        ws.once('open', () => opened());
        ws.once('error', failed);
      });
      const [connectionId] = h.platform.gateway.connections().filter((id) => !before.has(id));
      if (!connectionId) throw new Error('the gateway lists no new connection');
      await waitUntil(async () => (await h.rowsOf(connectionId)).length > 0, 'the connection rows');
      expect(await h.rowsOf('Forged0Id000=')).toEqual([]);
      // Its grants are the token's, not the header's: `#` would allow every topic.
      const reply = await new Promise<Record<string, unknown>>((answered) => {
        ws.once('message', (data) => answered(JSON.parse(String(data))));
        ws.send(JSON.stringify({ action: 'subscribe', topics: ['secret/plans'] }));
      });
      expect(reply).toMatchObject({ type: 'error', code: 'forbidden' });
    } finally {
      ws.close(1000);
      await new Promise((closed) => ws.once('close', closed));
    }
    await waitUntil(async () => (await h.connectionRows()).length === 0, 'no connection rows left');
  });

  // Last: it stops the backend.
  it('stops on SIGTERM after answering the call in flight, and exits 0', async () => {
    const client = await h.connect('sigrid', ['demo/*']);
    const first = await h.subscribe(client, ['demo/*']);
    // A subscribe with `since` waits half a second before it reads the history (recovery.ts): the
    // signal arrives while the backend holds the call.
    const subscribedBefore = backendLogs().filter((line) => line.message === 'subscribed').length;
    const reply = client.request({
      action: 'subscribe',
      topics: ['demo/*'],
      since: { 'demo/*': first.position },
    });
    await waitUntil(
      () => backendLogs().filter((line) => line.message === 'subscribed').length > subscribedBefore,
      'the second subscription to be stored',
      5_000,
      2,
    );
    process.kill(backend().pid, 'SIGTERM');

    expect(await reply).toMatchObject({ type: 'subscribed', recovered: true });
    expect(await backend().exited).toBe(0);
    const stopping = backendLogs().find((line) => line.message === 'stopping');
    expect(stopping).toMatchObject({ inFlight: 1 });
    expect(backendLogs().some((line) => line.message === 'stopped')).toBe(true);
    // Nothing answers $disconnect now: cut the client without waiting for its rows.
    client.ws.terminate();
    await client.closed;
  });
});
