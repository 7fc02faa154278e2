/** One live WebSocket connection: its identity, its timers, and how the gateway closes it. */
import type { WebSocket } from 'ws';
import type { ConnectionInfo } from './events.js';
import { sendMessage } from './frames.js';

export interface ConnectionLimits {
  idleTimeoutMs: number;
  maxConnectionMs: number;
  /**
   * AWS documents only "Idle Connection Timeout: 10 minutes". Hotsock, a product built on API Gateway
   * WebSockets, documents that the connection closes when "no messages are sent between the server and
   * client for a 10-minute period" and shows server-sent keep-alives (PostToConnection) holding a silent
   * client open until the 2-hour limit (hotsock.io/docs/connections/keep-alive). So outgoing frames count
   * by default; `false` gives the stricter reading (only the client's messages count) for testing
   * clients that must keep themselves alive.
   */
  outgoingResetsIdle: boolean;
}

export interface CloseStatus {
  code: number;
  reason: string;
}

/** Why the gateway closed a connection, as the client's close frame and `$disconnect` report it. */
export const SERVER_CLOSE = {
  /** DeleteConnection: `disconnectStatusCode` 1000, `disconnectReason` "Connection Closed Normally" (boto3#3789). */
  deleted: { code: 1000, reason: 'Connection Closed Normally' },
  /** Idle and 2-hour limits, gateway shutdown: RFC 6455 1001 "going away". The code AWS uses is not documented. */
  goingAway: { code: 1001, reason: 'Going away' },
  /** Binary frame: "If a binary frame is received, the connection is closed with code 1003" (AWS docs). */
  binary: { code: 1003, reason: '' },
  /** Frame over 32 KB or message over 128 KB: "the connection is closed with code 1009" (AWS quotas). */
  tooBig: { code: 1009, reason: '' },
} as const satisfies Record<string, CloseStatus>;

export class Connection implements ConnectionInfo {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
  readonly domainName: string;
  /** Authorizer context for MESSAGE and DISCONNECT events: `principalId` + context, no `integrationLatency`. */
  readonly authorizer: Record<string, string> | undefined;
  /** Last message from the client (GetConnection `lastActiveAt`). */
  lastActiveAt: number;
  state: 'open' | 'closing' | 'closed' = 'open';
  /** Set when the gateway (not the client) ended the connection; wins over what the socket reports. */
  serverClose: CloseStatus | undefined;
  readonly closed: Promise<void>;

  private readonly idleTimer: NodeJS.Timeout;
  private readonly maxTimer: NodeJS.Timeout;
  private markClosed: () => void = () => {};

  constructor(
    info: ConnectionInfo,
    private readonly ws: WebSocket,
    authorizer: Record<string, string> | undefined,
    private readonly limits: ConnectionLimits,
    onLimit: (conn: Connection, limit: 'idle' | 'maxDuration') => void,
  ) {
    this.connectionId = info.connectionId;
    this.connectedAt = info.connectedAt;
    this.sourceIp = info.sourceIp;
    if (info.userAgent !== undefined) this.userAgent = info.userAgent;
    this.domainName = info.domainName;
    this.authorizer = authorizer;
    this.lastActiveAt = info.connectedAt;
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    // unref: a connection's limits must not keep a process alive on their own.
    this.idleTimer = setTimeout(() => onLimit(this, 'idle'), limits.idleTimeoutMs).unref();
    this.maxTimer = setTimeout(() => onLimit(this, 'maxDuration'), limits.maxConnectionMs).unref();
  }

  /** A data message from the client: resets the idle timer and `lastActiveAt`. Ping frames do not. */
  clientActivity(now: number): void {
    this.lastActiveAt = now;
    this.idleTimer.refresh();
  }

  /** Sends one message (PostToConnection data, a two-way reply, an error frame). */
  async send(data: Buffer): Promise<void> {
    if (this.state !== 'open') throw new Error(`connection ${this.connectionId} is ${this.state}`);
    await sendMessage(this.ws, data);
    if (this.limits.outgoingResetsIdle && this.state === 'open') this.idleTimer.refresh();
  }

  /** Starts the closing handshake from the gateway's side; false if it was already closing. */
  closeByServer(status: CloseStatus): boolean {
    if (this.state !== 'open') return false;
    this.state = 'closing';
    this.serverClose = status;
    this.clearTimers();
    this.ws.close(status.code, status.reason);
    return true;
  }

  /** `ws` already sent a close frame itself (protocol error: oversize message, invalid UTF-8, …). */
  closedByProtocolError(code: number): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.serverClose = { code, reason: '' };
    this.clearTimers();
  }

  /** Hard stop (gateway shutdown after the grace period). */
  terminate(): void {
    this.ws.terminate();
  }

  /** The socket is gone; returns the status `$disconnect` should report. */
  finish(socketStatus: CloseStatus): CloseStatus {
    this.state = 'closed';
    this.clearTimers();
    this.markClosed();
    return this.serverClose ?? socketStatus;
  }

  private clearTimers(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.maxTimer);
  }
}
