/**
 * A local stand-in for an API Gateway WebSocket API (docs/architecture.md, "The local runtime"): one HTTP server on loopback that
 * serves the WebSocket upgrade at `/{stage}` and the `@connections` API at `/{stage}/@connections/{id}`,
 * invoking in-process integrations with the same Lambda-proxy events AWS sends.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { type RawData, type ServerOptions, type WebSocket, WebSocketServer } from 'ws';
import {
  type AuthOutcome,
  authorizerErrorOutcome,
  evaluateAuthorizerResult,
  identityPresent,
  parseIdentitySource,
} from './authorizer.js';
import { type CloseStatus, Connection, type ConnectionLimits, SERVER_CLOSE } from './connection.js';
import { handleManagementRequest } from './connections-api.js';
import { CountingConnections } from './counting.js';
import { gatewayErrorFrame, rejectUpgrade, sendManagementError } from './errors.js';
import {
  type ApiInfo,
  authorizerEvent,
  type ConnectionInfo,
  connectEvent,
  disconnectEvent,
  messageEvent,
  type RequestInfo,
  readRequest,
} from './events.js';
import { parseTrustedProxies, type TrustedProxies } from './forwarded.js';
import { FrameSizeGuard, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES } from './frames.js';
import { newAwsId } from './ids.js';
import { resultBody, resultStatus, resultSubprotocol, selectRoute } from './routing.js';
import { StageThrottle } from './throttle.js';
import type {
  GatewayFaults,
  GatewayHandle,
  GatewayLogLine,
  GatewayOptions,
  GatewayTls,
  Integration,
} from './types.js';

type Invocation = { kind: 'ok'; value: unknown } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/** How long a closing handshake may take before the socket is destroyed (ws defaults to 30 s). */
const CLOSE_GRACE_MS = 1_000;

/**
 * What a client throttled at the stage gets: "Clients may receive 429 Too Many Requests error responses"
 * (Amazon API Gateway Developer Guide, "Protect your WebSocket APIs in API Gateway"), on the handshake as
 * the HTTP status and its reason, on a message as the text of API Gateway's error frame (errors.ts).
 */
const THROTTLED_MESSAGE = 'Too Many Requests';

/** RFC 6455 1006: the connection ended without a close frame (what `ws` reports for a vanished peer). */
const ABNORMAL_CLOSURE = 1006;

/** Status codes `ws` closes with on a receiver error, by error code (it sends them itself). */
const WS_ERROR_CLOSE_CODES: Readonly<Record<string, number>> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_INVALID_UTF8: 1007,
};

export async function startGateway(options: GatewayOptions): Promise<GatewayHandle> {
  const gateway = new LocalGateway(options);
  return gateway.listen(options.port ?? 0);
}

class LocalGateway {
  private readonly host: string;
  private readonly api: ApiInfo;
  private readonly region: string;
  private readonly accountId: string;
  private readonly integrations: Record<string, Integration>;
  private readonly customRoutes: ReadonlySet<string>;
  private readonly twoWayRoutes: ReadonlySet<string>;
  private readonly limits: ConnectionLimits;
  private readonly integrationTimeoutMs: number;
  private readonly identitySources: ReturnType<typeof parseIdentitySource>;
  private readonly trustedProxies: TrustedProxies;
  private readonly tls: GatewayTls | undefined;
  private readonly log: (line: GatewayLogLine) => void;
  private readonly throttle: StageThrottle;
  private faults: GatewayFaults | undefined;
  private readonly counting = new CountingConnections();

  private readonly server: Server | TlsServer;
  /** The `@connections` API's request handler, also what GatewayHandle.serveConnectionsCall calls. */
  private readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  private readonly wss: WebSocketServer;
  private readonly live = new Map<string, Connection>();
  /** Upgrade requests still in the authorizer / `$connect` phase. */
  private readonly pendingSockets = new Set<Duplex>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  private port = 0;
  private closing: Promise<void> | undefined;
  private fireDisconnectOnClose = true;

