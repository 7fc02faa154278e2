import {
  backoffDelay,
  DEFAULT_PING_INTERVAL_MS,
  type EventFrame,
  laterPosition,
  MAX_CONNECTION_DURATION_SECONDS,
  type Position,
  type ServerFrame,
  USER_STREAM,
} from '@fanout/protocol';
import { Link, type SocketFactory } from './link.js';

export { FanoutRequestError, type SocketFactory, type SocketLike } from './link.js';

/**
 * Client SDK for dashboards, in browsers and Node: connects with a token, subscribes to topics,
 * keeps the connection alive (API Gateway closes idle sockets after 10 minutes and every socket
 * after 2 hours), drops duplicate deliveries by event id (delivery is at-least-once), and never
 * leaves a gap it does not tell you about: after a reconnect it resubscribes with the last
 * position it received and the platform sends again what it missed, and before the 2-hour limit
 * it opens a new connection, subscribes it, and closes the old one only once deliveries already
 * under way to it have landed (make-before-break).
 * When recovery is impossible, `recovered` says so and the application reloads its state.
 *
 * Pass `WebSocket` from the `ws` package in Node 20 (browsers and Node 22 have a global one).
 */

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
  /** How many recent event ids to remember for duplicate dropping. Default 5000. */
  dedupeWindow?: number;
  /**
   * Age at which a connection is renewed: a new one is opened and subscribed before the old one is
   * closed. Default 110 minutes, ten before API Gateway's 2-hour limit; 0 turns renewal off.
   */
  renewAfterMs?: number;
}

type Listener<T> = (value: T) => void;

/**
 * The connection as the client sees it; listen with `client.on('state', …)` and read the detail in
 * `client.status`: `reconnecting` until the next attempt (`status.retryAt`), `recovering` while a
 * reconnected client gets back what it missed.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'recovering' | 'closed';

/** The state and what the application may want to show with it. */
export interface ClientStatus {
  state: ConnectionState;
  /** While reconnecting: when the next attempt starts (epoch ms). */
  retryAt?: number;
  /** The last close of a connection: its code and reason. */
  lastClose?: { code: number; reason: string };
}

/** The outcome of a recovery after a reconnect or a renewal. */
export interface RecoveryResult {
  /** Every event missed was sent again (and delivered to `event` listeners before this). */
  recovered: boolean;
  /** How many events were sent again. */
  missed: number;
}

/** What `on()` can listen to, and the value each listener receives. */
export interface ClientEvents {
  event: EventFrame;
  state: ConnectionState;
  error: Error;
  recovered: RecoveryResult;
}

const DEFAULT_RENEW_AFTER_MS = MAX_CONNECTION_DURATION_SECONDS * 1000 - 10 * 60_000;
/** How long a renewed-away connection stays open when the server names no settle time. */
const DEFAULT_SETTLE_MS = 15_000;

/**
 * A dashboard's connection to fanout. One instance per connection; it reconnects by itself.
 *
 * @example
 * ```ts
 * const client = new FanoutClient({ url, token: () => fetchToken() });
 * client.on('event', (event) => console.log(event.id, event.data));
 * client.on('recovered', ({ recovered }) => recovered || reloadEverything());
 * await client.connect();
 * await client.subscribe('orders/*');
 * ```
 */
