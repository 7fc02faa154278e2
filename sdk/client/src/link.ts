import {
  type ClientFrame,
  type ErrorFrame,
  type EventFrame,
  parseServerFrame,
  type ReplyFrame,
  type ServerFrame,
} from '@fanout/protocol';

/** The server refused a request: `code` is one of the protocol's stable error codes. */
export class FanoutRequestError extends Error {
  override readonly name = 'FanoutRequestError';
  constructor(
    readonly code: ErrorFrame['code'],
    message: string,
  ) {
    super(message);
  }
}

/** The part of the WHATWG WebSocket this client uses (browser, Node 22, and `ws` all have it). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

/**
 * A WebSocket constructor: the browser's, Node 22's, or `ws`'s. Typed loosely because their event
 * handler types differ in detail while behaving alike; the client only uses what SocketLike lists.
 */
export type SocketFactory = new (url: string) => object;

/** A reply that is not an error. */
export type Reply = Exclude<ReplyFrame, ErrorFrame>;

/** What a link tells the client it belongs to. */
export interface LinkHandlers {
  /** An event frame (one of an `events` frame, too), parsed. */
  event(frame: EventFrame): void;
  /** Any frame that carries a position: the client keeps the greatest. */
  frame(frame: ServerFrame): void;
  error(error: Error): void;
  /** The socket closed, whoever closed it. */
  closed(close: { code: number; reason: string }): void;
}

const OPEN = 1;

interface Pending {
  resolve: (frame: Reply) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One WebSocket connection: open it, send requests and match their replies by id, ping on an
 * interval. The client keeps one link, and two for a moment while it renews the connection.
 */
export class Link {
  private socket: SocketLike | undefined;
  private readonly pending = new Map<string, Pending>();
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private nextId = 1;
  private done = false;
  /** When the socket opened (epoch ms). */
  openedAt = 0;

  constructor(
    private readonly Socket: SocketFactory,
    private readonly options: { pingIntervalMs: number; requestTimeoutMs: number },
    private readonly handlers: LinkHandlers,
  ) {}

  /** Opens the socket at `url`; rejects when the server refuses the handshake or it fails. */
  open(url: string, safeUrl: string): Promise<void> {
    const socket = new this.Socket(url) as SocketLike;
    this.socket = socket;
    return new Promise<void>((resolve, reject) => {
      socket.onopen = () => {
        this.openedAt = Date.now();
        socket.onmessage = (ev) => this.receive(ev.data);
        socket.onerror = () => this.handlers.error(new Error('WebSocket error'));
        socket.onclose = (ev) => this.closed(ev);
        this.pingTimer = setInterval(() => {
          this.request({ action: 'ping' }).catch((err: Error) => this.handlers.error(err));
        }, this.options.pingIntervalMs);
        resolve();
      };
      // The URL carries the token: errors name the URL without its query.
      socket.onerror = () => reject(new Error(`could not connect to ${safeUrl}`));
      socket.onclose = (ev) => {
        this.done = true;
        reject(new Error(`connection refused (${ev.code} ${ev.reason})`.trim()));
      };
    });
  }

  get isOpen(): boolean {
    return !this.done && this.socket?.readyState === OPEN;
  }

  /** Sends a frame with a fresh id and resolves with its reply; rejects with the server's error. */
  request(frame: ClientFrame): Promise<Reply> {
    const socket = this.socket;
    if (!socket || !this.isOpen) return Promise.reject(new Error('not connected'));
    const id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${String(frame.action)} within ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Closes the socket (a normal close, 1000); the link's `closed` handler still runs. */
  close(reason: string): void {
    if (this.socket && !this.done) this.socket.close(1000, reason);
    this.closed({ code: 1000, reason });
  }

  private receive(raw: unknown): void {
    const parsed = parseServerFrame(typeof raw === 'string' ? raw : String(raw));
    if (!parsed.ok) {
      this.handlers.error(new Error(`received a frame outside the protocol: ${parsed.problems.join('; ')}`));
      return;
    }
    const frame = parsed.value;
    this.handlers.frame(frame);
    if (frame.type === 'event') {
      this.handlers.event(frame);
      return;
    }
    if (frame.type === 'events') {
      for (const event of frame.events) this.handlers.event(event);
      return;
    }
    const pending = frame.id === undefined ? undefined : this.pending.get(frame.id);
    if (!pending || frame.id === undefined) {
      if (frame.type === 'error') this.handlers.error(new FanoutRequestError(frame.code, frame.message));
      return;
    }
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.type === 'error') pending.reject(new FanoutRequestError(frame.code, frame.message));
    else pending.resolve(frame);
  }

  private closed(close: { code: number; reason: string }): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.pingTimer);
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error('connection closed'));
      this.pending.delete(id);
    }
    this.handlers.closed(close);
  }
}
