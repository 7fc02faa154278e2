import type { Context } from 'aws-lambda';
import type {
  WebSocketAuthorizerEvent,
  WebSocketEvent,
  WebSocketRequestContext,
} from '../../shared/routes/events.js';

/**
 * API Gateway WebSocket events as AWS sends them (shapes from the captures listed in docs/architecture.md, "Sources the local stand-ins follow": the S4/S5
 * `$connect` captures, the S2 MESSAGE event, the S1 `$disconnect` event, the docs' REQUEST authorizer
 * input). Defaults describe one connection; override only what a test is about.
 */

export const API_ID = 'e5o5wmco47';
export const STAGE = 'test';
export const REGION = 'us-east-1';
export const DOMAIN_NAME = `${API_ID}.execute-api.${REGION}.amazonaws.com`;
export const CONNECTION_ID = 'VotXXcBEPHcCEvQ=';
export const CONNECTED_AT = 1658438293383;
export const SOURCE_IP = '75.148.99.49';
export const METHOD_ARN = `arn:aws:execute-api:${REGION}:123456789012:${API_ID}/${STAGE}/$connect`;

export interface ConnectionParts {
  connectionId?: string;
  connectedAt?: number;
  sourceIp?: string;
  /** requestContext.authorizer as API Gateway passes it; omit for a route without an authorizer. */
  authorizer?: Readonly<Record<string, unknown>> | null;
}

/**
 * The authorizer context as routes see it: the authorizer's `context` plus `principalId` (and on
 * `$connect` only, `integrationLatency`).
 */
export function authorizerContext(
  grants: { userId?: string; topics?: readonly string[] },
  options: { onConnect?: boolean } = {},
): Record<string, unknown> {
  return {
    userId: grants.userId ?? '',
    topics: JSON.stringify(grants.topics ?? []),
    principalId: grants.userId ?? 'anonymous',
    ...(options.onConnect ? { integrationLatency: 21 } : {}),
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `21/Jul/2022:21:18:13 +0000`, the CLF format of requestContext.requestTime. */
function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}

let sequence = 0;
/** A fresh 16-character id in the style of connection and request ids (`VotXXGkWvHcFbSA=`). */
function nextId(): string {
  sequence += 1;
  return Buffer.from(`req-${String(sequence).padStart(7, '0')}`)
    .toString('base64')
    .slice(0, 15)
    .concat('=');
}

function requestContext(
  routeKey: string,
  eventType: WebSocketRequestContext['eventType'],
  parts: ConnectionParts,
  requestTimeEpoch: number,
): WebSocketRequestContext {
  const requestId = nextId();
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: clfTime(requestTimeEpoch),
    messageDirection: 'IN',
    stage: STAGE,
    connectedAt: parts.connectedAt ?? CONNECTED_AT,
    requestTimeEpoch,
    identity: { sourceIp: parts.sourceIp ?? SOURCE_IP },
    requestId,
    domainName: DOMAIN_NAME,
    connectionId: parts.connectionId ?? CONNECTION_ID,
    apiId: API_ID,
    ...(parts.authorizer !== undefined ? { authorizer: parts.authorizer } : {}),
  };
}

function upgradeHeaders(sourceIp: string): {
  headers: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const headers: Record<string, string> = {
    Host: DOMAIN_NAME,
    'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits',
    'Sec-WebSocket-Key': 'WXhGXQZXDxMoNbCgJEgC7A==',
    'Sec-WebSocket-Version': '13',
    'X-Amzn-Trace-Id': 'Root=1-62d9c295-34f43f2d331e1ee90d797dc0',
    'X-Forwarded-For': sourceIp,
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
  };
  return { headers, multi: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) };
}

function queryParts(query: Record<string, string> | undefined): Partial<WebSocketEvent> {
  if (!query || Object.keys(query).length === 0) return {};
  return {
    queryStringParameters: { ...query },
    multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
  };
}

/** `$connect` (S4/S5): headers, query string, no body; `authorizer` when the route has one. */
export function connectEvent(
  parts: ConnectionParts & { query?: Record<string, string> } = {},
): WebSocketEvent {
  const connectedAt = parts.connectedAt ?? CONNECTED_AT;
  const { headers, multi } = upgradeHeaders(parts.sourceIp ?? SOURCE_IP);
  return {
    headers,
    multiValueHeaders: multi,
    ...queryParts(parts.query),
    requestContext: requestContext('$connect', 'CONNECT', parts, connectedAt),
    isBase64Encoded: false,
  };
}

/** The REQUEST authorizer's input on `$connect`: the connect event plus `type` and `methodArn`. */
export function authorizerEvent(
  parts: { token?: string; query?: Record<string, string>; connectionId?: string; methodArn?: string } = {},
): WebSocketAuthorizerEvent {
  const query = { ...parts.query, ...(parts.token !== undefined ? { token: parts.token } : {}) };
  const connect = connectEvent({
    query,
    ...(parts.connectionId ? { connectionId: parts.connectionId } : {}),
  });
  return { type: 'REQUEST', methodArn: parts.methodArn ?? METHOD_ARN, ...connect, stageVariables: {} };
}

/**
 * A MESSAGE event (S2/S5): only requestContext, body and isBase64Encoded. A non-string body is
 * JSON-encoded; pass a string for raw (e.g. malformed) frames, or null for no body at all.
 */
export function messageEvent(
  body: unknown,
  parts: ConnectionParts & { routeKey?: string; requestTimeEpoch?: number } = {},
): WebSocketEvent {
  const connectedAt = parts.connectedAt ?? CONNECTED_AT;
  const context = requestContext(
    parts.routeKey ?? routeKeyOf(body),
    'MESSAGE',
    parts,
    parts.requestTimeEpoch ?? connectedAt + 1500,
  );
  return {
    requestContext: { ...context, messageId: nextId() },
    body: body === null ? null : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** Route selection by `$request.body.action`, falling back to `$default`, as API Gateway does. */
function routeKeyOf(body: unknown): string {
  const known = ['subscribe', 'unsubscribe'];
  let frame: unknown = body;
  if (typeof body === 'string') {
    try {
      frame = JSON.parse(body);
    } catch {
      return '$default';
    }
  }
  const action = typeof frame === 'object' && frame !== null ? Reflect.get(frame, 'action') : undefined;
  return typeof action === 'string' && known.includes(action) ? action : '$default';
}

/** `$disconnect` (S1): a few headers, disconnectStatusCode / disconnectReason, no body. */
export function disconnectEvent(
  parts: ConnectionParts & { statusCode?: number; reason?: string } = {},
): WebSocketEvent {
  const connectedAt = parts.connectedAt ?? CONNECTED_AT;
  const context = requestContext('$disconnect', 'DISCONNECT', parts, connectedAt + 60_000);
  return {
    headers: { Host: DOMAIN_NAME, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' },
    multiValueHeaders: { Host: [DOMAIN_NAME], 'x-api-key': [''], 'X-Forwarded-For': [''], 'x-restapi': [''] },
    requestContext: {
      ...context,
      disconnectStatusCode: parts.statusCode ?? 1001,
      disconnectReason: parts.reason ?? '',
    },
    isBase64Encoded: false,
  };
}

/** A Lambda context with the fields Powertools and middy read. */
export function lambdaContext(functionName = 'fanout-test'): Context {
  const fail = (): never => {
    throw new Error('callback-style completion is not used by these handlers');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/24/[$LATEST]abcdef0123456789',
    getRemainingTimeInMillis: () => 30_000,
    done: fail,
    fail,
    succeed: fail,
  };
}
