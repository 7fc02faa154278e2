/**
 * Lambda-proxy events for WebSocket routes, shaped after the captures in
 * the captures listed in docs/architecture.md ("The local runtime") and the REQUEST authorizer
 * input on the AWS page "Control access to WebSocket APIs with AWS Lambda REQUEST authorizers". Key order follows the captures, for readable diffs.
 */
import type { IncomingMessage } from 'node:http';
import { clientAddress, forwardedChain, normalizeAddress, type TrustedProxies } from './forwarded.js';
import { clfTime, newAwsId, newTraceId } from './ids.js';

export type HeaderMap = Record<string, string>;
export type MultiHeaderMap = Record<string, string[]>;

/** What one upgrade request tells us, read once and reused by every event of the connection. */
export interface RequestInfo {
  /** As the client sent them (original case), plus what API Gateway adds (X-Forwarded-*, trace id). */
  headers: HeaderMap;
  multiValueHeaders: MultiHeaderMap;
  /** Undefined when the URL has no query string: AWS then omits both query keys. */
  query?: { single: HeaderMap; multi: MultiHeaderMap };
  /** The client: the TCP peer, or what a trusted proxy says in `X-Forwarded-For` (forwarded.ts). */
  sourceIp: string;
  /** The TCP peer, whatever it is: the proxy when one stands in front. */
  peerIp: string;
  userAgent?: string;
  /** The Host header: `requestContext.domainName` (includes the port locally). */
  domainName: string;
}

export interface ApiInfo {
  stage: string;
  apiId: string;
}

export interface ConnectionInfo {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent?: string;
  domainName: string;
}

/** `Connection`/`Upgrade` reach the authorizer (docs example, A1/A6) but not the `$connect` event (S4/S5). */
const HOP_BY_HOP = new Set(['connection', 'upgrade']);

/** What the gateway knows about itself and its proxies when it reads an upgrade request. */
export interface ReadOptions {
  localPort: number;
  nowMs: number;
  /** `https` when the gateway terminates TLS itself, as API Gateway does. */
  protocol: 'http' | 'https';
  trustedProxies: TrustedProxies;
}

export function readRequest(req: IncomingMessage, options: ReadOptions): RequestInfo {
  const headers: HeaderMap = {};
  const multiValueHeaders: MultiHeaderMap = {};
  const nameByLower = new Map<string, string>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    const key = nameByLower.get(name.toLowerCase()) ?? name;
    nameByLower.set(name.toLowerCase(), key);
    headers[key] = value; // REST/WebSocket proxy events keep the last value in the single-value map.
    const list = multiValueHeaders[key] ?? [];
    list.push(value);
    multiValueHeaders[key] = list;
  }
  const peerIp = normalizeAddress(req.socket.remoteAddress ?? '127.0.0.1');
  const set = (name: string, value: string): void => {
    const key = nameByLower.get(name.toLowerCase()) ?? name;
    nameByLower.set(name.toLowerCase(), key);
    headers[key] = value;
    multiValueHeaders[key] = [value];
  };
  // Every X-Forwarded-For line counts, in order (RFC 9110: repeated fields are one comma-separated list).
  const forwardedValues = multiValueHeaders[nameByLower.get('x-forwarded-for') ?? ''] ?? [];
  const forwarded = forwardedValues.join(', ');
  const sourceIp = options.trustedProxies.any
    ? clientAddress(peerIp, forwardedChain(forwardedValues), options.trustedProxies)
    : peerIp;
  set('X-Amzn-Trace-Id', newTraceId(options.nowMs));
  // API Gateway appends the peer it accepted the connection from, whoever the client is.
  set('X-Forwarded-For', forwarded ? `${forwarded}, ${peerIp}` : peerIp);
  set('X-Forwarded-Port', String(options.localPort));
  set('X-Forwarded-Proto', options.protocol);

  const url = new URL(req.url ?? '/', 'http://localhost');
  let query: RequestInfo['query'];
  if (url.search.length > 1) {
    const single: HeaderMap = {};
    const multi: MultiHeaderMap = {};
    for (const [key, value] of url.searchParams) {
      single[key] = value;
      const list = multi[key] ?? [];
      list.push(value);
      multi[key] = list;
    }
    query = { single, multi };
  }
  const userAgent = req.headers['user-agent'];
  return {
    headers,
    multiValueHeaders,
    ...(query ? { query } : {}),
    sourceIp,
    peerIp,
    ...(userAgent ? { userAgent } : {}),
    domainName: req.headers.host ?? '127.0.0.1',
  };
}

