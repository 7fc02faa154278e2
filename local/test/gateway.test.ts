import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, connect as tcpConnect } from 'node:net';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import { startGateway } from '../gateway/index.js';
import type { GatewayHandle, GatewayOptions, Integration } from '../gateway/types.js';
import { handshakeStatus, openClient, type TestClient } from './support/ws-client.js';

type Event = Record<string, unknown>;
interface Call {
  routeKey: string;
  event: Event;
}

/** Integrations that record every event they get and answer with what the test says. */
class Recorder {
  readonly calls: Call[] = [];
  private waiters: Array<() => void> = [];

  integration(respond: (event: Event) => unknown = () => ({ statusCode: 200 })): Integration {
    return async (event, info) => {
      const recorded = event as Event;
      this.calls.push({ routeKey: info.routeKey, event: recorded });
      for (const wake of this.waiters.splice(0)) wake();
      return respond(recorded);
    };
  }

  of(routeKey: string): Event[] {
    return this.calls.filter((c) => c.routeKey === routeKey).map((c) => c.event);
  }

  /** The `n`th (1-based) event for a route, waiting up to `timeoutMs` for it. */
  async nth(routeKey: string, n = 1, timeoutMs = 2_000): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.of(routeKey)[n - 1];
      if (event) return event;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${routeKey} event #${n} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

const ctx = (event: Event): Event => event.requestContext as Event;

let gateways: GatewayHandle[] = [];
let clients: TestClient[] = [];
let sdkClients: ApiGatewayManagementApiClient[] = [];

afterEach(async () => {
  for (const client of clients) client.ws.terminate();
  await Promise.all(gateways.map((g) => g.close({ fireDisconnect: false })));
  for (const sdk of sdkClients) sdk.destroy();
  gateways = [];
  clients = [];
  sdkClients = [];
});

async function gateway(
  options: Partial<GatewayOptions> = {},
): Promise<{ gw: GatewayHandle; rec: Recorder; sdk: ApiGatewayManagementApiClient }> {
  const rec = new Recorder();
  const gw = await startGateway({
    integrations: {
      $connect: rec.integration(),
      $disconnect: rec.integration(),
      $default: rec.integration(() => ({ statusCode: 200, body: 'default-reply' })),
      subscribe: rec.integration((event) => ({ statusCode: 200, body: `subscribed:${String(event.body)}` })),
      publish: rec.integration(() => ({ statusCode: 200, body: 'one-way routes never send this' })),
    },
    twoWayRoutes: ['$default', 'subscribe'],
    ...options,
  });
  gateways.push(gw);
  const sdk = new ApiGatewayManagementApiClient({
    endpoint: gw.managementEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  sdkClients.push(sdk);
  return { gw, rec, sdk };
}

async function connect(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]) {
  const client = await openClient(url, options, protocols);
  clients.push(client);
  return client;
}

async function connectionIdOf(rec: Recorder): Promise<string> {
  return String(ctx(await rec.nth('$connect')).connectionId);
}

async function sdkError(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`non-Error rejection: ${String(err)}`);
  }
  throw new Error('expected the call to fail');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const allow = (methodArn: string, context: Record<string, unknown> = {}) => ({
  principalId: 'alice',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
  },
  context,
});

