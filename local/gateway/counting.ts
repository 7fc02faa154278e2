import { newAwsId } from './ids.js';

/**
 * Socket-less connections for audiences larger than one machine can hold as sockets: the
 * `@connections` API treats them as open connections (POST succeeds, GET describes them, DELETE
 * ends them), and each one counts the frames posted to it instead of writing them to a socket. The
 * benchmarks (bench/) use them for 10k–100k subscribers; the fan-out cannot tell them from real ones.
 */
export class CountingConnection {
  readonly connectionId = newAwsId();
  readonly connectedAt = Date.now();
  readonly sourceIp = '127.0.0.1';
  readonly lastActiveAt = this.connectedAt;
  /** Frames posted to this connection. */
  posts = 0;
  open = true;

  constructor(private readonly onPost: () => void) {}

  async send(_data: Buffer): Promise<void> {
    if (!this.open) throw new Error(`connection ${this.connectionId} is closed`);
    this.posts += 1;
    this.onPost();
  }

  closeByServer(): boolean {
    if (!this.open) return false;
    this.open = false;
    return true;
  }
}

/** What the counting connections received, all together. */
export interface CountingStats {
  connections: number;
  /** Frames posted to them in all. */
  posts: number;
  /** Connections that got no frame / more than one frame since the last reset. */
  missing: number;
  duplicated: number;
  /** performance.timeOrigin + performance.now() of the latest post (0: none yet). */
  lastPostAt: number;
}

export class CountingConnections {
  private readonly byId = new Map<string, CountingConnection>();
  private total = 0;
  private lastPostAt = 0;

  add(count: number): string[] {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`counting connections: count must be a whole number >= 0, got ${count}`);
    }
    const ids: string[] = [];
    const onPost = (): void => {
      this.total += 1;
      this.lastPostAt = performance.timeOrigin + performance.now();
    };
    for (let i = 0; i < count; i++) {
      const conn = new CountingConnection(onPost);
      this.byId.set(conn.connectionId, conn);
      ids.push(conn.connectionId);
    }
    return ids;
  }

  find(connectionId: string): CountingConnection | undefined {
    const conn = this.byId.get(connectionId);
    return conn?.open ? conn : undefined;
  }

  stats(): CountingStats {
    let missing = 0;
    let duplicated = 0;
    for (const conn of this.byId.values()) {
      if (conn.posts === 0) missing += 1;
      else if (conn.posts > 1) duplicated += 1;
    }
    return {
      connections: this.byId.size,
      posts: this.total,
      missing,
      duplicated,
      lastPostAt: this.lastPostAt,
    };
  }

  /** Zeroes every count (before the next event), keeping the connections. */
  reset(): void {
    for (const conn of this.byId.values()) conn.posts = 0;
    this.total = 0;
    this.lastPostAt = 0;
  }

  /** Removes every counting connection: later posts to them answer 410 Gone. */
  clear(): void {
    for (const conn of this.byId.values()) conn.open = false;
    this.byId.clear();
  }
}
