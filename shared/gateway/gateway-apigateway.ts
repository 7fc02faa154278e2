import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { type ConnectionGateway, classifyFailure, GatewayError, type GatewayErrorKind } from './gateway.js';

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

/**
 * What an SDK error means for the fan-out engine: the SDK names the error when the response carries
 * its type (header or body), and the status says the rest (a bare 410 surfaces as `UnknownError`).
 */
export function classifyGatewayError(err: unknown): GatewayErrorKind {
  return classifyFailure(err instanceof Error ? err.name : undefined, httpStatus(err));
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