describe('local API Gateway: $connect', () => {
  test('the CONNECT event has the shape API Gateway sends, query parameters included', async () => {
    const { gw, rec } = await gateway({ stage: 'dev', apiId: 'abc123' });
    const client = await connect(`${gw.url}?token=t1&topic=a&topic=b`, {
      headers: { 'User-Agent': 'jest-ua' },
    });
    const event = await rec.nth('$connect');

    expect(event).toMatchObject({
      queryStringParameters: { token: 't1', topic: 'b' },
      multiValueQueryStringParameters: { token: ['t1'], topic: ['a', 'b'] },
      isBase64Encoded: false,
    });
    const headers = event.headers as Record<string, string>;
    expect(headers).toMatchObject({
      Host: `127.0.0.1:${gw.port}`,
      'Sec-WebSocket-Version': '13',
      'X-Forwarded-For': '127.0.0.1',
      'X-Forwarded-Port': String(gw.port),
    });
    expect(headers['Sec-WebSocket-Key']).toEqual(expect.any(String));
    expect(headers['X-Amzn-Trace-Id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(Object.keys(headers).map((k) => k.toLowerCase())).not.toContain('upgrade');
    expect(event.multiValueHeaders).toMatchObject({ Host: [`127.0.0.1:${gw.port}`] });

    const rc = ctx(event);
    expect(rc).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'dev',
      apiId: 'abc123',
      domainName: `127.0.0.1:${gw.port}`,
      identity: { sourceIp: '127.0.0.1', userAgent: 'jest-ua' },
    });
    expect(rc.connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(rc.requestId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(rc.extendedRequestId).toBe(rc.requestId);
    expect(rc.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(typeof rc.connectedAt).toBe('number');
    expect(rc.requestTimeEpoch).toBeGreaterThanOrEqual(Number(rc.connectedAt));
    expect(rc).not.toHaveProperty('authorizer');
    expect(rc).not.toHaveProperty('messageId');
    expect(gw.connections()).toEqual([rc.connectionId]);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  test('a connect URL without a query string omits both query parameter maps', async () => {
    const { gw, rec } = await gateway();
    await connect(gw.url);
    const event = await rec.nth('$connect');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('multiValueQueryStringParameters');
  });

  test('a $connect result outside 2xx refuses the handshake with that status and never fires $disconnect', async () => {
    const rec = new Recorder();
    const { gw } = await gateway({
      integrations: { $connect: async () => ({ statusCode: 429 }), $disconnect: rec.integration() },
    });
    expect((await handshakeStatus(gw.url)).status).toBe(429);
    await sleep(50);
    expect(gw.connections()).toEqual([]);
    expect(rec.calls).toEqual([]);
  });

  test('a throwing $connect integration refuses the handshake with 502, as API Gateway does, and never fires $disconnect', async () => {
    const rec = new Recorder();
    const { gw } = await gateway({
      integrations: {
        $connect: async () => {
          throw new Error('boom');
        },
        $disconnect: rec.integration(),
      },
    });
    expect((await handshakeStatus(gw.url)).status).toBe(502);
    await sleep(50);
    expect(rec.of('$disconnect')).toEqual([]);
  });

  test('the connection cannot be posted to while $connect is still running (410, as on AWS)', async () => {
    let sdk: ApiGatewayManagementApiClient | undefined;
    let errorName = '';
    const { gw, sdk: client } = await gateway({
      integrations: {
        $connect: async (event) => {
          const id = String(ctx(event as Event).connectionId);
          const post = sdk?.send(
            new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('early') }),
          );
          errorName = await sdkError(post ?? Promise.resolve()).then((err) => err.name);
          return { statusCode: 200 };
        },
      },
    });
    sdk = client;
    const ws = await connect(gw.url);
    expect(errorName).toBe('GoneException');
    await ws.expectSilence(50);
  });

  test('a subprotocol is agreed only when $connect returns it in Sec-WebSocket-Protocol', async () => {
    const { gw } = await gateway({
      integrations: {
        $connect: async (event) => {
          const offered = ((event as Event).headers as Record<string, string>)['Sec-WebSocket-Protocol'];
          return offered?.includes('v2')
            ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'v2' } }
            : {};
        },
      },
    });
    const client = await connect(gw.url, {}, ['v2']);
    expect(client.ws.protocol).toBe('v2');
    await expect(openClient(gw.url, {}, ['v1'])).rejects.toThrow(/subprotocol/);
  });
});

describe('local API Gateway: REQUEST authorizer', () => {
  const identitySource = 'route.request.querystring.token';

  test('a missing identity source is refused with 401 without invoking the authorizer', async () => {
    const invoke = jest.fn(async () => ({}));
    const { gw, rec } = await gateway({ authorizer: { identitySource, invoke } });
    expect((await handshakeStatus(gw.url)).status).toBe(401);
    expect((await handshakeStatus(`${gw.url}?token=`)).status).toBe(401);
    expect(invoke).not.toHaveBeenCalled();
    expect(rec.calls).toEqual([]);
  });

  test('an authorizer failing with exactly "Unauthorized" is a 401', async () => {
    const { gw, rec } = await gateway({
      authorizer: {
        identitySource,
        invoke: async () => {
          throw new Error('Unauthorized');
        },
      },
    });
    expect((await handshakeStatus(`${gw.url}?token=bad`)).status).toBe(401);
    expect(rec.calls).toEqual([]);
  });

  test('any other authorizer failure is a 500', async () => {
    const { gw } = await gateway({
      authorizer: {
        identitySource,
        invoke: async () => {
          throw new Error('Invalid token');
        },
      },
    });
    expect((await handshakeStatus(`${gw.url}?token=bad`)).status).toBe(500);
  });

  test('an explicit Deny, or no Allow for the $connect method ARN, is a 403', async () => {
    const { gw, rec } = await gateway({
      authorizer: {
        identitySource,
        invoke: async (event) => {
          const { methodArn, queryStringParameters } = event as {
            methodArn: string;
            queryStringParameters: Event;
          };
          const policy = allow(methodArn);
          if (queryStringParameters.token === 'deny') {
            policy.policyDocument.Statement.push({
              Action: 'execute-api:Invoke',
              Effect: 'Deny',
              Resource: '*',
            });
          } else {
            policy.policyDocument.Statement = [
              { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${methodArn.slice(0, -9)}/other` },
            ];
          }
          return policy;
        },
      },
    });
    expect((await handshakeStatus(`${gw.url}?token=deny`)).status).toBe(403);
    expect((await handshakeStatus(`${gw.url}?token=elsewhere`)).status).toBe(403);
    expect(rec.calls).toEqual([]);
  });

  test('an Allow passes its stringified context to $connect and to every later event of the connection', async () => {
    const authorizerEvents: Event[] = [];
    const { gw, rec } = await gateway({
      region: 'eu-west-1',
      accountId: '123456789012',
      apiId: 'api42',
      authorizer: {
        identitySource,
        invoke: async (event) => {
          authorizerEvents.push(event as Event);
          return allow(String((event as Event).methodArn), { sub: 'alice', n: 7, admin: false, gone: null });
        },
      },
    });
    const client = await connect(`${gw.url}?token=good`);

    const authEvent = authorizerEvents[0] ?? {};
    expect(authEvent).toMatchObject({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:api42/local/$connect',
      queryStringParameters: { token: 'good' },
      stageVariables: {},
      requestContext: { routeKey: '$connect', eventType: 'CONNECT', apiId: 'api42' },
    });
    expect(Object.keys(authEvent.headers as Event)).toEqual(
      expect.arrayContaining(['Connection', 'Upgrade']),
    );

    const connectContext = ctx(await rec.nth('$connect'));
    expect(connectContext.connectionId).toBe(ctx(authEvent).connectionId);
    expect(connectContext.authorizer).toEqual({
      sub: 'alice',
      n: '7',
      admin: 'false',
      principalId: 'alice',
      integrationLatency: expect.any(Number),
    });

    await client.send('{"action":"subscribe"}');
    expect(ctx(await rec.nth('subscribe')).authorizer).toEqual({
      sub: 'alice',
      n: '7',
      admin: 'false',
      principalId: 'alice',
    });

    client.ws.close(1000);
    expect(ctx(await rec.nth('$disconnect')).authorizer).toEqual({
      sub: 'alice',
      n: '7',
      admin: 'false',
      principalId: 'alice',
    });
  });
});

describe('local API Gateway: messages', () => {
  test('messages are routed by their action, falling back to $default for anything else', async () => {
    const { gw, rec } = await gateway();
    const client = await connect(gw.url);
    const connectedAt = ctx(await rec.nth('$connect')).connectedAt;

    await client.send('{"action":"subscribe","topics":["a/*"]}');
    expect((await client.next()).text).toBe('subscribed:{"action":"subscribe","topics":["a/*"]}');
    for (const body of [
      '{"action":"nope"}',
      'not json',
      '["subscribe"]',
      '{"action":"$connect"}',
      '{"action":1}',
    ]) {
      await client.send(body);
      expect((await client.next()).text).toBe('default-reply');
    }
    expect(rec.of('$default').map((e) => e.body)).toEqual([
      '{"action":"nope"}',
      'not json',
      '["subscribe"]',
      '{"action":"$connect"}',
      '{"action":1}',
    ]);

    const message = await rec.nth('subscribe');
    expect(Object.keys(message).sort()).toEqual(['body', 'isBase64Encoded', 'requestContext']);
    expect(message.isBase64Encoded).toBe(false);
    expect(ctx(message)).toMatchObject({
      routeKey: 'subscribe',
      eventType: 'MESSAGE',
      messageDirection: 'IN',
      connectedAt,
      messageId: expect.stringMatching(/^[A-Za-z0-9_-]{15}=$/),
    });
    expect(ctx(message).requestTimeEpoch).toEqual(expect.any(Number));
  });

  test('a one-way route sends nothing back even when its integration returns a body', async () => {
    const { gw, rec } = await gateway();
    const client = await connect(gw.url);
    await client.send('{"action":"publish"}');
    await rec.nth('publish');
    await client.expectSilence(150);
  });

  test('a two-way reply is sent whatever statusCode the integration returned', async () => {
    const { gw } = await gateway({
      integrations: { $default: async () => ({ statusCode: 500, body: 'still delivered' }) },
      twoWayRoutes: ['$default'],
    });
    const client = await connect(gw.url);
    await client.send('hello');
    expect((await client.next()).text).toBe('still delivered');
  });

  test('a throwing integration makes the gateway send its "Internal server error" frame', async () => {
    const { gw } = await gateway({
      integrations: {
        $default: async () => {
          throw new Error('handler bug');
        },
      },
    });
    const client = await connect(gw.url);
    await client.send('{"action":"whatever"}');
    const frame = (await client.next()).text;
    expect(frame).toMatch(
      /^\{"message": "Internal server error", "connectionId":"[A-Za-z0-9_-]{15}=", "requestId":"[A-Za-z0-9_-]{15}="\}$/,
    );
    expect(JSON.parse(frame)).toMatchObject({ connectionId: gw.connections()[0] });
  });

  test('an integration slower than the integration timeout makes the gateway send "Endpoint request timed out"', async () => {
    const { gw } = await gateway({
      integrationTimeoutMs: 100,
      integrations: { $default: () => new Promise((resolve) => setTimeout(resolve, 400)) },
    });
    const client = await connect(gw.url);
    await client.send('slow');
    expect(JSON.parse((await client.next()).text)).toMatchObject({ message: 'Endpoint request timed out' });
  });

  test('without a $default route an unmatched message gets the "Forbidden" frame', async () => {
    const rec = new Recorder();
    const { gw } = await gateway({ integrations: { subscribe: rec.integration() } });
    const client = await connect(gw.url);
    await client.send('{"action":"unknown"}');
    expect((await client.next()).text).toMatch(
      /^\{"message": "Forbidden", "connectionId":"[^"]+", "requestId":"[^"]+"\}$/,
    );
    expect(rec.calls).toEqual([]);
  });
});

describe('local API Gateway: @connections through the real SDK client', () => {
  test('PostToConnection delivers the exact bytes, as text when they are UTF-8', async () => {
    const { gw, rec, sdk } = await gateway();
    const client = await connect(gw.url);
    const id = await connectionIdOf(rec);

    const text = '{"type":"event","data":"héllo ✓ 🚀"}';
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from(text) }));
    const received = await client.next();
    expect(received.isBinary).toBe(false);
    expect(received.text).toBe(text);

    // Over one 32 KB frame: split into frames, reassembled by the client.
    const big = `${'x'.repeat(100_000)}é`;
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from(big) }));
    expect((await client.next()).text).toBe(big);

    const bytes = Buffer.from([0xff, 0x00, 0xfe]);
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: bytes }));
    const binary = await client.next();
    expect(binary.isBinary).toBe(true);
    expect(binary.data.equals(bytes)).toBe(true);
  });

  test('onConnectionsCall hears each answered call with its status, after the frame is on the socket', async () => {
    const calls: { method: string; connectionId: string; status: number; data?: string }[] = [];
    const { gw, rec, sdk } = await gateway({
      onConnectionsCall: (call, status, data) =>
        calls.push({ ...call, status, ...(data ? { data: data.toString('utf8') } : {}) }),
    });
    const client = await connect(gw.url);
    const id = await connectionIdOf(rec);

    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('{"type":"event"}') }));
    await client.next();
    await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    await sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
    await sdkError(sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('late') })));
    // Not a call: the stage URL itself.
    await fetch(gw.managementEndpoint);

    expect(calls).toEqual([
      { method: 'POST', connectionId: id, status: 200, data: '{"type":"event"}' },
      { method: 'GET', connectionId: id, status: 200 },
      { method: 'DELETE', connectionId: id, status: 204 },
      { method: 'POST', connectionId: id, status: 410, data: 'late' },
    ]);
  });

  test('serveConnectionsCall answers a request another server accepted as its own endpoint would', async () => {
    const { gw, rec } = await gateway();
    const client = await connect(gw.url);
    const id = await connectionIdOf(rec);
    const front = createHttpServer((req, res) => gw.serveConnectionsCall(req, res));
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = front.address() as AddressInfo;
      const base = `http://127.0.0.1:${port}/${new URL(gw.managementEndpoint).pathname.slice(1)}`;
      const posted = await fetch(`${base}/@connections/${encodeURIComponent(id)}`, {
        method: 'POST',
        body: 'through the front',
      });
      expect(posted.status).toBe(200);
      expect((await client.next()).text).toBe('through the front');
      const gone = await fetch(`${base}/@connections/${encodeURIComponent('AAAAAAAAAAAAAAA=')}`, {
        method: 'POST',
        body: 'x',
      });
      expect([gone.status, gone.headers.get('x-amzn-errortype')]).toEqual([410, 'GoneException']);
    } finally {
      await new Promise<void>((resolve) => front.close(() => resolve()));
    }
  });

  test('GetConnection returns connectedAt, lastActiveAt and identity, and lastActiveAt follows client messages', async () => {
    const { gw, rec, sdk } = await gateway();
    const client = await connect(gw.url, { headers: { 'User-Agent': 'dashboard/1.0' } });
    const id = await connectionIdOf(rec);
    const connectedAt = Number(ctx(await rec.nth('$connect')).connectedAt);

    const first = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(first.ConnectedAt?.getTime()).toBe(connectedAt);
    expect(first.LastActiveAt?.getTime()).toBe(connectedAt);
    expect(first.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'dashboard/1.0' });

    await sleep(20);
    await client.send('{"action":"ping"}');
    await rec.nth('$default');
    const second = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(second.LastActiveAt?.getTime()).toBeGreaterThan(connectedAt);
  });

  test('DeleteConnection closes the socket and fires $disconnect with 1000 "Connection Closed Normally"', async () => {
    const { gw, rec, sdk } = await gateway();
    const client = await connect(gw.url);
    const id = await connectionIdOf(rec);

    await sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
    expect(await client.closed).toEqual({ code: 1000, reason: 'Connection Closed Normally' });
    const disconnect = await rec.nth('$disconnect');
    expect(ctx(disconnect)).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId: id,
      disconnectStatusCode: 1000,
      disconnectReason: 'Connection Closed Normally',
    });
    expect(disconnect.headers).toEqual({
      Host: `127.0.0.1:${gw.port}`,
      'x-api-key': '',
      'X-Forwarded-For': '',
      'x-restapi': '',
    });
    expect(gw.connections()).toEqual([]);
    const err = await sdkError(sdk.send(new DeleteConnectionCommand({ ConnectionId: id })));
    expect(err.name).toBe('GoneException');
  });

  test('posting to a closed or unknown connection fails with GoneException (410)', async () => {
    const { gw, rec, sdk } = await gateway();
    const client = await connect(gw.url);
    const id = await connectionIdOf(rec);
    client.ws.close(1000, 'bye');
    await rec.nth('$disconnect');

    const gone = await sdkError(
      sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') })),
    );
    expect(gone.name).toBe('GoneException');
    expect(gone.$metadata?.httpStatusCode).toBe(410);
    const unknown = await sdkError(sdk.send(new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' })));
    expect(unknown.name).toBe('GoneException');
  });

  test('a connection id that cannot be one fails with BadRequestException (400), not 410', async () => {
    const { gw, sdk } = await gateway();
    for (const id of ['nope', 'AAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAA=', 'AAAAAAAAAAAAAA+=', '%E0%A4%A']) {
      const err = await sdkError(
        sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') })),
      );
      expect({ id, name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({
        id,
        name: 'BadRequestException',
        status: 400,
      });
    }
    const raw = await fetch(`${gw.managementEndpoint}/@connections/%E0%A4%A`, { method: 'DELETE' });
    expect([raw.status, raw.headers.get('x-amzn-errortype')]).toEqual([400, 'BadRequestException']);
  });

  test('PostToConnection data over 131072 bytes fails with PayloadTooLargeException (413)', async () => {
    const { gw, rec, sdk } = await gateway();
    const client = await connect(gw.url);
    const id = await connectionIdOf(rec);

    const err = await sdkError(
      sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(131_073, 0x61) })),
    );
    expect(err.name).toBe('PayloadTooLargeException');
    expect(err.$metadata?.httpStatusCode).toBe(413);
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(131_072, 0x61) }));
    expect((await client.next()).data.length).toBe(131_072);
  });

  test('injected faults come back as the named AWS errors, after the injected latency', async () => {
    const { gw, rec, sdk } = await gateway({
      faults: { beforeConnectionsCall: () => ({ status: 429, errorType: 'LimitExceededException' }) },
    });
    const client = await connect(gw.url);
    const id = await connectionIdOf(rec);
    const post = () => sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') }));

    const throttled = await sdkError(post());
    expect(throttled.name).toBe('LimitExceededException');
    expect(throttled.$metadata?.httpStatusCode).toBe(429);

    gw.setFaults({
      latencyMs: 120,
      beforeConnectionsCall: async ({ method }) =>
        method === 'POST'
          ? { status: 500, errorType: 'InternalServerErrorException', message: 'oops' }
          : undefined,
    });
    const started = Date.now();
    const failed = await sdkError(post());
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(failed.name).toBe('InternalServerErrorException');
    expect(failed.$metadata?.httpStatusCode).toBe(500);
    await expect(sdk.send(new GetConnectionCommand({ ConnectionId: id }))).resolves.toBeDefined();

    gw.setFaults(undefined);
    await post();
    expect((await client.next()).text).toBe('x');
  });

  test('the raw HTTP API accepts %40connections with an encoded id and answers bad paths and methods in JSON', async () => {
    const { gw, rec } = await gateway();
    await connect(gw.url);
    const id = await connectionIdOf(rec);
    const base = gw.managementEndpoint;

    const get = await fetch(`${base}/%40connections/${encodeURIComponent(id)}`);
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({
      connectedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      identity: { sourceIp: '127.0.0.1' },
      lastActiveAt: expect.any(String),
    });

    const gone = await fetch(`${base}/@connections/AAAAAAAAAAAAAAA%3D`, { method: 'POST', body: 'x' });
    expect(gone.status).toBe(410);
    expect(gone.headers.get('x-amzn-errortype')).toBe('GoneException');
    expect(gone.headers.get('content-type')).toBe('application/json');
    expect(gone.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await gone.json()).toEqual({ message: expect.any(String) });

    const put = await fetch(`${base}/@connections/${encodeURIComponent(id)}`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(await put.json()).toEqual({ message: 'Method Not Allowed' });
    const elsewhere = await fetch(`${base}/other/${id}`);
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toEqual({ message: 'Not Found' });
  });
});

describe('local API Gateway: limits and disconnects', () => {
  test('an idle connection is closed with 1001 and $disconnect fires, while client messages keep it open', async () => {
    const { gw, rec } = await gateway({ idleTimeoutMs: 250 });
    const client = await connect(gw.url);
    for (let i = 0; i < 3; i += 1) {
      await sleep(150);
      await client.send('{"action":"ping"}');
    }
    expect(client.ws.readyState).toBe(WebSocket.OPEN);

    expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
    expect(ctx(await rec.nth('$disconnect'))).toMatchObject({
      disconnectStatusCode: 1001,
      disconnectReason: 'Going away',
    });
  });

  test('WebSocket ping frames do not count as activity for the idle timeout', async () => {
    const { gw } = await gateway({ idleTimeoutMs: 200 });
    const client = await connect(gw.url);
    const timer = setInterval(() => client.ws.ping(), 50);
    try {
      expect((await client.closed).code).toBe(1001);
    } finally {
      clearInterval(timer);
    }
  });

  test('PostToConnection counts as activity for the idle timeout unless outgoingResetsIdle is false', async () => {
    for (const outgoingResetsIdle of [true, false]) {
      const { gw, rec, sdk } = await gateway({ idleTimeoutMs: 250, outgoingResetsIdle });
      const client = await connect(gw.url);
      const id = await connectionIdOf(rec);
      for (let i = 0; i < 3 && client.ws.readyState === WebSocket.OPEN; i += 1) {
        await sleep(150);
        await sdk
          .send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('tick') }))
          .catch(() => {});
      }
      expect(client.ws.readyState === WebSocket.OPEN).toBe(outgoingResetsIdle);
    }
  });

  test('a connection is closed at the maximum duration however active it is', async () => {
    const { gw, rec } = await gateway({ maxConnectionMs: 300 });
    const client = await connect(gw.url);
    const timer = setInterval(() => client.ws.send('{"action":"ping"}'), 50);
    try {
      expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
    } finally {
      clearInterval(timer);
    }
    expect(ctx(await rec.nth('$disconnect')).disconnectStatusCode).toBe(1001);
  });

  test('a client that vanishes without a close frame fires $disconnect with 1006', async () => {
    const { gw, rec } = await gateway();
    const client = await connect(gw.url);
    client.ws.terminate();
    expect(ctx(await rec.nth('$disconnect'))).toMatchObject({
      disconnectStatusCode: 1006,
      disconnectReason: '',
    });
    expect(gw.connections()).toEqual([]);
  });

  test('a client close frame reaches $disconnect with its code and reason, exactly once', async () => {
    const { gw, rec } = await gateway();
    const client = await connect(gw.url);
    client.ws.close(4000, 'bye');
    await client.closed;
    expect(ctx(await rec.nth('$disconnect'))).toMatchObject({
      disconnectStatusCode: 4000,
      disconnectReason: 'bye',
    });
    await sleep(50);
    expect(rec.of('$disconnect')).toHaveLength(1);
  });

  test('a client message over 128 KB closes the connection with 1009', async () => {
    const { gw, rec } = await gateway();
    const client = await connect(gw.url);
    client.ws.send('x'.repeat(128 * 1024 + 1));
    expect((await client.closed).code).toBe(1009);
    expect(ctx(await rec.nth('$disconnect')).disconnectStatusCode).toBe(1009);
    expect(rec.of('$default')).toEqual([]);
  });

  test('a single frame over 32 KB closes with 1009, while a fragmented 90 KB message is delivered', async () => {
    const { gw, rec } = await gateway();
    const fragmented = await connect(gw.url);
    const part = 'y'.repeat(30 * 1024);
    fragmented.ws.send(part, { fin: false });
    fragmented.ws.send(part, { fin: false });
    fragmented.ws.send(part, { fin: true });
    expect((await fragmented.next()).text).toBe('default-reply');
    expect((await rec.nth('$default')).body).toBe(part.repeat(3));

    const tooLong = await connect(gw.url);
    for (let i = 0; i < 5; i += 1) tooLong.ws.send(part, { fin: i === 4 });
    expect((await tooLong.closed).code).toBe(1009);

    const single = await connect(gw.url);
    single.ws.send('z'.repeat(32 * 1024 + 1));
    expect((await single.closed).code).toBe(1009);
    expect(rec.of('$default')).toHaveLength(1);
  });

  test('a binary frame closes the connection with 1003', async () => {
    const { gw, rec } = await gateway();
    const client = await connect(gw.url);
    client.ws.send(Buffer.from([1, 2, 3]));
    expect((await client.closed).code).toBe(1003);
    expect(ctx(await rec.nth('$disconnect')).disconnectStatusCode).toBe(1003);
  });

  test('close() says Going away to clients, fires $disconnect and frees the port', async () => {
    const rec = new Recorder();
    const gw = await startGateway({ integrations: { $disconnect: rec.integration() } });
    const client = await openClient(gw.url);
    await gw.close();

    expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
    expect(rec.of('$disconnect')).toHaveLength(1);
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(gw.port, '127.0.0.1', () => probe.close(() => resolve()));
    });
  });

  test('close() does not wait for an @connections request whose body never arrives', async () => {
    const gw = await startGateway({ integrations: {} });
    const socket = tcpConnect(gw.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST /local/@connections/abc HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial');
    await sleep(50);
    const started = Date.now();
    await gw.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    socket.destroy();
  });
});
