import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_MESSAGE_BYTES } from '@fanout/protocol';
import type { Log } from '../observability/ports.js';
import { type ConnectDeps, connect } from '../routes/connect.js';
import { type DefaultDeps, defaultRoute } from '../routes/default.js';
import { type DisconnectDeps, disconnect } from '../routes/disconnect.js';
import { errorReply } from '../routes/error-frames.js';
import type { RouteResponse, WebSocketEvent } from '../routes/events.js';
import { REPLY_RESERVE_MS } from '../routes/request.js';
import { type SubscribeDeps, subscribeRoute } from '../routes/subscribe.js';
import { type UnsubscribeDeps, unsubscribeRoute } from '../routes/unsubscribe.js';
import { BACKEND_ROUTES, type BackendRouteKey, HEALTH_PATH, PROOF_HEADER, routeAt } from './contract.js';
import { BackendError } from './errors.js';
import type { GatewayProof } from './proof.js';
import { MAX_AUTHORIZER_TEXT, readRouteEvent } from './request.js';

/**
 * `fanout backend`: every WebSocket route behind API Gateway HTTP integrations (docs/architecture.md,
 * "Routes on your own HTTP backend"). It rebuilds the event the Lambda route would get from the
 * mapped headers (request.ts) and runs the same use cases with the same error frames; two-way routes
 * answer in the response body, which API Gateway sends back on the connection.
 */

/** The dependencies of each route, as the Lambda functions get them. */
export interface BackendRoutes {
  connect: ConnectDeps;
  disconnect: DisconnectDeps;
  default: DefaultDeps;
  subscribe: SubscribeDeps;
  unsubscribe: UnsubscribeDeps;
}

export interface BackendOptions {
  routes: BackendRoutes;
  proof: GatewayProof;
  /** The server's own lines: one per call (route, connection, status, time), refusals, start and stop. */
  log: Log;
  /** Called after every call: metrics are published per call, as the Lambda edge does per invocation. */
  flushMetrics?: () => void;
  /** Default 127.0.0.1: a container sets 0.0.0.0 itself. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /**
   * API Gateway's integration timeout (default and most: 29 s). A route's store writes must be done
   * REPLY_RESERVE_MS before it, so the reply still reaches the gateway.
   */
  integrationTimeoutMs?: number;
  /** How long close() waits for calls in flight before it cuts them (default: the integration timeout). */
  shutdownTimeoutMs?: number;
  now?: () => number;
}

export interface BackendHandle {
  /** `http://<host>:<port>`: the integration URIs are this plus each route's path. */
  url: string;
  port: number;
  /** Calls being served now. */
  inFlight(): number;
  /**
   * Graceful stop: refuses new TCP connections, answers health checks 503, lets the calls in flight
   * finish (each answered with `Connection: close`), then resolves. Idempotent.
   */
  close(): Promise<void>;
}

export const DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000;

export async function startBackend(options: BackendOptions): Promise<BackendHandle> {
  const backend = new Backend(options);
  return backend.listen(options.host ?? '127.0.0.1', options.port ?? 0);
}

const JSON_TYPE = 'application/json; charset=utf-8';

