/**
 * The local gateway's HTTP_PROXY integration (local/gateway/http-integration.ts): what it sends a
 * backend for each kind of event, and how it evaluates request parameters, against a real node:http
 * server on loopback.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { contextValue, httpIntegration, mappedHeaders } from '../gateway/http-integration.js';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let url: string;
const received: Received[] = [];
let answer: { status: number; body: string } = { status: 200, body: '' };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(answer.status, { 'content-length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  answer = { status: 200, body: '' };
});

const context = (eventType: string) => ({
  routeKey: eventType === 'CONNECT' ? '$connect' : 'subscribe',
  eventType,
  connectionId: 'Abc123=',
  connectedAt: 1700000000000,
  identity: { sourceIp: '203.0.113.9' },
  authorizer: { userId: 'alice', topics: '["demo/*"]', principalId: 'alice' },
});

const parameters = {
  'integration.request.header.ConnectionId': 'context.connectionId',
  'integration.request.header.ConnectedAt': 'context.connectedAt',
  'integration.request.header.AuthorizerUserId': 'context.authorizer.userId',
  'integration.request.header.X-Proof': "'the-static-value'",
};

describe('the local HTTP_PROXY integration', () => {
  it('POSTs a message to the URI with its body, the content type, the headers API Gateway adds and the mapped ones, and returns status and body', async () => {
    answer = { status: 200, body: '{"type":"pong"}' };
    const integration = httpIntegration({
      uri: `${url}/routes/subscribe`,
      requestParameters: parameters,
      apiId: 'api1',
    });
    const result = await integration(
      { requestContext: context('MESSAGE'), body: '{"action":"ping"}' },
      { routeKey: 'subscribe' },
    );
    expect(result).toEqual({ statusCode: 200, body: '{"type":"pong"}' });
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/routes/subscribe',
        body: '{"action":"ping"}',
        headers: expect.objectContaining({
          'user-agent': 'AmazonAPIGateway_api1',
          'x-amzn-apigateway-api-id': 'api1',
          'x-forwarded-for': '203.0.113.9',
          'content-type': 'application/json; charset=UTF-8',
          connectionid: 'Abc123=',
          connectedat: '1700000000000',
          authorizeruserid: 'alice',
          'x-proof': 'the-static-value',
        }),
      },
    ]);
  });

  it('passes the handshake headers on $connect, without the hop-by-hop ones, and lets the mapping replace what the client sent under a mapped name', async () => {
    const integration = httpIntegration({
      uri: `${url}/routes/connect`,
      requestParameters: parameters,
      apiId: 'api1',
    });
    const result = await integration(
      {
        requestContext: context('CONNECT'),
        headers: {
          Host: 'example.com',
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version': '13',
          'X-Forwarded-For': '198.51.100.1, 127.0.0.1',
          ConnectionId: 'Forged=',
          'X-Proof': 'forged',
        },
      },
      { routeKey: '$connect' },
    );
    expect(result).toEqual({ statusCode: 200 });
    const [{ headers, body } = { headers: {}, body: 'none' }] = received;
    expect(body).toBe('');
    expect(headers).toMatchObject({
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      'x-forwarded-for': '198.51.100.1, 127.0.0.1',
      connectionid: 'Abc123=',
      'x-proof': 'the-static-value',
    });
    expect(headers.upgrade).toBeUndefined();
    expect(headers.host).not.toBe('example.com');
    expect(headers['content-type']).toBeUndefined();
  });

  it('returns a refusal as the status, for the gateway to act on', async () => {
    answer = { status: 403, body: '' };
    const integration = httpIntegration({
      uri: `${url}/routes/connect`,
      requestParameters: {},
      apiId: 'api1',
    });
    expect(await integration({ requestContext: context('CONNECT') }, { routeKey: '$connect' })).toEqual({
      statusCode: 403,
    });
  });

  it('rejects when the backend cannot be reached, which the gateway answers as a failed integration', async () => {
    const integration = httpIntegration({
      uri: 'http://127.0.0.1:9/routes/default',
      requestParameters: {},
      apiId: 'a',
    });
    await expect(
      integration({ requestContext: context('MESSAGE'), body: '{}' }, { routeKey: '$default' }),
    ).rejects.toThrow();
  });
});

describe('request parameters, evaluated as API Gateway does', () => {
  it('reads context variables (nested ones too) as text, takes quoted static values as they are, and leaves out a variable without a value', () => {
    expect(
      mappedHeaders(
        {
          'integration.request.header.A': 'context.identity.sourceIp',
          'integration.request.header.B': 'context.connectedAt',
          'integration.request.header.C': "'static'",
          'integration.request.header.D': 'context.disconnectReason',
          'integration.request.header.E': 'context.authorizer.missing.deeper',
        },
        context('MESSAGE'),
      ),
    ).toEqual({ A: '203.0.113.9', B: '1700000000000', C: 'static' });
    expect(contextValue(null, 'context.connectionId')).toBeUndefined();
  });

  it('keeps a value with characters a header cannot carry readable, replacing them', () => {
    expect(
      mappedHeaders({ 'integration.request.header.R': 'context.reason' }, { reason: 'au revoir ✌' }),
    ).toEqual({ R: 'au revoir ?' });
  });

  it('refuses a parameter that is not a header and an expression of an unsupported kind', () => {
    expect(() => mappedHeaders({ 'integration.request.querystring.id': 'context.connectionId' }, {})).toThrow(
      'unsupported request parameter "integration.request.querystring.id"',
    );
    expect(() => mappedHeaders({ 'integration.request.header.Id': 'route.request.body.id' }, {})).toThrow(
      'unsupported mapping expression "route.request.body.id" for Id',
    );
  });
});