/** Case-insensitive header lookup (identity sources name headers in any case). */
export function headerValue(info: RequestInfo, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(info.headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function identity(conn: ConnectionInfo): Record<string, string> {
  return { sourceIp: conn.sourceIp, ...(conn.userAgent ? { userAgent: conn.userAgent } : {}) };
}

interface ContextParts {
  routeKey: string;
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  before?: Record<string, unknown>;
  afterDirection?: Record<string, unknown>;
  now: number;
  requestId?: string;
}

/** requestId equals extendedRequestId (S7: "Same as $context.extendedRequestId"). */
function requestContext(api: ApiInfo, conn: ConnectionInfo, parts: ContextParts): Record<string, unknown> {
  const requestId = parts.requestId ?? newAwsId();
  return {
    routeKey: parts.routeKey,
    ...parts.before,
    eventType: parts.eventType,
    extendedRequestId: requestId,
    requestTime: clfTime(parts.now),
    messageDirection: 'IN',
    ...parts.afterDirection,
    stage: api.stage,
    connectedAt: conn.connectedAt,
    requestTimeEpoch: parts.now,
    identity: identity(conn),
    requestId,
    domainName: conn.domainName,
    connectionId: conn.connectionId,
    apiId: api.apiId,
  };
}

function withQuery(req: RequestInfo): Record<string, unknown> {
  return req.query
    ? { queryStringParameters: req.query.single, multiValueQueryStringParameters: req.query.multi }
    : {};
}

function withoutHopByHop(req: RequestInfo): { headers: HeaderMap; multiValueHeaders: MultiHeaderMap } {
  const headers: HeaderMap = {};
  const multiValueHeaders: MultiHeaderMap = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (HOP_BY_HOP.has(key.toLowerCase())) continue;
    headers[key] = value;
    multiValueHeaders[key] = req.multiValueHeaders[key] ?? [value];
  }
  return { headers, multiValueHeaders };
}

/** REQUEST authorizer input ("Control access to WebSocket APIs with AWS Lambda REQUEST authorizers"): the connection id is already assigned. */
export function authorizerEvent(
  api: ApiInfo,
  conn: ConnectionInfo,
  req: RequestInfo,
  methodArn: string,
  now: number,
): Record<string, unknown> {
  return {
    type: 'REQUEST',
    methodArn,
    headers: req.headers,
    multiValueHeaders: req.multiValueHeaders,
    ...withQuery(req),
    stageVariables: {},
    requestContext: requestContext(api, conn, { routeKey: '$connect', eventType: 'CONNECT', now }),
  };
}

export function connectEvent(
  api: ApiInfo,
  conn: ConnectionInfo,
  req: RequestInfo,
  authorizer: Record<string, unknown> | undefined,
  now: number,
): Record<string, unknown> {
  return {
    ...withoutHopByHop(req),
    ...withQuery(req),
    requestContext: requestContext(api, conn, {
      routeKey: '$connect',
      eventType: 'CONNECT',
      before: authorizer ? { authorizer } : undefined,
      now,
    }),
    isBase64Encoded: false,
  };
}

/** MESSAGE events carry no headers (S2, S5): only requestContext, body and isBase64Encoded. */
export function messageEvent(
  api: ApiInfo,
  conn: ConnectionInfo,
  routeKey: string,
  body: string,
  authorizer: Record<string, string> | undefined,
  now: number,
  requestId: string,
): Record<string, unknown> {
  return {
    requestContext: requestContext(api, conn, {
      routeKey,
      eventType: 'MESSAGE',
      before: { ...(authorizer ? { authorizer } : {}), messageId: newAwsId() },
      now,
      requestId,
    }),
    body,
    isBase64Encoded: false,
  };
}

/**
 * `$disconnect` (S1): a fixed, mostly empty header set (`x-api-key`, `X-Forwarded-For` and `x-restapi`
 * empty), `disconnectStatusCode` / `disconnectReason`, and the authorizer context (boto3#3789 log).
 */
export function disconnectEvent(
  api: ApiInfo,
  conn: ConnectionInfo,
  status: { code: number; reason: string },
  authorizer: Record<string, string> | undefined,
  now: number,
): Record<string, unknown> {
  const headers: HeaderMap = {
    Host: conn.domainName,
    'x-api-key': '',
    'X-Forwarded-For': '',
    'x-restapi': '',
  };
  const multiValueHeaders: MultiHeaderMap = {};
  for (const [key, value] of Object.entries(headers)) multiValueHeaders[key] = [value];
  return {
    headers,
    multiValueHeaders,
    requestContext: requestContext(api, conn, {
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      before: { disconnectStatusCode: status.code, ...(authorizer ? { authorizer } : {}) },
      afterDirection: { disconnectReason: status.reason },
      now,
    }),
    isBase64Encoded: false,
  };
}