  constructor(private readonly options: GatewayOptions) {
    if (options.routeSelection !== undefined && options.routeSelection !== 'action') {
      throw new Error('only routeSelection "action" ($request.body.action) is supported');
    }
    const stage = options.stage ?? 'local';
    if (!/^[A-Za-z0-9_-]+$/.test(stage)) throw new Error(`invalid stage name "${stage}"`);
    this.host = options.host ?? '127.0.0.1';
    this.api = { stage, apiId: options.apiId ?? 'local0api1' };
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.integrations = options.integrations;
    this.customRoutes = new Set(Object.keys(options.integrations).filter((key) => !key.startsWith('$')));
    this.twoWayRoutes = new Set(options.twoWayRoutes ?? []);
    this.limits = {
      idleTimeoutMs: options.idleTimeoutMs ?? 10 * 60_000,
      maxConnectionMs: options.maxConnectionMs ?? 2 * 60 * 60_000,
      outgoingResetsIdle: options.outgoingResetsIdle ?? true,
    };
    this.integrationTimeoutMs = options.integrationTimeoutMs ?? 29_000;
    this.identitySources = options.authorizer ? parseIdentitySource(options.authorizer.identitySource) : [];
    this.trustedProxies = parseTrustedProxies(options.trustedProxies);
    this.tls = options.tls;
    this.log = options.log ?? (() => {});
    this.throttle = new StageThrottle(options.throttling);
    this.faults = options.faults;

    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      this.track(
        handleManagementRequest(req, res, {
          stage: this.api.stage,
          find: (id) => {
            const conn = this.live.get(id);
            return conn?.state === 'open' ? conn : this.counting.find(id);
          },
          faults: () => this.faults,
          log: this.log,
          ...(this.options.onConnectionsCall ? { answered: this.options.onConnectionsCall } : {}),
        }).catch((err: unknown) => {
          this.log({ level: 'warn', msg: '@connections request failed', error: String(err) });
          if (!res.headersSent) {
            sendManagementError(res, { status: 500, errorType: 'InternalServerErrorException' });
          } else res.destroy();
        }),
      );
    };
    this.onRequest = onRequest;
    this.server = this.tls ? this.tlsServer(this.tls, onRequest) : createServer(onRequest);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    const wsOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      clientTracking: false,
      // Whole-message limit; `ws` closes with 1009 past it. Frames are checked by FrameSizeGuard.
      maxPayload: MAX_MESSAGE_BYTES,
      // Not negotiated, so a frame's wire size is its payload size (see FrameSizeGuard).
      perMessageDeflate: false,
      // `$connect` decides the subprotocol; none chosen means none echoed, as on AWS.
      handleProtocols: (_protocols, req) => this.chosenProtocol.get(req) ?? false,
      closeTimeout: CLOSE_GRACE_MS,
    };
    this.wss = new WebSocketServer(wsOptions);
  }

  /**
   * HTTPS, and with `serverName` the SNI check of API Gateway's endpoints: a handshake naming another
   * host fails in the SNI callback, one naming none is cut once it completes (Node asks the callback
   * only when the client sent a name).
   */
  private tlsServer(
    tls: GatewayTls,
    onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  ): TlsServer {
    const wanted = tls.serverName;
    const server = createTlsServer(
      {
        cert: tls.cert,
        key: tls.key,
        ...(wanted
          ? {
              SNICallback: (servername: string, done: (err: Error | null) => void) => {
                if (servername.toLowerCase() === wanted.toLowerCase()) return done(null);
                this.log({ level: 'info', msg: 'TLS handshake refused: wrong server name', servername });
                done(new Error(`no certificate for ${servername}`));
              },
            }
          : {}),
      },
      onRequest,
    );
    if (wanted) {
      server.on('secureConnection', (socket: TLSSocket) => {
        if (typeof socket.servername === 'string' && socket.servername.length > 0) return;
        this.log({ level: 'info', msg: 'TLS connection refused: no server name (SNI)' });
        socket.destroy();
      });
    }
    return server;
  }

  listen(port: number): Promise<GatewayHandle> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        const hostPart = this.tls?.serverName ?? (this.host.includes(':') ? `[${this.host}]` : this.host);
        const base = `${hostPart}:${this.port}/${this.api.stage}`;
        const secure = this.tls ? 's' : '';
        this.log({ level: 'info', msg: 'gateway listening', url: `ws${secure}://${base}` });
        resolve({
          url: `ws${secure}://${base}`,
          managementEndpoint: `http${secure}://${base}`,
          port: this.port,
          connections: () =>
            [...this.live.values()].filter((c) => c.state === 'open').map((c) => c.connectionId),
          close: (closeOptions) => this.close(closeOptions?.fireDisconnect ?? true),
          dropConnections: () => {
            const open = [...this.live.values()].filter((c) => c.state === 'open');
            for (const conn of open) conn.terminate();
            return open.length;
          },
          setFaults: (faults) => {
            this.faults = faults;
          },
          serveConnectionsCall: (req, res) => this.onRequest(req, res),
          counting: {
            add: (count) => this.counting.add(count),
            stats: () => this.counting.stats(),
            reset: () => this.counting.reset(),
            clear: () => this.counting.clear(),
          },
        });
      });
    });
  }

  private track<T>(promise: Promise<T>): void {
    const settled = promise.then(
      () => undefined,
      (err: unknown) => this.log({ level: 'error', msg: 'unexpected gateway failure', error: String(err) }),
    );
    this.inflight.add(settled);
    void settled.finally(() => this.inflight.delete(settled));
  }

  /** Runs an integration with the integration timeout; never throws. */
  private async invoke(routeKey: string, integration: Integration, event: object): Promise<Invocation> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Invocation>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), this.integrationTimeoutMs);
      timer.unref();
    });
    const call = Promise.resolve()
      .then(() => integration(event, { routeKey }))
      .then(
        (value): Invocation => ({ kind: 'ok', value }),
        (error: unknown): Invocation => ({ kind: 'error', error }),
      );
    try {
      const outcome = await Promise.race([call, timeout]);
      if (outcome.kind !== 'ok') {
        const error = outcome.kind === 'error' ? String(outcome.error) : 'timed out';
        this.log({ level: 'warn', msg: 'integration failed', routeKey, error });
      }
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- $connect -----------------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.log({ level: 'debug', msg: 'socket error', error: String(err) }));
    const status = this.upgradeRefusal(req);
    if (status !== undefined) {
      rejectUpgrade(socket, status);
      return;
    }
    this.pendingSockets.add(socket);
    this.track(this.admit(req, socket, head).finally(() => this.pendingSockets.delete(socket)));
  }

  /** A status to refuse the upgrade with before anything runs, or undefined to go on. */
  private upgradeRefusal(req: IncomingMessage): number | undefined {
    if (this.closing) return 503;
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname !== `/${this.api.stage}` && pathname !== `/${this.api.stage}/`) return 404;
    return isValidHandshake(req) ? undefined : 400;
  }

  /** Authorizer, then `$connect`, all before the 101: a refusal is a plain HTTP status, as on AWS. */
  private async admit(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const now = Date.now();
    const request = readRequest(req, {
      localPort: this.port,
      nowMs: now,
      protocol: this.tls ? 'https' : 'http',
      trustedProxies: this.trustedProxies,
    });
    const info: ConnectionInfo = {
      connectionId: newAwsId(),
      connectedAt: now,
      sourceIp: request.sourceIp,
      ...(request.userAgent ? { userAgent: request.userAgent } : {}),
      domainName: request.domainName,
    };
    const base = { connectionId: info.connectionId, sourceIp: info.sourceIp };
    // The stage's throttling comes first: a throttled `$connect` runs neither the authorizer nor the
    // integration, and the client gets "429 Too Many Requests" (throttle.ts).
    if (!this.throttle.admit('$connect')) {
      this.log({ level: 'info', msg: 'connection throttled', ...base });
      return rejectUpgrade(socket, 429, THROTTLED_MESSAGE);
    }
    const servername = (req.socket as Partial<TLSSocket>).servername;
    this.log({
      level: 'debug',
      msg: 'upgrade request',
      ...base,
      peerIp: request.peerIp,
      host: request.domainName,
      ...(typeof servername === 'string' ? { servername } : {}),
    });

    let authorizer: Record<string, string> | undefined;
    let authorizerOnConnect: Record<string, unknown> | undefined;
    if (this.options.authorizer) {
      const started = Date.now();
      const outcome = await this.authorize(this.options.authorizer.invoke, info, request);
      if (!outcome.ok) {
        this.log({ level: 'info', msg: 'connection refused by authorizer', ...base, ...outcome });
        return rejectUpgrade(socket, outcome.status);
      }
      // S5: `{ ...context, principalId, integrationLatency }` on $connect; later events drop the latency.
      authorizer = { ...outcome.context, principalId: outcome.principalId };
      authorizerOnConnect = { ...authorizer, integrationLatency: Date.now() - started };
    }
    if (socket.destroyed) return;

    const connect = this.integrations.$connect;
    if (connect) {
      const result = await this.invoke(
        '$connect',
        connect,
        connectEvent(this.api, info, request, authorizerOnConnect, Date.now()),
      );
      // A $connect function that throws refuses the handshake with 502, as API Gateway does; a Lambda
      // that refuses the invocation (throttled: TooManyRequestsException, statusCode 429) is still a
      // 500, as for messages (route()), where either is the "Internal server error" frame.
      if (result.kind === 'error') {
        const throttled = (result.error as { statusCode?: unknown } | null)?.statusCode === 429;
        return rejectUpgrade(socket, throttled ? 500 : 502, 'Internal server error');
      }
      if (result.kind === 'timeout') return rejectUpgrade(socket, 504, 'Endpoint request timed out');
      const status = resultStatus(result.value);
      if (status < 200 || status > 299) {
        this.log({ level: 'info', msg: 'connection refused by $connect', ...base, status });
        return rejectUpgrade(socket, status);
      }
      const protocol = resultSubprotocol(result.value);
      if (protocol) this.chosenProtocol.set(req, protocol);
    }
    if (socket.destroyed || this.closing) {
      // `$connect` already ran (and may have stored the connection): tell `$disconnect`, as a dropped
      // connection would. AWS's behaviour for a client lost mid-handshake is not documented.
      socket.destroy();
      if (this.disconnectWanted()) await this.fireDisconnect(info, authorizer, { code: 1006, reason: '' });
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, info, authorizer));
  }

  private async authorize(
    invoke: (event: object) => Promise<unknown>,
    info: ConnectionInfo,
    request: RequestInfo,
  ): Promise<AuthOutcome> {
    if (!identityPresent(this.identitySources, request)) {
      return { ok: false, status: 401, reason: 'identity source missing' };
    }
    // A1: for `$connect` the method ARN has no HTTP verb and ends with the route key.
    const methodArn = `arn:aws:execute-api:${this.region}:${this.accountId}:${this.api.apiId}/${this.api.stage}/$connect`;
    const outcome = await this.invoke(
      '$connect authorizer',
      invoke,
      authorizerEvent(this.api, info, request, methodArn, Date.now()),
    );
    if (outcome.kind === 'error') return authorizerErrorOutcome(outcome.error);
    if (outcome.kind === 'timeout') return { ok: false, status: 500, reason: 'authorizer timed out' };
    return evaluateAuthorizerResult(outcome.value, methodArn);
  }

  private accept(
    ws: WebSocket,
    socket: Duplex,
    info: ConnectionInfo,
    authorizer: Record<string, string> | undefined,
  ): void {
    const conn = new Connection(info, ws, authorizer, this.limits, (c, limit) => {
      this.log({ level: 'info', msg: `connection closed: ${limit} limit`, connectionId: c.connectionId });
      c.closeByServer(SERVER_CLOSE.goingAway);
    });
    this.live.set(conn.connectionId, conn);
    this.log({ level: 'info', msg: 'connected', connectionId: conn.connectionId, sourceIp: conn.sourceIp });

    const guard = new FrameSizeGuard(MAX_FRAME_BYTES, (bytes) => {
      this.log({ level: 'info', msg: 'frame over 32 KB', connectionId: conn.connectionId, bytes });
      conn.closeByServer(SERVER_CLOSE.tooBig);
    });
    // Before ws's own listener, so an oversize frame is caught before ws assembles its message.
    socket.prependListener('data', (chunk: Buffer) => guard.push(chunk));

    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      this.log({ level: 'info', msg: 'protocol error', connectionId: conn.connectionId, error: err.message });
      conn.closedByProtocolError(WS_ERROR_CLOSE_CODES[err.code ?? ''] ?? 1002);
    });
    ws.on('close', (code, reason) => {
      this.live.delete(conn.connectionId);
      const status = conn.finish({ code, reason: reason.toString('utf8') });
      this.log({ level: 'info', msg: 'disconnected', connectionId: conn.connectionId, ...status });
      if (this.disconnectLost(conn.connectionId, status)) {
        this.log({ level: 'info', msg: 'injected fault: $disconnect lost', connectionId: conn.connectionId });
        return;
      }
      if (this.disconnectWanted()) this.track(this.fireDisconnect(conn, conn.authorizer, status));
    });
  }

  // ---- messages -----------------------------------------------------------------------------------

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.state !== 'open') return; // e.g. the rest of an oversize frame after the 1009
    if (isBinary) {
      conn.closeByServer(SERVER_CLOSE.binary);
      return;
    }
    conn.clientActivity(Date.now());
    this.track(this.route(conn, rawToBuffer(data).toString('utf8')));
  }

  /** Each message is handled on its own, concurrently, as API Gateway invokes per message. */
  private async route(conn: Connection, body: string): Promise<void> {
    const routeKey = selectRoute(body, this.customRoutes);
    const requestId = newAwsId();
    const integration = this.integrations[routeKey];
    if (!integration) {
      await this.reply(conn, gatewayErrorFrame('Forbidden', conn.connectionId, requestId));
      return;
    }
    if (!this.throttle.admit(routeKey)) {
      // Throttled at the stage: the integration is not invoked (throttle.ts).
      this.log({ level: 'info', msg: 'message throttled', connectionId: conn.connectionId, routeKey });
      await this.reply(conn, gatewayErrorFrame(THROTTLED_MESSAGE, conn.connectionId, requestId));
      return;
    }
    const event = messageEvent(this.api, conn, routeKey, body, conn.authorizer, Date.now(), requestId);
    const result = await this.invoke(routeKey, integration, event);
    // A failed integration, a Lambda throttle (TooManyRequestsException) included, is "Internal server
    // error": "If the backend service is throttled due to a high number of requests, the API Gateway API
    // might return an "Internal server error"" (AWS re:Post Knowledge Center, "How can I troubleshoot the
    // "internal server" error with status code 500 for API Gateway endpoints that integrate with Lambda?").
    if (result.kind === 'error') {
      await this.reply(conn, gatewayErrorFrame('Internal server error', conn.connectionId, requestId));
      return;
    }
    if (result.kind === 'timeout') {
      await this.reply(conn, gatewayErrorFrame('Endpoint request timed out', conn.connectionId, requestId));
      return;
    }
    // Two-way routes send the proxy result's `body` back, whatever its statusCode (a 500 body still
    // arrives as a message: React-Chat-App-using-AWS-API-Gateway-Websocket…#2); one-way routes never do.
    const reply = this.twoWayRoutes.has(routeKey) ? resultBody(result.value) : undefined;
    if (reply !== undefined) await this.reply(conn, reply);
  }

  private async reply(conn: Connection, text: string): Promise<void> {
    if (conn.state !== 'open') return;
    try {
      await conn.send(Buffer.from(text, 'utf8'));
    } catch (err) {
      this.log({ level: 'debug', msg: 'reply dropped', connectionId: conn.connectionId, error: String(err) });
    }
  }

  // ---- $disconnect --------------------------------------------------------------------------------

  /** `faults.dropDisconnect`: AWS's best-effort `$disconnect`, lost for a socket that just vanished. */
  private disconnectLost(connectionId: string, status: CloseStatus): boolean {
    return status.code === ABNORMAL_CLOSURE && (this.faults?.dropDisconnect?.(connectionId) ?? false);
  }

  private disconnectWanted(): boolean {
    return !this.closing || this.fireDisconnectOnClose;
  }

  /** Best-effort, as on AWS: a failing `$disconnect` is logged, never retried. */
  private async fireDisconnect(
    conn: ConnectionInfo,
    authorizer: Record<string, string> | undefined,
    status: CloseStatus,
  ): Promise<void> {
    const disconnect = this.integrations.$disconnect;
    if (!disconnect) return;
    await this.invoke(
      '$disconnect',
      disconnect,
      disconnectEvent(this.api, conn, status, authorizer, Date.now()),
    );
  }

  // ---- shutdown -----------------------------------------------------------------------------------

  private close(fireDisconnect: boolean): Promise<void> {
    if (!this.closing) {
      this.fireDisconnectOnClose = fireDisconnect;
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Stop listening and cut HTTP keep-alive sockets (and any `@connections` call still in flight) at once.
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.pendingSockets) socket.destroy();
    const connections = [...this.live.values()];
    for (const conn of connections) {
      if (!conn.closeByServer(SERVER_CLOSE.goingAway) && conn.state === 'closing') conn.terminate();
    }
    // ws destroys a socket whose peer does not answer the close frame within CLOSE_GRACE_MS.
    await Promise.all(connections.map((conn) => conn.closed));
    // `$disconnect` calls and handlers still running (each bounded by the integration timeout).
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await serverClosed;
    this.wss.close();
    this.log({ level: 'info', msg: 'gateway closed' });
  }
}

/** What `ws` would refuse anyway, checked before the authorizer and `$connect` run. */
function isValidHandshake(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  const version = req.headers['sec-websocket-version'];
  return (
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key.trim()) &&
    (version === '13' || version === '8')
  );
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
