import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AudienceSource } from '../domain/audience.js';
import { FanoutError } from '../domain/errors.js';
import { DEFAULT_RETRY, type RetryPolicy } from './dynamodb-batch.js';
import {
  type ConnectionState,
  connectionPartition,
  decodeCursor,
  encodeCursor,
  type Item,
  isMetaKey,
  type Key,
  metaItem,
  parseMember,
  parseMeta,
  patternOfSubKey,
  sourcePartition,
  subscriptionFields,
  topicKey,
  userItem,
  userKey,
} from './dynamodb-rows.js';
import { syncIndex } from './dynamodb-sync.js';
import { ConnectionTable, deleteRequest, putRequest } from './dynamodb-table.js';
import {
  type AudiencePage,
  type ConnectionStore,
  checkAudienceLimit,
  type HeldStreams,
  type NewConnection,
  type SubscribeResult,
  type WriteOptions,
} from './store.js';

export interface DynamoDbStoreOptions {
  /** Single-item writes (and BatchWrite chunks) in flight at once per call. Default 16. */
  concurrency?: number;
  /** Backoff for UnprocessedItems and revision conflicts (tests inject `sleep`). */
  retry?: Partial<RetryPolicy>;
  /** The clock that stamps index rows' lists (default Date.now). */
  now?: () => number;
}

/** Optimistic META updates before giving up with `internal`, for a call without a deadline. */
const MAX_REVISION_ATTEMPTS = 5;
/** Backoff stops growing here (25 ms × 2^5 = 800 ms): a deadline, not the step, ends the retries. */
const MAX_BACKOFF_STEP = 5;

/**
 * ConnectionStore on one DynamoDB table: rows in dynamodb-rows.ts, how index rows follow the
 * connection's META row in dynamodb-sync.ts, guarantees in store.ts.
 */
