import type { AddressInfo } from 'node:net';
import { type EventFrame, FanoutClient, FanoutRequestError } from '@fanout/client';
import WebSocket, { WebSocketServer } from 'ws';
import { waitUntil } from '../../local/test/support/wait';

/** A tiny server speaking the client frames, so the SDK is tested over a real socket. */
async function startServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const sockets: WebSocket[] = [];
  const received: Record<string, unknown>[] = [];
  const tokens: string[] = [];
  wss.on('connection', (socket, request) => {
    tokens.push(new URL(request.url ?? '/', 'http://x').searchParams.get('token') ?? '');
    sockets.push(socket);
    socket.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as Record<string, unknown>;
      received.push(frame);
      const reply =
        frame.action === 'ping'
          ? { type: 'pong', id: frame.id }
          : Array.isArray(frame.topics) && frame.topics.includes('secret')
            ? {
                type: 'error',
                id: frame.id,
                code: 'forbidden',
                message: 'not allowed to subscribe to "secret"',
              }
            : { type: `${String(frame.action)}d`, id: frame.id, topics: frame.topics };
      socket.send(JSON.stringify(reply));
    });
  });
  const url = () => `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/local`;
  return { wss, sockets, received, tokens, url };
}

const event = (id: string): EventFrame => ({
  type: 'event',
  id,
  topic: 'demo/a',
  subscription: 'demo/*',
  source: 's',
  detailType: 'd',
  time: '2026-11-24T10:00:00Z',
  data: { id },
});

describe('FanoutClient', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let client: FanoutClient | undefined;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    client?.close();
    await new Promise((r) => server.wss.close(r));
  });

  it('subscribes with a request id and resolves with the reply', async () => {
    client = new FanoutClient({ url: server.url(), token: 't1', WebSocket });
    await client.connect();
    await expect(client.subscribe('demo/*')).resolves.toEqual(['demo/*']);
    expect(server.tokens).toEqual(['t1']);
    expect(server.received[0]).toEqual({ action: 'subscribe', topics: ['demo/*'], id: 'r1' });
  });

  it('rejects with the server error code', async () => {
    client = new FanoutClient({ url: server.url(), token: 't', WebSocket });
    await client.connect();
    const error = await client.subscribe('secret').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FanoutRequestError);
    expect((error as FanoutRequestError).code).toBe('forbidden');
  });

  it('delivers each event once even when the platform sends it twice', async () => {
    client = new FanoutClient({ url: server.url(), token: 't', WebSocket });
    const events: EventFrame[] = [];
    client.on('event', (e) => events.push(e));
    await client.connect();
    for (const id of ['a', 'a', 'b']) server.sockets[0]?.send(JSON.stringify(event(id)));
    await waitUntil(() => events.length === 2, 'two events', 3000);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('pings on its interval to keep the connection alive', async () => {
    client = new FanoutClient({ url: server.url(), token: 't', WebSocket, pingIntervalMs: 30 });
    await client.connect();
    await waitUntil(() => server.received.filter((f) => f.action === 'ping').length >= 2, 'two pings', 3000);
  });

  it('reconnects with a fresh token and restores its subscriptions after the server drops it', async () => {
    let n = 0;
    client = new FanoutClient({
      url: server.url(),
      token: () => `token-${++n}`,
      WebSocket,
      minReconnectDelayMs: 10,
      maxReconnectDelayMs: 20,
    });
    const states: string[] = [];
    client.on('state', (s) => states.push(s));
    await client.connect();
    await client.subscribe('demo/*', 'other');
    server.sockets[0]?.terminate();
    await waitUntil(
      () => server.sockets.length === 2 && server.received.length === 2,
      'the reconnect and its subscribe',
      3000,
    );
    expect(server.tokens).toEqual(['token-1', 'token-2']);
    expect(server.received[1]).toMatchObject({ action: 'subscribe', topics: ['demo/*', 'other'] });
    // No position came from this server, so there is nothing to recover: a plain resubscribe.
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'connecting', 'open']);
    expect(client.status).toMatchObject({ state: 'open', lastClose: { code: 1006 } });
  });

  it('fails pending requests when the connection closes and stays closed when closed by the user', async () => {
    client = new FanoutClient({ url: server.url(), token: 't', WebSocket, reconnect: false });
    await client.connect();
    server.wss.removeAllListeners('connection');
    server.sockets[0]?.removeAllListeners('message');
    const pending = client.ping();
    server.sockets[0]?.close();
    await expect(pending).rejects.toThrow('connection closed');
    await expect(client.ping()).rejects.toThrow('not connected');
  });

  it('times out a request without a reply', async () => {
    client = new FanoutClient({ url: server.url(), token: 't', WebSocket, requestTimeoutMs: 50 });
    await client.connect();
    server.sockets[0]?.removeAllListeners('message');
    await expect(client.ping()).rejects.toThrow('no reply to ping within 50 ms');
  });

  it('reports a refused connection', async () => {
    const port = (server.wss.address() as AddressInfo).port;
    await new Promise((r) => server.wss.close(r));
    server = await startServer();
    client = new FanoutClient({
      url: `ws://127.0.0.1:${port}/nowhere`,
      token: 't',
      WebSocket,
      reconnect: false,
    });
    await expect(client.connect()).rejects.toThrow();
  });
});