class Backend {
  // Room for both grants headers at their longest (request.ts) beside the others: node's default,
  // 16 KiB for all headers together, would refuse with 431 what the Lambda routes accept.
  private readonly server = createServer({ maxHeaderSize: 4 * MAX_AUTHORIZER_TEXT }, (req, res) =>
    this.onRequest(req, res),
  );
  private readonly inflight = new Set<Promise<void>>();
  private readonly integrationTimeoutMs: number;
  private readonly now: () => number;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: BackendOptions) {
    this.integrationTimeoutMs = options.integrationTimeoutMs ?? DEFAULT_INTEGRATION_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    // Keep-alive sockets from API Gateway outlive a call; the default 5 s is shorter than its pool's.
    this.server.keepAliveTimeout = 65_000;
  }

  listen(host: string, port: number): Promise<BackendHandle> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        const url = `http://${shownHost}:${address.port}`;
        this.options.log.info('listening', { url, port: address.port });
        resolve({
          url,
          port: address.port,
          inFlight: () => this.inflight.size,
          close: () => this.close(),
        });
      });
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const call = this.serve(req, res).catch((err: unknown) => {
      // serve() answers every failure itself; this is a failure to answer (a socket gone mid-write).
      this.options.log.error('call failed', { error: err });
      if (!res.headersSent) this.send(res, 500, refusal(new BackendError('internal', 'internal error')));
      else res.destroy();
    });
    this.inflight.add(call);
    void call.finally(() => this.inflight.delete(call));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = this.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = JSON.stringify({ status: this.closing ? 'stopping' : 'ok' });
      this.send(res, this.closing ? 503 : 200, body);
      return;
    }
    let route: BackendRouteKey | undefined;
    let event: WebSocketEvent;
    try {
      // The proof comes first: a caller without it learns nothing, not even which paths exist.
      this.options.proof.check(req.headers[PROOF_HEADER.toLowerCase()]);
      route = routeAt(path);
      if (route === undefined)
        throw new BackendError('not_found', `no route is served at ${path.slice(0, 64)}`);
      if (req.method !== 'POST') {
        throw new BackendError('method_not_allowed', `${BACKEND_ROUTES[route].path} takes POST`);
      }
      const body = await readBody(req);
      event = readRouteEvent(route, req.headers, body);
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      // Never the headers: the proof is one of them. The peer's address says where a forgery came from.
      this.options.log.warn('call refused', {
        code: err.code,
        reason: err.message,
        status: err.status,
        method: req.method,
        path: path.slice(0, 64),
        peer: req.socket.remoteAddress,
      });
      // A refused body may still be arriving: close the socket rather than read it.
      res.setHeader('connection', 'close');
      this.send(res, err.status, refusal(err));
      return;
    }
    const response = await this.dispatch(route, event);
    const { connectionId } = event.requestContext;
    this.options.log.info('call', {
      routeKey: route,
      connectionId,
      status: response.statusCode,
      durationMs: this.now() - started,
    });
    this.options.flushMetrics?.();
    this.send(res, response.statusCode, response.body);
  }

  /** The same use cases as the Lambda functions, with the same answers for their failures. */
  private async dispatch(route: BackendRouteKey, event: WebSocketEvent): Promise<RouteResponse> {
    const { routes } = this.options;
    const deadline = this.now() + this.integrationTimeoutMs - REPLY_RESERVE_MS;
    if (route === '$connect' || route === '$disconnect') {
      const deps = route === '$connect' ? routes.connect : routes.disconnect;
      try {
        return route === '$connect'
          ? await connect(routes.connect, event.requestContext)
          : await disconnect(routes.disconnect, event.requestContext);
      } catch (error) {
        // As the Lambda edge's logFailures: logged, then a refusal (ignored on `$disconnect`). 502,
        // not 500: the status a handshake gets when the connect function throws, and an HTTP
        // integration passes the backend's status on, so a client sees the same in both shapes.
        deps.logger.error('route failed', {
          routeKey: route,
          connectionId: event.requestContext.connectionId,
          error,
        });
        return { statusCode: 502 };
      }
    }
    const deps =
      route === 'subscribe'
        ? routes.subscribe
        : route === 'unsubscribe'
          ? routes.unsubscribe
          : routes.default;
    try {
      if (route === 'subscribe') return await subscribeRoute(routes.subscribe, event, deadline);
      if (route === 'unsubscribe') return await unsubscribeRoute(routes.unsubscribe, event, deadline);
      return await defaultRoute(routes.default, event);
    } catch (error) {
      return errorReply(deps, event, error);
    }
  }

  private send(res: ServerResponse, status: number, body?: string): void {
    if (this.closing) res.setHeader('connection', 'close');
    if (body === undefined) {
      res.writeHead(status, { 'content-length': '0' });
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const { log } = this.options;
    log.info('stopping', { inFlight: this.inflight.size });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Idle keep-alive sockets would hold close() open; sockets with a call in flight end after it.
    this.server.closeIdleConnections();
    const timeoutMs = this.options.shutdownTimeoutMs ?? this.integrationTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const drained = (async () => {
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
      return false;
    })();
    const cut = await Promise.race([drained, expired]);
    clearTimeout(timer);
    if (cut)
      log.warn('calls still in flight at the shutdown timeout were cut', { inFlight: this.inflight.size });
    this.server.closeAllConnections();
    await closed;
    log.info('stopped');
  }
}

function refusal(err: BackendError): string {
  return JSON.stringify({ code: err.code, message: err.message });
}

/** The body as text, at most API Gateway's message size: it never sends more, so more is not from it. */
async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_MESSAGE_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    bytes += buffer.byteLength;
    if (bytes > MAX_MESSAGE_BYTES) throw tooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const tooLarge = () =>
  new BackendError(
    'payload_too_large',
    `the body is over ${MAX_MESSAGE_BYTES} bytes, API Gateway's message limit`,
  );
