import { Agent as HttpsAgent } from 'node:https';
import {
  ApiGatewayManagementApiClient,
  ApiGatewayManagementApiServiceException,
  ForbiddenException,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { GatewayError } from '../../../shared/gateway/gateway';
import {
  ApiGatewayConnectionGateway,
  classifyGatewayError,
  createManagementClient,
  managementHttpOptions,
} from '../../../shared/gateway/gateway-apigateway';

const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
/** What the SDK throws when the response names no error type: a bare status. */
const unnamed = (httpStatusCode: number, name = 'UnknownError') =>
  new ApiGatewayManagementApiServiceException({
    name,
    $fault: 'client',
    message: 'Unknown',
    ...metadata(httpStatusCode),
  });

describe('classifyGatewayError', () => {
  it.each([
    ['GoneException', new GoneException({ message: 'gone', ...metadata(410) }), 'gone'],
    ['a bare 410', unnamed(410), 'gone'],
    [
      'LimitExceededException',
      new LimitExceededException({ message: 'slow down', ...metadata(429) }),
      'throttled',
    ],
    [
      'ThrottlingException by name alone',
      Object.assign(new Error('x'), { name: 'ThrottlingException' }),
      'throttled',
    ],
    [
      'TooManyRequestsException by name alone',
      Object.assign(new Error('x'), { name: 'TooManyRequestsException' }),
      'throttled',
    ],
    ['a bare 429', unnamed(429), 'throttled'],
    [
      'PayloadTooLargeException',
      new PayloadTooLargeException({ message: 'big', ...metadata(413) }),
      'too_large',
    ],
    ['a bare 413', unnamed(413), 'too_large'],
    ['ForbiddenException', new ForbiddenException({ message: 'no', ...metadata(403) }), 'forbidden'],
    ['a bare 403', unnamed(403), 'forbidden'],
    ['a 500', unnamed(500, 'InternalServerError'), 'other'],
    ['a network error', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'other'],
    ['a non-error value', 'boom', 'other'],
  ])('classifies %s', (_label, err, kind) => {
    expect(classifyGatewayError(err)).toBe(kind);
  });
});

describe('ApiGatewayConnectionGateway', () => {
  const api = mockClient(ApiGatewayManagementApiClient);
  const gateway = new ApiGatewayConnectionGateway(
    new ApiGatewayManagementApiClient({
      endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
      region: 'eu-west-1',
    }),
  );
  beforeEach(() => api.reset());

  it('posts the frame bytes to the connection', async () => {
    api.on(PostToConnectionCommand).resolves({});
    const data = new TextEncoder().encode('{"type":"event"}');
    await gateway.post('R0oXAdfD0kwCH6w=', data);
    expect(api).toHaveReceivedCommandWith(PostToConnectionCommand, {
      ConnectionId: 'R0oXAdfD0kwCH6w=',
      Data: data,
    });
  });

  it('turns an SDK error into a GatewayError with kind, status and cause', async () => {
    const cause = new GoneException({ message: 'gone', ...metadata(410) });
    api.on(PostToConnectionCommand).rejects(cause);
    const err = await gateway.post('c1', new Uint8Array([1])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ kind: 'gone', statusCode: 410, cause });
    expect((err as GatewayError).message).toContain('PostToConnection c1');
  });
});

describe('createManagementClient', () => {
  it('leaves retries to the engine and keeps sockets alive up to the concurrency', async () => {
    const options = { endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod', maxSockets: 24 };
    const client = createManagementClient(options);
    await expect(client.config.maxAttempts()).resolves.toBe(1);
    expect(client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);

    const http = managementHttpOptions(options);
    expect(http.httpsAgent).toBeInstanceOf(HttpsAgent);
    expect(http.httpsAgent).toMatchObject({ keepAlive: true, maxSockets: 24 });
    expect(http.httpAgent).toMatchObject({ keepAlive: true, maxSockets: 24 });
    client.destroy();
  });
});
