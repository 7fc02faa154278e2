/** Public types of the local API Gateway WebSocket emulator. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CountingStats } from './counting.js';
import type { ThrottlingSettings } from './throttle.js';

export type { CountingStats, ThrottlingSettings };

/** A route's backend: receives the Lambda-proxy event, returns what the Lambda would return. */
export type Integration = (event: object, info: { routeKey: string }) => Promise<unknown>;

export interface AuthorizerConfig {
  /**
   * Where the identity comes from, as in the AWS authorizer's `identity_sources`, comma-separated:
   * `route.request.querystring.<name>` and/or `route.request.header.<name>`.
   */
  identitySource: string;
  /** The REQUEST authorizer: gets the authorizer event, returns `{ principalId, policyDocument, context? }`. */
  invoke: (event: object) => Promise<unknown>;
}

export interface ConnectionsCall {
  method: 'POST' | 'GET' | 'DELETE';
  connectionId: string;
}

/** An error the `@connections` API should answer with instead of doing the call. */
export interface InjectedFault {
  status: number;
  /** Sent as `x-amzn-ErrorType`, which is what makes the SDK raise e.g. `LimitExceededException`. */
  errorType: string;
  message?: string;
}

export interface GatewayFaults {
  beforeConnectionsCall?: (
    call: ConnectionsCall,
  ) => Promise<InjectedFault | undefined> | InjectedFault | undefined;
  /**
   * The round trip of every `@connections` call: its answer leaves no sooner than this after the
   * request arrived (the stand-in's own work is inside it, as API Gateway's is inside its latency).
   */
  latencyMs?: number;
  /**
   * Lose the `$disconnect` of a connection that ended abnormally (the socket vanished without a close
   * frame: code 1006) when this returns true. AWS documents `$disconnect` as best-effort: a client that
   * disappears may never produce one, and its rows then linger until the fan-out prunes them on 410
   * Gone (or TTL). Closes with a close frame, and closes the gateway starts, are never dropped.
   */
  dropDisconnect?: (connectionId: string) => boolean;
}

export interface GatewayLogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  [key: string]: unknown;
}

/** A certificate to serve TLS with, as API Gateway does: the gateway then listens for `wss://`. */
export interface GatewayTls {
  /** PEM certificate (chain) and private key. */
  cert: string | Buffer;
  key: string | Buffer;
  /**
   * The name clients must ask for with SNI, as API Gateway's `{api-id}.execute-api.{region}.amazonaws.com`
   * endpoints require; handshakes without it or with another name are refused. It is also the host of
   * `url` and `managementEndpoint`. Unset: any name or none, and the URLs name the bound host.
   */
  serverName?: string;
}

export interface GatewayOptions {
  /** Interface to bind; loopback unless asked otherwise. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  stage?: string;
  apiId?: string;
  region?: string;
  accountId?: string;
  /** Only `$request.body.action` is supported. */
  routeSelection?: 'action';
  /** By route key: `$connect`, `$disconnect`, `$default`, or a custom key such as `subscribe`. */
  integrations: Record<string, Integration>;
  authorizer?: AuthorizerConfig;
  /** Routes with a `$default` route response: the integration result's `body` goes back on the socket. */
  twoWayRoutes?: string[];
  /** Default 10 minutes (AWS quota "Idle Connection Timeout"). */
  idleTimeoutMs?: number;
  /** Default 2 hours (AWS quota "Connection duration for WebSocket API"). */
  maxConnectionMs?: number;
  /**
   * Whether frames the gateway sends (PostToConnection, two-way replies) count as activity for the
   * idle timeout. Default true: see `connection.ts` for the evidence and why it is a switch.
   */
  outgoingResetsIdle?: boolean;
  /** Default 29 s (AWS quota "Integration timeout", the most it can be set to). */
  integrationTimeoutMs?: number;
  faults?: GatewayFaults;
  /**
   * The stage's default route throttling (Terraform `default_route_settings`: `throttling_burst_limit`,
   * `throttling_rate_limit`), a token bucket per route (throttle.ts). A throttled `$connect` is refused
   * with 429, a throttled message gets the "Too Many Requests" error frame. Default: no throttling.
   */
  throttling?: ThrottlingSettings;
  /**
   * Proxies (IP addresses or CIDR ranges) whose `X-Forwarded-For` names the client: when the TCP peer
   * is one of them, `identity.sourceIp` is the client it forwarded for (see forwarded.ts). Default
   * none: the peer is the client, as API Gateway reports it.
   */
  trustedProxies?: readonly string[];
  /**
   * Called once an `@connections` call has been answered, with its status and, for a POST, the data
   * posted: the latency benchmark's stage split. Not called for requests that are not calls (404, 405).
   */
  onConnectionsCall?: (call: ConnectionsCall, status: number, data: Buffer | undefined) => void;
  /** Serve `wss://` and `https://` instead of `ws://` and `http://`. */
  tls?: GatewayTls;
  log?: (line: GatewayLogLine) => void;
}

export interface GatewayHandle {
  /** `ws://127.0.0.1:<port>/<stage>` (`wss://<tls.serverName>:<port>/<stage>` with TLS) */
  url: string;
  /** `http://127.0.0.1:<port>/<stage>` (https with TLS): the `endpoint` for `ApiGatewayManagementApiClient`. */
  managementEndpoint: string;
  port: number;
  /** Ids of the connections that are open now. */
  connections(): string[];
  /**
   * Closes every connection (1001 Going away, then `$disconnect` unless `fireDisconnect: false`), waits
   * for in-flight integrations, and resolves once the port is free.
   */
  close(options?: { fireDisconnect?: boolean }): Promise<void>;
  /**
   * Cuts every open connection at once, without a close frame, as a gateway restart or a network
   * partition does (clients see 1006); `$disconnect` runs for each as for any abnormal close.
   */
  dropConnections(): number;
  setFaults(faults: GatewayFaults | undefined): void;
  /**
   * Answers an `@connections` request another local server accepted (the IAM guard, local/iam/guard.ts),
   * exactly as a request on `managementEndpoint` is answered, without a second loopback HTTP hop.
   */
  serveConnectionsCall(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Socket-less connections (counting.ts): open for `@connections`, counting the frames posted to
   * each instead of sending them, for audiences too large to hold as sockets. Not listed by
   * `connections()`, and never sent `$connect` or `$disconnect`.
   */
  counting: {
    /** Opens `count` of them; returns their connection ids. */
    add(count: number): string[];
    stats(): CountingStats;
    /** Zeroes the counts, keeping the connections. */
    reset(): void;
    /** Ends them all: later posts to them answer 410 Gone. */
    clear(): void;
  };
}
