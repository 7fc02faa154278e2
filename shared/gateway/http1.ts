import { isIP, connect as netConnect, type Socket } from 'node:net';
import { rootCertificates, type TLSSocket, connect as tlsConnect } from 'node:tls';

/**
 * A pool of kept-alive HTTP/1.1 connections to one origin, one request at a time on each, for the
 * fan-out's `@connections` posts. node:http costs about as much CPU per post as signing it (a
 * ClientRequest, an IncomingMessage, the agent's socket bookkeeping, a dozen listeners added and
 * removed per request): here a post is one socket write of a pre-built head and the frame, and the
 * answer is read by a small parser on the connection's one `data` listener. It speaks only what a
 * post needs: a request with a body, an answer with Content-Length, chunked or close-delimited body.
 */
export interface Http1Options {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  /** Connections kept open at most: the fan-out concurrency, so no post waits for one. */
  maxSockets: number;
  /** Longest wait for an answer, from the request's write (connecting included) to its last byte. */
  timeoutMs: number;
  /** The largest error body kept; the rest is read and dropped. */
  maxBodyBytes: number;
  /** Answer headers the caller reads (lower-case names); no others are parsed. */
  answerHeaders: readonly string[];
  /** Certificates trusted besides the system's (PEM), for https: a private endpoint's, or a test's. */
  ca?: string;
  /**
   * A connection idle longer than this is closed rather than reused (default IDLE_REUSE_MS): the
   * server may have closed it meanwhile (a frozen Lambda sees that only when it writes), and a post
   * written to a closed connection fails and goes to a retry message.
   */
  maxIdleMs?: number;
}

/**
 * Below the idle timeouts servers and load balancers commonly keep (API Gateway documents none for
 * `@connections`): a new connection costs a (resumed) TLS handshake, a stale one a failed post.
 */
export const IDLE_REUSE_MS = 4_000;

/** An HTTP answer: its status, the headers asked for (`answerHeaders`), its body if kept. */
export interface Http1Answer {
  status: number;
  headers: Readonly<Record<string, string>>;
  /** Only for a status outside 2xx: a success's body is read and dropped. */
  body: string;
}

/** A request that failed before an answer arrived: the connection broke, timed out or spoke nonsense. */
export class Http1Error extends Error {
  override readonly name = 'Http1Error';
  constructor(
    message: string,
    readonly code: 'timeout' | 'closed' | 'protocol' | 'socket',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Pending {
  data: Buffer | readonly [Buffer, Uint8Array];
  resolve: (answer: Http1Answer) => void;
  reject: (err: Http1Error) => void;
}

/** Frames up to this size are copied after the head into one buffer: one write, one syscall. */
const COPY_BODY_BELOW = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly waiting: Pending[] = [];
  private open = 0;
  private tlsSession: Buffer | undefined;

  constructor(private readonly options: Http1Options) {}

  /**
   * Sends `head` (request line and headers, ending in the blank line; ASCII) and `body`, and
   * resolves with the answer, or rejects with an Http1Error. Never retries: a post may have been
   * delivered even when its answer was lost.
   */
  request(head: string, body: Uint8Array): Promise<Http1Answer> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { data: encode(head, body), resolve, reject };
      const connection = this.freshIdle();
      if (connection) connection.send(pending);
      else if (this.open < this.options.maxSockets) this.connect().send(pending);
      else this.waiting.push(pending);
    });
  }

  /** Closes every connection; requests in flight or waiting fail as `closed`. */
  destroy(): void {
    for (const connection of this.idle.splice(0)) connection.close();
    for (const pending of this.waiting.splice(0))
      pending.reject(new Http1Error('the pool was closed', 'closed'));
    for (const connection of this.busy) connection.close();
  }

  /** Connections open now (idle or answering), for tests. */
  get size(): number {
    return this.open;
  }

  private readonly busy = new Set<Connection>();

  private connect(): Connection {
    const { protocol, hostname, port } = this.options;
    const socket =
      protocol === 'https:'
        ? tlsConnect({
            host: hostname,
            port,
            // SNI names a host, never an address (RFC 6066).
            ...(isIP(hostname) ? {} : { servername: hostname }),
            ALPNProtocols: ['http/1.1'],
            ...(this.options.ca ? { ca: [...rootCertificates, this.options.ca] } : {}),
            ...(this.tlsSession ? { session: this.tlsSession } : {}),
          })
        : netConnect({ host: hostname, port });
    if (protocol === 'https:') {
      // Resumed sessions make the handshakes after a cold start's first one cheaper.
      (socket as TLSSocket).on('session', (session: Buffer) => {
        this.tlsSession = session;
      });
    }
    this.open++;
    return new Connection(socket, this.options, {
      done: (connection) => this.release(connection),
      closed: (connection) => this.forget(connection),
      busy: (connection) => this.busy.add(connection),
    });
  }

  /** A connection that answered and stays open takes the next waiting request, or goes idle. */
  private release(connection: Connection): void {
    this.busy.delete(connection);
    const next = this.waiting.shift();
    if (next) connection.send(next);
    else {
      connection.idleSince = Date.now();
      this.idle.push(connection);
    }
  }

  /** The most recently used idle connection, closing those idle too long to trust. */
  private freshIdle(): Connection | undefined {
    const maxIdleMs = this.options.maxIdleMs ?? IDLE_REUSE_MS;
    const connection = this.idle.pop();
    if (!connection || Date.now() - connection.idleSince <= maxIdleMs) return connection;
    // The idle list is in order of release: every one below this one has waited longer still.
    for (const stale of [connection, ...this.idle.splice(0)]) stale.retire();
    return undefined;
  }

  private forget(connection: Connection): void {
    this.open--;
    this.busy.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    // A request that waited for a connection gets a new one in place of the closed one.
    const next = this.waiting.shift();
    if (next) this.connect().send(next);
  }
}