export class DynamoDbConnectionStore implements ConnectionStore {
  private readonly table: ConnectionTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.table = new ConnectionTable(client, tableName, {
      concurrency: Math.max(1, options.concurrency ?? 16),
      retry: { ...DEFAULT_RETRY, ...options.retry },
      now: options.now ?? Date.now,
    });
  }

  async registerConnection(connection: NewConnection): Promise<void> {
    const meta = metaItem(connection);
    const state = parseMeta(connection.connectionId, meta);
    const rows = [meta, ...(connection.userId ? [userItem(state, connection.userId)] : [])];
    await this.table.batchWrite(rows.map(putRequest));
  }

  async subscribe(
    connectionId: string,
    patterns: readonly string[],
    maxSubscriptions: number,
    options: WriteOptions = {},
  ): Promise<SubscribeResult> {
    const requested = [...new Set(patterns)];
    const { after } = await this.changeSubscriptions(connectionId, options, (held) => {
      const added = requested.filter((p) => !held.includes(p));
      if (held.length + added.length > maxSubscriptions) {
        throw new FanoutError(
          'too_many_subscriptions',
          `a connection may hold at most ${maxSubscriptions} subscriptions (has ${held.length}, asked for ${added.length} more)`,
          { limit: maxSubscriptions },
        );
      }
      return [...held, ...added];
    });
    await syncIndex(this.table, {
      state: after,
      // Every held pattern, not only the new ones: an earlier call may have put a pattern in META and
      // stopped before creating its rows (and not been retried yet), and a list that names a missing
      // row, once trusted, makes the fan-out skip the connection there. This also makes the retry of
      // a stopped subscribe rewrite every row from META. Conditional puts make rows already right a no-op.
      create: after.subscriptions,
      refresh: after.subscriptions,
      refreshUser: true,
      remove: [],
    });
    return { subscriptions: requested, total: after.subscriptions.length };
  }

  async unsubscribe(
    connectionId: string,
    patterns: readonly string[],
    options: WriteOptions = {},
  ): Promise<string[]> {
    const requested = [...new Set(patterns)];
    const { before, after } = await this.changeSubscriptions(connectionId, options, (held) =>
      held.filter((p) => !requested.includes(p)),
    );
    await syncIndex(this.table, {
      state: after,
      // The lists must stop naming the dropped patterns before their rows go, and may only name rows
      // that exist (an earlier subscribe may have stopped before creating them; this call may be the
      // retry of one that stopped after its META update): every held pattern's rows are written from
      // META first (a no-op for rows already right), then the requested rows are deleted.
      create: after.subscriptions,
      refresh: after.subscriptions,
      refreshUser: true,
      remove: requested,
    });
    return requested.filter((p) => before.subscriptions.includes(p));
  }

  async removeConnection(
    connectionId: string,
    beforeDelete?: (held: HeldStreams) => Promise<void>,
  ): Promise<void> {
    const first = await this.connectionRows(connectionId);
    if (first.own.length > 0) {
      await beforeDelete?.({ ...(first.userId ? { userId: first.userId } : {}), patterns: first.patterns });
    }
    await this.deleteConnectionRows(connectionId, first);
    // A subscribe racing this call may have written rows after the read above and found META still
    // there when it checked, so it left them (store.ts: it only repairs when META is gone). Its writes
    // come before that check, and the check before META's deletion: a read after the deletion sees
    // every such row. A write after that read finds META gone and deletes its own rows.
    const rest = await this.connectionRows(connectionId);
    if (rest.own.length === 0) return;
    await this.deleteConnectionRows(connectionId, {
      ...rest,
      userId: rest.userId ?? first.userId,
    });
  }

  /** The rows of a connection's own partition, with the patterns and the user they name. */
  private async connectionRows(
    connectionId: string,
  ): Promise<{ own: Key[]; patterns: string[]; userId: string | undefined }> {
    const partition = connectionPartition(connectionId);
    const own: Key[] = [];
    const patterns = new Set<string>();
    let userId: string | undefined;
    let startKey: Item | undefined;
    do {
      const page = await this.table.queryPage(partition, { startKey, consistent: true });
      for (const item of page.items) {
        if (typeof item.sk !== 'string') continue;
        own.push({ pk: partition, sk: item.sk });
        const pattern = patternOfSubKey(item.sk);
        if (pattern !== undefined) patterns.add(pattern);
        if (isMetaKey(item.sk)) {
          const fields = subscriptionFields(item);
          userId = fields.userId;
          // META and SUB# rows can disagree for a moment while a subscribe is writing: take both.
          for (const p of fields.subscriptions) patterns.add(p);
        }
      }
      startKey = page.lastEvaluatedKey;
    } while (startKey);
    return { own, patterns: [...patterns], userId };
  }

  /** Index rows first: if that fails part-way, the connection's own rows still name them for a retry. */
  private async deleteConnectionRows(
    connectionId: string,
    rows: { own: readonly Key[]; patterns: readonly string[]; userId: string | undefined },
  ): Promise<void> {
    const indexRows = rows.patterns.map((p) => topicKey(p, connectionId));
    if (rows.userId) indexRows.push(userKey(rows.userId, connectionId));
    await this.table.batchWrite(indexRows.map(deleteRequest));
    await this.table.batchWrite(rows.own.map(deleteRequest));
  }

  async audiencePage(
    source: AudienceSource,
    limit: number,
    cursor?: string,
    through?: string,
  ): Promise<AudiencePage> {
    checkAudienceLimit(limit);
    const partition = sourcePartition(source);
    // Strongly consistent: a subscription acknowledged before an event was published must be in its
    // audience. Reads cost twice an eventually consistent one, still far below the posts they feed.
    // One row more than asked for: a full page whose partition ends there then carries no cursor.
    // DynamoDB's LastEvaluatedKey would name it anyway, and the page message it starts would find nobody.
    const page = await this.table.queryPage(partition, {
      limit: limit + 1,
      startKey: cursor === undefined ? undefined : decodeCursor(cursor, partition),
      // Sort keys compare as DynamoDB orders them, so a row written since within the range is read.
      ...(through === undefined ? {} : { throughSk: decodeCursor(through, partition).sk }),
      consistent: true,
    });
    const items = page.items.slice(0, limit);
    const members = items.map(parseMember);
    const last = items[items.length - 1];
    if (page.items.length > limit && last) {
      // The rows are projected without their partition key: it is the one queried.
      return { members, cursor: encodeCursor({ pk: partition, sk: last.sk }) };
    }
    // Fewer rows than asked for and a key still: the 1 MB limit of a Query cut the page short.
    return page.lastEvaluatedKey ? { members, cursor: encodeCursor(page.lastEvaluatedKey) } : { members };
  }

  /**
   * Applies `change` to META's subscription list with optimistic concurrency: the update lands only
   * if the revision is still the one read, otherwise it re-reads (after a jittered pause, so
   * colliding writers spread out) and tries again, until the caller's deadline, or
   * MAX_REVISION_ATTEMPTS times without one. `change` may throw (the limit check), and then nothing
   * is written. An unchanged list is not written at all.
   */
  private async changeSubscriptions(
    connectionId: string,
    { deadline }: WriteOptions,
    change: (held: readonly string[]) => string[],
  ): Promise<{ before: ConnectionState; after: ConnectionState }> {
    let attempt = 0;
    for (;;) {
      const before = await this.table.readMeta(connectionId);
      if (!before) throw new FanoutError('internal', `connection ${connectionId} is not registered`);
      const subscriptions = change(before.subscriptions);
      if (sameList(subscriptions, before.subscriptions)) return { before, after: before };
      const after = { ...before, subscriptions, rev: before.rev + 1 };
      if (await this.table.updateSubscriptions(before, after)) return { before, after };
      attempt += 1;
      const outOfTime =
        deadline === undefined ? attempt >= MAX_REVISION_ATTEMPTS : this.table.now() >= deadline;
      if (outOfTime) break;
      await this.table.conflictBackoff(Math.min(attempt - 1, MAX_BACKOFF_STEP));
    }
    throw new FanoutError(
      'internal',
      `connection ${connectionId} kept changing concurrently (${attempt} attempts); nothing was changed, try again`,
    );
  }
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((value, i) => value === b[i]);
