import type { AudienceMember, AudienceSource } from '../domain/audience.js';
import { FanoutError } from '../domain/errors.js';
import {
  type AudiencePage,
  type ConnectionStore,
  checkAudienceLimit,
  type HeldStreams,
  InvalidCursorError,
  type NewConnection,
  type SubscribeResult,
} from './store.js';

/** What the port lets anyone read back about a connection: who it is and what it subscribed to. */
interface HeldConnection {
  userId?: string;
  connectedAt: number;
  subscriptions: string[];
  /** When `subscriptions` last changed: every "row" here shows the same list, written then. */
  listedAt: number;
}

export interface MemoryStoreOptions {
  /** The clock that stamps subscription changes (default Date.now). */
  now?: () => number;
}

/**
 * In-memory ConnectionStore for unit tests and single-process use. It keeps the same guarantees as
 * the DynamoDB store (see store.ts; it has no rows to expire); audience order is subscription order,
 * like a sort key would not promise but a test can rely on.
 */
export class MemoryConnectionStore implements ConnectionStore {
  private readonly connections = new Map<string, HeldConnection>();
  /** pattern → connection ids, in subscription order. */
  private readonly byPattern = new Map<string, AudienceIndex>();
  /** user id → connection ids. */
  private readonly byUser = new Map<string, AudienceIndex>();
  /** Calls made, by method name: lets tests assert that nothing was touched. */
  readonly calls: string[] = [];
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async registerConnection(connection: NewConnection): Promise<void> {
    this.calls.push('registerConnection');
    this.connections.set(connection.connectionId, {
      ...(connection.userId ? { userId: connection.userId } : {}),
      connectedAt: connection.connectedAt,
      subscriptions: [],
      listedAt: this.now(),
    });
    if (connection.userId) indexAdd(this.byUser, connection.userId, connection.connectionId);
  }

  async subscribe(
    connectionId: string,
    patterns: readonly string[],
    maxSubscriptions: number,
  ): Promise<SubscribeResult> {
    this.calls.push('subscribe');
    const record = this.requireConnection(connectionId);
    const added = [...new Set(patterns)].filter((p) => !record.subscriptions.includes(p));
    const total = record.subscriptions.length + added.length;
    if (total > maxSubscriptions) {
      throw new FanoutError(
        'too_many_subscriptions',
        `a connection may hold at most ${maxSubscriptions} subscriptions (has ${record.subscriptions.length}, asked for ${added.length} more)`,
        { limit: maxSubscriptions },
      );
    }
    record.subscriptions.push(...added);
    if (added.length > 0) record.listedAt = this.now();
    for (const pattern of added) indexAdd(this.byPattern, pattern, connectionId);
    return { subscriptions: [...new Set(patterns)], total };
  }

  async unsubscribe(connectionId: string, patterns: readonly string[]): Promise<string[]> {
    this.calls.push('unsubscribe');
    const record = this.requireConnection(connectionId);
    const removed = [...new Set(patterns)].filter((p) => record.subscriptions.includes(p));
    record.subscriptions = record.subscriptions.filter((p) => !removed.includes(p));
    if (removed.length > 0) record.listedAt = this.now();
    for (const pattern of removed) indexDelete(this.byPattern, pattern, connectionId);
    return removed;
  }

  async removeConnection(
    connectionId: string,
    beforeDelete?: (held: HeldStreams) => Promise<void>,
  ): Promise<void> {
    this.calls.push('removeConnection');
    const record = this.connections.get(connectionId);
    if (!record) return;
    await beforeDelete?.({
      ...(record.userId ? { userId: record.userId } : {}),
      patterns: [...record.subscriptions],
    });
    for (const pattern of record.subscriptions) indexDelete(this.byPattern, pattern, connectionId);
    if (record.userId) indexDelete(this.byUser, record.userId, connectionId);
    this.connections.delete(connectionId);
  }

  async audiencePage(
    source: AudienceSource,
    limit: number,
    cursor?: string,
    through?: string,
  ): Promise<AudiencePage> {
    this.calls.push('audiencePage');
    const index =
      source.kind === 'pattern' ? this.byPattern.get(source.pattern) : this.byUser.get(source.userId);
    checkAudienceLimit(limit);
    const after = cursor === undefined ? 0 : position(cursor);
    const last = through === undefined ? Number.POSITIVE_INFINITY : position(through);
    // The cursor is the position of the last row read, as DynamoDB's is its key: rows deleted
    // meanwhile (a pruned connection) move nothing, and no row after it is skipped. A row added
    // later takes a new position past every earlier one, so a read again `through` never finds it.
    const rest = [...(index?.rows ?? [])].filter(([, at]) => at > after && at <= last);
    const slice = rest.slice(0, limit);
    const members: AudienceMember[] = [];
    for (const [id] of slice) {
      const record = this.connections.get(id);
      if (!record) continue;
      members.push({
        connectionId: id,
        ...(record.userId ? { userId: record.userId } : {}),
        subscriptions: [...record.subscriptions],
        listedAt: record.listedAt,
        connectedAt: record.connectedAt,
      });
    }
    const end = slice[slice.length - 1];
    return end && rest.length > slice.length ? { members, cursor: String(end[1]) } : { members };
  }

  /** Number of rows the DynamoDB layout would hold for everything stored here (for leak checks). */
  rowCount(): number {
    let rows = 0;
    for (const record of this.connections.values()) {
      rows += 1 + 2 * record.subscriptions.length + (record.userId ? 1 : 0);
    }
    return rows;
  }

  private requireConnection(connectionId: string): HeldConnection {
    const record = this.connections.get(connectionId);
    if (!record) throw new FanoutError('internal', `connection ${connectionId} is not registered`);
    return record;
  }
}

/**
 * One source's rows: connection id → its position, positions growing with each row added (Map order
 * is position order). Kept when empty, so a position is never given twice.
 */
interface AudienceIndex {
  last: number;
  rows: Map<string, number>;
}

function indexAdd(index: Map<string, AudienceIndex>, key: string, id: string): void {
  const entry = index.get(key) ?? { last: 0, rows: new Map<string, number>() };
  if (!entry.rows.has(id)) {
    entry.last += 1;
    entry.rows.set(id, entry.last);
  }
  index.set(key, entry);
}

function indexDelete(index: Map<string, AudienceIndex>, key: string, id: string): void {
  index.get(key)?.rows.delete(id);
}

/** The row position a cursor names. */
function position(cursor: string): number {
  const at = Number(cursor);
  if (!Number.isInteger(at) || at < 0) throw new InvalidCursorError(`invalid audience cursor: ${cursor}`);
  return at;
}
