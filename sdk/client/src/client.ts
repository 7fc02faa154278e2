import {
  backoffDelay,
  type ClientFrame,
  DEFAULT_PING_INTERVAL_MS,
  type ErrorFrame,
  type EventFrame,
  parseServerFrame,
  type ReplyFrame,
} from '@fanout/protocol';

/**
 * Client SDK for dashboards, in browsers and Node: connects with a token, subscribes to topics,
 * keeps the connection alive (API Gateway closes idle sockets after 10 minutes and every socket
 * after 2 hours), reconnects with backoff and re-subscribes, and drops duplicate deliveries by event
 * id (delivery is at-least-once). Every frame received is checked against the protocol before the
 * application sees it.
 *
 * Pass `WebSocket` from the `ws` package in Node 20 (browsers and Node 22 have a global one).
 */

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

/** How a FanoutClient connects; only `url` and `token` are required. */
export interface ClientOptions {
  /** The WebSocket URL (`websocket_url` output, or `websocketUrl` in .fanout/local.json). */
  url: string;
  /** A token, or a function returning a fresh one before each (re)connect. */
  token: string | (() => string | Promise<string>);
  WebSocket?: SocketFactory;
  /** Ping interval; below API Gateway's 10-minute idle timeout. Default 5 minutes (DEFAULT_PING_INTERVAL_MS). */
  pingIntervalMs?: number;
  /** Reply timeout for subscribe/unsubscribe/ping. Default 10 s. */
  requestTimeoutMs?: number;
  /** Reconnect backoff bounds (full jitter). Defaults 500 ms and 30 s. Set `reconnect: false` to disable. */
  reconnect?: boolean;
  minReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** How many recent event ids to remember for duplicate dropping. Default 1000. */
  dedupeWindow?: number;
}

type Listener<T> = (value: T) => void;
/** The connection as the client sees it; listen with `client.on('state', …)`. */
export type ConnectionState = 'connecting' | 'open' | 'closed';
/** What `on()` can listen to, and the value each listener receives. */
export interface ClientEvents {
  event: EventFrame;
  state: ConnectionState;
  error: Error;
}
interface Pending {
  resolve: (frame: Exclude<ReplyFrame, ErrorFrame>) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

/**
 * A dashboard's connection to fanout. One instance per connection; it reconnects by itself.
 *
 * @example
 * ```ts
 * const client = new FanoutClient({ url, token: () => fetchToken() });
 * client.on('event', (event) => console.log(event.id, event.data));
 * await client.connect();
 * await client.subscribe('orders/*');
 * ```
 */
export class FanoutClient {
  private socket: SocketLike | undefined;
  private readonly subscriptions = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private readonly seen: string[] = [];
  private readonly seenSet = new Set<string>();
  private readonly listeners: { [K in keyof ClientEvents]: Set<Listener<ClientEvents[K]>> } = {
    event: new Set(),
    state: new Set(),
    error: new Set(),
  };
  private nextId = 1;
  private attempt = 0;
  private closedByUser = false;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly opts: Required<Omit<ClientOptions, 'WebSocket' | 'token'>> & Pick<ClientOptions, 'token'>;
  private readonly Socket: SocketFactory;

  /** Throws when no WebSocket implementation is available (Node 20 without `ws`). */
  constructor(options: ClientOptions) {
    const Socket = options.WebSocket ?? (globalThis as { WebSocket?: SocketFactory }).WebSocket;
    if (!Socket)
      throw new Error('no WebSocket implementation: pass { WebSocket } (e.g. from the ws package)');
    this.Socket = Socket;
    this.opts = {
      url: options.url,
      token: options.token,
      pingIntervalMs: options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      reconnect: options.reconnect ?? true,
      minReconnectDelayMs: options.minReconnectDelayMs ?? 500,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 30_000,
      dedupeWindow: options.dedupeWindow ?? 1000,
    };
  }