export class FanoutClient {
  private link: Link | undefined;
  private readonly subscriptions = new Set<string>();
  private readonly seen: string[] = [];
  private readonly seenSet = new Set<string>();
  private readonly listeners: { [K in keyof ClientEvents]: Set<Listener<ClientEvents[K]>> } = {
    event: new Set(),
    state: new Set(),
    error: new Set(),
    recovered: new Set(),
  };
  /** The greatest position received on any connection: where recovery starts from. */
  private position: Position | undefined;
  private attempt = 0;
  private closedByUser = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;
  /** Renewed-away links still open for their settle time, each with what to do if it ends early. */
  private readonly draining = new Map<Link, () => void>();
  private current: ClientStatus = { state: 'closed' };
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
      dedupeWindow: options.dedupeWindow ?? 5000,
      renewAfterMs: options.renewAfterMs ?? DEFAULT_RENEW_AFTER_MS,
    };
  }

  /** Listens to `event`, `state`, `recovered` or `error`; returns a function that stops listening. */
  on<K extends keyof ClientEvents>(kind: K, listener: Listener<ClientEvents[K]>): () => void {
    const set: Set<Listener<ClientEvents[K]>> = this.listeners[kind];
    set.add(listener);
    return () => set.delete(listener);
  }

  /** The connection's state, with when the next reconnect starts and how the last connection closed. */
  get status(): ClientStatus {
    return { ...this.current };
  }

  /**
   * Opens the connection; resolves once it is open and earlier subscriptions are restored (after a
   * reconnect, with what was missed sent again: listen to `recovered` for the outcome).
   */
  async connect(): Promise<void> {
    this.closedByUser = false;
    this.setState('connecting');
    const link = await this.openLink();
    this.link = link;
    try {
      await this.restore(link, (state) => this.setState(state));
    } catch (err) {
      if (this.link === link) {
        this.link = undefined;
        link.close('could not restore the subscriptions');
      }
      throw err;
    }
    this.attempt = 0;
    this.scheduleRenewal(link);
    this.setState('open');
  }

  /** Subscribes to topics or `prefix/*` patterns; rejects with the server's error code. */
  async subscribe(...topics: string[]): Promise<string[]> {
    const reply = await this.requireLink().request({ action: 'subscribe', topics });
    for (const topic of topics) this.subscriptions.add(topic);
    return 'topics' in reply ? reply.topics : [];
  }

  /** Drops subscriptions (patterns not held are not an error); resolves with the topics asked. */
  async unsubscribe(...topics: string[]): Promise<string[]> {
    const reply = await this.requireLink().request({ action: 'unsubscribe', topics });
    for (const topic of topics) this.subscriptions.delete(topic);
    return 'topics' in reply ? reply.topics : [];
  }

  /** Round trip to the server; the client pings by itself every `pingIntervalMs`. */
  async ping(): Promise<void> {
    await this.requireLink().request({ action: 'ping' });
  }

  /** Closes the connection for good (no reconnect); pending requests reject. */
  close(): void {
    this.closedByUser = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearTimeout(this.renewTimer);
    const link = this.link;
    this.link = undefined;
    link?.close('client closed');
    const draining = [...this.draining.keys()];
    this.draining.clear();
    for (const old of draining) old.close('client closed');
    this.setState('closed');
  }

  private requireLink(): Link {
    const link = this.link;
    if (!link?.isOpen) throw new Error('not connected');
    return link;
  }

  private async openLink(): Promise<Link> {
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    const separator = this.opts.url.includes('?') ? '&' : '?';
    const link: Link = new Link(this.Socket, this.opts, {
      event: (frame) => this.deliver(frame),
      frame: (frame) => this.track(frame),
      error: (error) => this.emit('error', error),
      closed: (close) => this.linkClosed(link, close),
    });
    await link.open(`${this.opts.url}${separator}token=${encodeURIComponent(token)}`, this.opts.url);
    return link;
  }

  /**
   * Subscribes `link` to everything the client holds. With a position from an earlier connection,
   * it also asks for what was missed since (`since`), direct messages included.
   */
  private async restore(link: Link, state: (state: ConnectionState) => void): Promise<void> {
    const topics = [...this.subscriptions];
    if (this.position === undefined) {
      if (topics.length > 0) await link.request({ action: 'subscribe', topics });
      return;
    }
    state('recovering');
    await this.recoverOn(link, this.position);
  }

  /** Renews the connection before API Gateway's age limit closes it: the new one first. */
  private scheduleRenewal(link: Link, afterMs = this.opts.renewAfterMs): void {
    clearTimeout(this.renewTimer);
    if (this.opts.renewAfterMs <= 0) return;
    this.renewTimer = setTimeout(() => {
      this.renew(link).catch((err: Error) => {
        this.emit('error', new Error(`could not renew the connection: ${err.message}`));
        // Try again soon; if the old connection closes first, the reconnect path takes over.
        if (this.link === link && link.isOpen) this.scheduleRenewal(link, this.opts.minReconnectDelayMs);
      });
    }, afterMs);
  }

  /**
   * Make-before-break: subscribes a fresh connection, moves to it, and keeps the old one open for
   * the settle time the server names (deliveries that read their audience before the fresh
   * subscription existed still land on the old one). Should the old one end before that, the fresh
   * one recovers from the position the renewal started at.
   */
  private async renew(old: Link): Promise<void> {
    if (this.closedByUser || this.link !== old) return;
    const from = this.position;
    const fresh = await this.openLink();
    let settleMs = DEFAULT_SETTLE_MS;
    try {
      const topics = [...this.subscriptions];
      if (topics.length > 0) {
        const reply = await fresh.request({ action: 'subscribe', topics });
        if (reply.type === 'subscribed' && reply.settleMs !== undefined) settleMs = reply.settleMs;
      }
    } catch (err) {
      fresh.close('renewal failed');
      throw err;
    }
    if (this.closedByUser) {
      fresh.close('client closed');
      return;
    }
    if (this.link !== old) {
      // The old connection ended while this one was being set up. Adopt this one if only a
      // reconnect is waiting (recovering what the old one missed); if a reconnect already runs, it
      // wins and this one goes.
      if (this.link !== undefined || this.reconnectTimer === undefined) {
        fresh.close('superseded by a reconnect');
        return;
      }
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.link = fresh;
      await this.recoverOn(fresh, from);
    } else {
      this.link = fresh;
      this.drain(old, fresh, from, settleMs);
    }
    this.attempt = 0;
    this.scheduleRenewal(fresh);
    this.setState('open');
  }

  /**
   * Keeps `old` open for `settleMs`, then closes it and asks `fresh` for what was missed since the
   * renewal began; recovers at once if `old` ends sooner. The recovery after an orderly close is
   * not redundant: a post to `old` that failed and was retried (or handed to another invocation)
   * can land after `settleMs`, when `old` is gone, and the history is what still has it.
   */
  private drain(old: Link, fresh: Link, from: Position | undefined, settleMs: number): void {
    const timer = setTimeout(() => {
      this.draining.delete(old);
      old.close('renewed');
      this.recoverInBackground(fresh, from);
    }, settleMs);
    this.draining.set(old, () => {
      clearTimeout(timer);
      this.draining.delete(old);
      if (this.link === fresh && fresh.isOpen) {
        this.recoverInBackground(fresh, from);
      } else if (from !== undefined) {
        // Both are gone: the reconnect recovers from the earlier position.
        this.position = from;
      }
    });
  }

  /** Recovers on `fresh` while the client stays open, if it is still the current connection; failures are reported. */
  private recoverInBackground(fresh: Link, from: Position | undefined): void {
    if (this.link === fresh && fresh.isOpen)
      this.recoverOn(fresh, from).catch((err: Error) => this.emit('error', err));
  }

  /** Asks `link` for what was missed since `from` on every subscription and direct messages. */
  private async recoverOn(link: Link, from: Position | undefined): Promise<void> {
    if (from === undefined) return;
    const topics = [...this.subscriptions];
    const positions: Record<string, Position> = Object.fromEntries(topics.map((topic) => [topic, from]));
    positions[USER_STREAM] = from;
    const reply = await link.request({ action: 'subscribe', topics, since: positions });
    const recovered = reply.type === 'subscribed' && reply.recovered === true;
    this.emit('recovered', { recovered, missed: reply.type === 'subscribed' ? (reply.missed ?? 0) : 0 });
  }

  private linkClosed(link: Link, close: { code: number; reason: string }): void {
    this.draining.get(link)?.();
    // A renewed-away or user-closed link says nothing about the connection the client now has.
    if (this.link !== link) return;
    this.current = { ...this.current, lastClose: close };
    this.link = undefined;
    clearTimeout(this.renewTimer);
    if (this.closedByUser || !this.opts.reconnect) {
      this.setState('closed');
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== undefined) return;
    const delay = backoffDelay(this.attempt++, {
      baseDelayMs: this.opts.minReconnectDelayMs,
      maxDelayMs: this.opts.maxReconnectDelayMs,
    });
    this.setState('reconnecting', Date.now() + delay);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closedByUser) return;
      this.connect().catch((err: Error) => {
        this.emit('error', err);
        if (!this.closedByUser) this.scheduleReconnect();
      });
    }, delay);
  }

  private track(frame: ServerFrame): void {
    const position =
      frame.type === 'event' || frame.type === 'subscribed' || frame.type === 'pong'
        ? frame.position
        : undefined;
    this.position = laterPosition(this.position, position);
  }

  private deliver(frame: EventFrame): void {
    this.position = laterPosition(this.position, frame.position);
    if (this.seenSet.has(frame.id)) return;
    this.remember(frame.id);
    this.emit('event', frame);
  }

  private remember(id: string): void {
    this.seen.push(id);
    this.seenSet.add(id);
    while (this.seen.length > this.opts.dedupeWindow) {
      const old = this.seen.shift();
      if (old !== undefined) this.seenSet.delete(old);
    }
  }

  /** Moves to `state`, keeping how the last connection closed. */
  private setState(state: ConnectionState, retryAt?: number): void {
    const changed = state !== this.current.state;
    const { lastClose } = this.current;
    this.current = {
      state,
      ...(retryAt === undefined ? {} : { retryAt }),
      ...(lastClose ? { lastClose } : {}),
    };
    if (changed) this.emit('state', state);
  }

  private emit<K extends keyof ClientEvents>(kind: K, value: ClientEvents[K]): void {
    const set: Set<Listener<ClientEvents[K]>> = this.listeners[kind];
    for (const listener of set) listener(value);
  }
}
