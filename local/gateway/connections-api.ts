/**
 * The `@connections` management API (AWS page "Use @connections commands in your backend service"): `POST|GET|DELETE /{stage}/@connections/{id}`.
 * The real `@aws-sdk/client-apigatewaymanagementapi` talks to it unchanged: SigV4 headers are accepted
 * without verification, success statuses are 200/200/204, errors carry `x-amzn-ErrorType`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readBody } from '../http/body.js';
import { SERVER_CLOSE } from './connection.js';
import { MANAGEMENT_ERRORS, sendManagementError, sendPlainError } from './errors.js';
import { MAX_MESSAGE_BYTES } from './frames.js';
import { isWellFormedConnectionId, newHttpRequestId } from './ids.js';
import type { ConnectionsCall, GatewayFaults, GatewayLogLine } from './types.js';

/** What the `@connections` API needs of a connection: a socket's, or a counting one (counting.ts). */
export interface ManagedConnection {
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
  readonly lastActiveAt: number;
  send(data: Buffer): Promise<void>;
  closeByServer(status: { code: number; reason: string }): boolean;
}

export interface ManagementDeps {
  stage: string;
  /** The connection if it is open; closing and closed connections are gone for this API. */
  find(connectionId: string): ManagedConnection | undefined;
  faults(): GatewayFaults | undefined;
  log(line: GatewayLogLine): void;
  /** GatewayOptions.onConnectionsCall. */
  answered?: (call: ConnectionsCall, status: number, data: Buffer | undefined) => void;
}

type Target = { connectionId: string } | 'stage' | undefined;

/**
 * The SDK sends `/@connections/<id>` with the id percent-encoded (`=` as `%3D`); the AWS docs' awscurl
 * example encodes the `@` too (`/%40connections/`). Both are accepted; the id is decoded.
 */
export function parseManagementPath(pathname: string, stage: string): Target {
  if (pathname === `/${stage}` || pathname === `/${stage}/`) return 'stage';
  const prefix = `/${stage}/`;
  if (!pathname.startsWith(prefix)) return undefined;
  const rest = pathname.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return undefined;
  const head = rest.slice(0, slash);
  const rawId = rest.slice(slash + 1);
  if ((head !== '@connections' && head.toLowerCase() !== '%40connections') || !rawId || rawId.includes('/')) {
    return undefined;
  }
  try {
    return { connectionId: decodeURIComponent(rawId) };
  } catch {
    return { connectionId: rawId }; // undecodable: malformed, answered with 400 below
  }
}

const METHODS = new Set<string>(['POST', 'GET', 'DELETE']);
const isCallMethod = (method: string | undefined): method is ConnectionsCall['method'] =>
  method !== undefined && METHODS.has(method);

export async function handleManagementRequest(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ManagementDeps,
): Promise<void> {
  // The injected latency counts from here: the stand-in's own work (reading the body, finding the
  // connection) is part of the round trip it stands for, not added to it.
  const arrivedAt = performance.now();
  const pathname = (req.url ?? '/').split('?')[0] ?? '/';
  const target = parseManagementPath(pathname, deps.stage);
  if (target === undefined || target === 'stage') {
    req.resume();
    // The stage URL itself only speaks WebSocket.
    sendPlainError(res, target === 'stage' ? 426 : 404, target === 'stage' ? { Upgrade: 'websocket' } : {});
    return;
  }
  const method = req.method;
  if (!isCallMethod(method)) {
    req.resume();
    sendPlainError(res, 405, { Allow: 'DELETE, GET, POST' });
    return;
  }
  const { connectionId } = target;
  const body = method === 'POST' ? await readBody(req, MAX_MESSAGE_BYTES) : undefined;
  if (!body) req.resume();
  const { answered } = deps;
  // Every answer below ends the response: 'finish' is the moment it has been handed to the socket.
  if (answered) res.once('finish', () => answered({ method, connectionId }, res.statusCode, body?.data));

  const faults = deps.faults();
  const wait = faults?.latencyMs ? arrivedAt + faults.latencyMs - performance.now() : 0;
  if (wait > 0) await sleep(wait);
  const fault = await faults?.beforeConnectionsCall?.({ method, connectionId });
  if (fault) {
    deps.log({ level: 'info', msg: 'injected @connections fault', method, connectionId, ...fault });
    sendManagementError(res, fault);
    return;
  }
  // PostToConnection `Data` is at most 131072 bytes in the service model → 413 PayloadTooLargeException.
  if (body && body.size > MAX_MESSAGE_BYTES) {
    sendManagementError(res, MANAGEMENT_ERRORS.tooLarge);
    return;
  }
  if (!isWellFormedConnectionId(connectionId)) {
    sendManagementError(res, MANAGEMENT_ERRORS.badRequest);
    return;
  }
  const conn = deps.find(connectionId);
  if (!conn) {
    sendManagementError(res, MANAGEMENT_ERRORS.gone);
    return;
  }

  if (method === 'POST') {
    try {
      await conn.send(body?.data ?? Buffer.alloc(0));
    } catch (err) {
      deps.log({ level: 'debug', msg: 'post to a closing connection', connectionId, error: String(err) });
      sendManagementError(res, MANAGEMENT_ERRORS.gone);
      return;
    }
    res.writeHead(200, { 'Content-Length': 0, 'x-amzn-RequestId': newHttpRequestId() });
    res.end();
    return;
  }
  if (method === 'GET') {
    // Wire keys are camelCase and times ISO 8601 (service model `locationName`s of the ApiGatewayManagementApi).
    const json = JSON.stringify({
      connectedAt: new Date(conn.connectedAt).toISOString(),
      identity: { sourceIp: conn.sourceIp, ...(conn.userAgent ? { userAgent: conn.userAgent } : {}) },
      lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
    });
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(json),
      'x-amzn-RequestId': newHttpRequestId(),
    });
    res.end(json);
    return;
  }
  conn.closeByServer(SERVER_CLOSE.deleted);
  res.writeHead(204, { 'x-amzn-RequestId': newHttpRequestId() });
  res.end();
}