  /** Listens to `event`, `state` or `error`; returns a function that stops listening. */
  on<K extends keyof ClientEvents>(kind: K, listener: Listener<ClientEvents[K]>): () => void {
    const set: Set<Listener<ClientEvents[K]>> = this.listeners[kind];
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Opens the connection; resolves once it is open (and earlier subscriptions are restored). */
  async connect(): Promise<void> {
    this.closedByUser = false;
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    const separator = this.opts.url.includes('?') ? '&' : '?';
    this.emit('state', 'connecting');
    const socket = new this.Socket(
      `${this.opts.url}${separator}token=${encodeURIComponent(token)}`,
    ) as SocketLike;
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error(`could not connect to ${this.opts.url}`));
      socket.onclose = (ev) => reject(new Error(`connection refused (${ev.code} ${ev.reason})`.trim()));
    });
    this.attempt = 0;
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onerror = () => this.emit('error', new Error('WebSocket error'));
    socket.onclose = () => this.closed();
    this.pingTimer = setInterval(() => {
      this.ping().catch((err: Error) => this.emit('error', err));
    }, this.opts.pingIntervalMs);
    this.emit('state', 'open');
    if (this.subscriptions.size > 0)
      await this.request({ action: 'subscribe', topics: [...this.subscriptions] });
  }

  /** Subscribes to topics or `prefix/*` patterns; rejects with the server's error code. */
  async subscribe(...topics: string[]): Promise<string[]> {
    const reply = await this.request({ action: 'subscribe', topics });
    for (const topic of topics) this.subscriptions.add(topic);
    return 'topics' in reply ? reply.topics : [];
  }

  /** Drops subscriptions (patterns not held are not an error); resolves with the topics asked. */
  async unsubscribe(...topics: string[]): Promise<string[]> {
    const reply = await this.request({ action: 'unsubscribe', topics });
    for (const topic of topics) this.subscriptions.delete(topic);
    return 'topics' in reply ? reply.topics : [];
  }

  /** Round trip to the server; the client pings by itself every `pingIntervalMs`. */
  async ping(): Promise<void> {
    await this.request({ action: 'ping' });
  }

  /** Closes the connection for good (no reconnect); pending requests reject. */
  close(): void {
    this.closedByUser = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.close(1000, 'client closed');
    this.closed();
  }

  private request(frame: ClientFrame): Promise<Exclude<ReplyFrame, ErrorFrame>> {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return Promise.reject(new Error('not connected'));
    const id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${String(frame.action)} within ${this.opts.requestTimeoutMs} ms`));
      }, this.opts.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  private receive(raw: unknown): void {
    const parsed = parseServerFrame(typeof raw === 'string' ? raw : String(raw));
    if (!parsed.ok) {
      this.emit('error', new Error(`received a frame outside the protocol: ${parsed.problems.join('; ')}`));
      return;
    }
    const frame = parsed.value;
    if (frame.type === 'event') {
      if (this.seenSet.has(frame.id)) return;
      this.remember(frame.id);
      this.emit('event', frame);
      return;
    }
    const pending = frame.id === undefined ? undefined : this.pending.get(frame.id);
    if (!pending || frame.id === undefined) {
      if (frame.type === 'error') this.emit('error', new FanoutRequestError(frame.code, frame.message));
      return;
    }
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.type === 'error') pending.reject(new FanoutRequestError(frame.code, frame.message));
    else pending.resolve(frame);
  }

  private remember(id: string): void {
    this.seen.push(id);
    this.seenSet.add(id);
    while (this.seen.length > this.opts.dedupeWindow) {
      const old = this.seen.shift();
      if (old !== undefined) this.seenSet.delete(old);
    }
  }

  private closed(): void {
    clearInterval(this.pingTimer);
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error('connection closed'));
      this.pending.delete(id);
    }
    if (!this.socket) return;
    this.socket = undefined;
    this.emit('state', 'closed');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closedByUser || !this.opts.reconnect) return;
    const delay = backoffDelay(this.attempt++, {
      baseDelayMs: this.opts.minReconnectDelayMs,
      maxDelayMs: this.opts.maxReconnectDelayMs,
    });
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((err: Error) => {
        this.socket = undefined;
        this.emit('error', err);
        this.scheduleReconnect();
      });
    }, delay);
  }

  private emit<K extends keyof ClientEvents>(kind: K, value: ClientEvents[K]): void {
    const set: Set<Listener<ClientEvents[K]>> = this.listeners[kind];
    for (const listener of set) listener(value);
  }
}
