import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { type ConnectionGateway, GatewayError, type GatewayErrorKind } from './gateway.js';

export interface ManagementClientOptions {
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` (or the local gateway's). */
  endpoint: string;
  /** Sockets kept open to the endpoint: match the fan-out concurrency so no post waits for one. */
  maxSockets: number;
  /** Milliseconds to open a connection / to wait for a response before giving up on a call. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/**
 * The `@connections` client, built once per process. Keep-alive sockets matter: a TLS handshake per
 * post would cost more than the post. `maxAttempts: 1` because the fan-out engine owns retries (with
 * its own jittered backoff and its retry messages); SDK retries underneath would multiply them.
 */
export function createManagementClient(options: ManagementClientOptions): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint: options.endpoint,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(managementHttpOptions(options)),
  });
}

/** Keep-alive agents for both schemes: the local gateway speaks http, API Gateway https. */
export function managementHttpOptions(options: ManagementClientOptions): NodeHttpHandlerOptions {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  return {
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new HttpsAgent(agentOptions),
    connectionTimeout: options.connectionTimeoutMs ?? 2_000,
    requestTimeout: options.requestTimeoutMs ?? 5_000,
    // Without it the handler only logs a warning and the post waits on, past every deadline.
    throwOnRequestTimeout: true,
  };
}

const KIND_BY_NAME: Readonly<Record<string, GatewayErrorKind>> = {
  GoneException: 'gone',
  LimitExceededException: 'throttled',
  ThrottlingException: 'throttled',
  TooManyRequestsException: 'throttled',
  PayloadTooLargeException: 'too_large',
  ForbiddenException: 'forbidden',
};

const KIND_BY_STATUS: Readonly<Record<number, GatewayErrorKind>> = {
  410: 'gone',
  429: 'throttled',
  413: 'too_large',
  403: 'forbidden',
};

/**
 * What an SDK error means for the fan-out engine. The name comes first; the HTTP status is the
 * fallback because the SDK only names the error when the response carries its type (header or body):
 * a bare 410 surfaces as e.g. `UnknownError`, and must still prune the connection.
 */
export function classifyGatewayError(err: unknown): GatewayErrorKind {
  const name = err instanceof Error ? err.name : undefined;
  const byName = name === undefined ? undefined : KIND_BY_NAME[name];
  if (byName) return byName;
  const status = httpStatus(err);
  return (status === undefined ? undefined : KIND_BY_STATUS[status]) ?? 'other';
}

export function toGatewayError(err: unknown, operation: string, connectionId: string): GatewayError {
  if (err instanceof GatewayError) return err;
  const kind = classifyGatewayError(err);
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new GatewayError(kind, `${operation} ${connectionId} failed (${kind}): ${what}`, httpStatus(err), {
    cause: err,
  });
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('$metadata' in err)) return undefined;
  const metadata = err.$metadata;
  if (typeof metadata !== 'object' || metadata === null || !('httpStatusCode' in metadata)) return undefined;
  return typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/** ConnectionGateway over API Gateway's `@connections` API. */
export class ApiGatewayConnectionGateway implements ConnectionGateway {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, data: Uint8Array): Promise<void> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
    } catch (err) {
      throw toGatewayError(err, 'PostToConnection', connectionId);
    }
  }
}