function encode(head: string, body: Uint8Array): Buffer | readonly [Buffer, Uint8Array] {
  const headBytes = Buffer.byteLength(head, 'latin1');
  if (body.byteLength >= COPY_BODY_BELOW) return [Buffer.from(head, 'latin1'), body];
  const data = Buffer.allocUnsafe(headBytes + body.byteLength);
  data.write(head, 0, headBytes, 'latin1');
  data.set(body, headBytes);
  return data;
}

/** What the answer being read has told so far. */
type Reading =
  | { phase: 'head' }
  | { phase: 'length'; left: number }
  | { phase: 'chunk-size' }
  | { phase: 'chunk-data'; left: number }
  | { phase: 'trailers' }
  | { phase: 'until-close' };

interface Hooks {
  done(connection: Connection): void;
  closed(connection: Connection): void;
  busy(connection: Connection): void;
}

class Connection {
  /** When it last went idle (epoch ms). */
  idleSince = 0;
  private current: Pending | undefined;
  private buffered: Buffer | undefined;
  private reading: Reading = { phase: 'head' };
  private status = 0;
  private headers: Record<string, string> = {};
  private body = '';
  private keepAlive = true;
  private gone = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    private readonly options: Http1Options,
    private readonly hooks: Hooks,
  ) {
    socket.setNoDelay(true);
    // One timer per connection, re-armed per request: no timer is created or cleared per post.
    this.timer = setTimeout(() => this.onTimeout(), options.timeoutMs);
    this.timer.unref();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new Http1Error(err.message, 'socket', { cause: err })));
    socket.on('close', () => this.fail(new Http1Error('the connection closed before the answer', 'closed')));
  }

  send(pending: Pending): void {
    this.current = pending;
    this.reading = { phase: 'head' };
    this.hooks.busy(this);
    this.timer.refresh();
    const { data } = pending;
    if (Buffer.isBuffer(data)) this.socket.write(data);
    else {
      this.socket.cork();
      this.socket.write(data[0]);
      this.socket.write(data[1]);
      this.socket.uncork();
    }
  }

  close(): void {
    this.socket.destroy();
  }

  /** Closes an idle connection and leaves the pool at once (its count frees for a new one). */
  retire(): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.timer);
    this.socket.destroy();
    this.hooks.closed(this);
  }

  private onTimeout(): void {
    if (!this.current) return;
    this.fail(new Http1Error(`no answer within ${this.options.timeoutMs} ms`, 'timeout'));
  }

  /** The connection is unusable: the request on it (if any) fails, and the pool forgets it. */
  private fail(err: Http1Error): void {
    const current = this.current;
    this.current = undefined;
    if (!this.gone) {
      this.gone = true;
      clearTimeout(this.timer);
      this.socket.destroy();
      this.hooks.closed(this);
    }
    if (!current) return;
    // A close-delimited body ends with the connection: that is its answer, not a failure.
    if (this.reading.phase === 'until-close' && err.code === 'closed') this.finish(current);
    else current.reject(err);
  }

  private onData(chunk: Buffer): void {
    if (!this.current) {
      // Nothing was asked: bytes now mean the server and this client disagree on the framing.
      this.fail(new Http1Error('data arrived with no request outstanding', 'protocol'));
      return;
    }
    this.buffered = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    try {
      this.parse();
    } catch (err) {
      this.fail(err instanceof Http1Error ? err : new Http1Error(String(err), 'protocol'));
    }
  }

  /** Consumes what `buffered` holds of the answer; completes the request once it is all there. */
  private parse(): void {
    for (;;) {
      const buffer = this.buffered;
      const current = this.current;
      if (!current) {
        if (buffer && buffer.length > 0) throw new Http1Error('bytes after the answer', 'protocol');
        return;
      }
      if (!buffer || buffer.length === 0) return;
      const reading = this.reading;
      switch (reading.phase) {
        case 'head': {
          const end = buffer.indexOf(HEAD_END);
          if (end < 0) {
            if (buffer.length > 64 * 1024) throw new Http1Error('answer head over 64 KiB', 'protocol');
            return;
          }
          this.take(end + HEAD_END.length);
          this.readHead(buffer.toString('latin1', 0, end));
          if (this.status >= 100 && this.status < 200) {
            // An interim answer (100 Continue): the real one follows.
            this.reading = { phase: 'head' };
            continue;
          }
          if (this.reading.phase === 'length' && this.reading.left === 0) this.finish(current);
          break;
        }
        case 'length': {
          const n = Math.min(reading.left, buffer.length);
          this.keep(buffer, n);
          this.take(n);
          reading.left -= n;
          if (reading.left === 0) this.finish(current);
          break;
        }
        case 'chunk-size': {
          const end = buffer.indexOf(CRLF);
          if (end < 0) return;
          const line = buffer.toString('latin1', 0, end);
          const size = Number.parseInt(line, 16);
          if (!/^[0-9a-fA-F]+/.test(line) || Number.isNaN(size)) {
            throw new Http1Error(`bad chunk size line "${line.slice(0, 40)}"`, 'protocol');
          }
          this.take(end + CRLF.length);
          this.reading =
            size === 0 ? { phase: 'trailers' } : { phase: 'chunk-data', left: size + CRLF.length };
          break;
        }
        case 'chunk-data': {
          const n = Math.min(reading.left, buffer.length);
          // The chunk's closing CRLF is counted in `left` and never kept.
          this.keep(buffer, Math.min(n, reading.left - CRLF.length));
          this.take(n);
          reading.left -= n;
          if (reading.left === 0) this.reading = { phase: 'chunk-size' };
          break;
        }
        case 'trailers': {
          const end = buffer.indexOf(CRLF);
          if (end < 0) return;
          this.take(end + CRLF.length);
          // An empty line ends the trailers, and the answer.
          if (end === 0) this.finish(current);
          break;
        }
        case 'until-close':
          this.keep(buffer, buffer.length);
          this.take(buffer.length);
          return;
      }
    }
  }

  private readHead(head: string): void {
    const match = /^HTTP\/1\.([01]) (\d{3})/.exec(head);
    if (!match) throw new Http1Error(`bad status line "${head.slice(0, 40)}"`, 'protocol');
    this.status = Number(match[2]);
    // Only the few headers the framing and the caller need are looked up, in one lower-cased copy.
    const lower = head.toLowerCase();
    const headers: Record<string, string> = {};
    for (const name of this.options.answerHeaders) {
      const value = headerValue(head, lower, name);
      if (value !== undefined) headers[name] = value;
    }
    this.headers = headers;
    this.body = '';
    const connection = headerValue(lower, lower, 'connection');
    this.keepAlive = match[1] === '1' ? connection !== 'close' : connection === 'keep-alive';
    if (this.status < 200) return;
    const length = headerValue(head, lower, 'content-length');
    const chunked = headerValue(lower, lower, 'transfer-encoding')?.includes('chunked') ?? false;
    if (this.status === 204 || this.status === 304) this.reading = { phase: 'length', left: 0 };
    else if (chunked) this.reading = { phase: 'chunk-size' };
    else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new Http1Error(`bad content-length "${length}"`, 'protocol');
      this.reading = { phase: 'length', left: Number(length) };
    } else {
      this.keepAlive = false;
      this.reading = { phase: 'until-close' };
    }
  }

  /** Keeps the first `n` bytes of `buffer` as body, for an error answer, up to the pool's limit. */
  private keep(buffer: Buffer, n: number): void {
    if (this.status >= 200 && this.status < 300) return;
    const room = this.options.maxBodyBytes - this.body.length;
    if (room > 0 && n > 0) this.body += buffer.toString('utf8', 0, Math.min(n, room));
  }

  private take(n: number): void {
    const buffer = this.buffered;
    if (!buffer) return;
    this.buffered = n >= buffer.length ? undefined : buffer.subarray(n);
  }

  private finish(current: Pending): void {
    this.current = undefined;
    const answer: Http1Answer = { status: this.status, headers: this.headers, body: this.body };
    if (this.buffered && this.buffered.length > 0) {
      // Without pipelining nothing may follow an answer: the connection cannot be trusted again.
      this.keepAlive = false;
    }
    if (!this.gone) {
      if (this.keepAlive) this.hooks.done(this);
      else {
        this.gone = true;
        clearTimeout(this.timer);
        this.socket.destroy();
        this.hooks.closed(this);
      }
    }
    current.resolve(answer);
  }
}

/**
 * The value of header `name` (lower-case) in `head` (the answer's head without its final blank
 * line), found in `lower`, the same text lower-cased: the value keeps the case of `head`.
 */
function headerValue(head: string, lower: string, name: string): string | undefined {
  const at = lower.indexOf(`\r\n${name}:`);
  if (at < 0) return undefined;
  const start = at + name.length + 3;
  const end = head.indexOf('\r\n', start);
  return head.slice(start, end < 0 ? head.length : end).trim();
}
