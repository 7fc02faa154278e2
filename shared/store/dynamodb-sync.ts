import {
  type ConnectionState,
  subItem,
  subKey,
  topicItem,
  topicKey,
  userItem,
  userKey,
} from './dynamodb-rows.js';
import { type ConnectionTable, deleteRequest } from './dynamodb-table.js';

/**
 * Keeping the index rows (TOPIC#, USER#, and the connection's SUB# rows) in step with META.
 *
 * META is the source of truth and changes only by a conditional update on its revision. Index rows
 * are copies written after it, each tagged with the revision it was derived from and written only
 * over an older one, so a slow writer never replaces a newer list. That alone cannot stop a slow
 * writer from re-creating a row a newer writer already deleted (the deleted row has no revision left
 * to compare with), nor from writing rows for a connection that was removed meanwhile. So every
 * writer re-reads META after its writes and, if it was overtaken, rewrites the rows it touched from
 * the newest state (or deletes them if the connection is gone). The writer whose check finds META
 * unchanged wrote last, from the newest state: the rows converge without transactions.
 *
 * Every step may be the last one (a Lambda dies, a call times out) and the caller may retry the
 * whole operation: a retry re-derives every row from META, whatever step the first try reached.
 * The rows in between are never a loss: a list may name only rows that exist, and a row whose list
 * is not yet trusted (`listedAt`, see dynamodb-rows.ts) is delivered through, not skipped.
 */

/** Index-row changes derived from one state of the connection, applied in this order. */
export interface SyncPlan {
  state: ConnectionState;
  /**
   * New patterns: their SUB and TOPIC rows are written first, so no list names a missing row. The
   * TOPIC rows are written untrusted, then trusted with the refreshed ones once all of them exist.
   */
  create: readonly string[];
  /** Held patterns whose TOPIC row only needs the new list. */
  refresh: readonly string[];
  /** Whether the USER row needs the new list (written with `refresh`). */
  refreshUser: boolean;
  /** Dropped patterns: deleted last, after every remaining row stopped listing them. */
  remove: readonly string[];
}

/** Re-checks of META after writing; past this, the writers still running converge the rows. */
const MAX_SYNC_ROUNDS = 5;

export async function syncIndex(table: ConnectionTable, first: SyncPlan): Promise<void> {
  const touched = [...new Set([...first.create, ...first.refresh, ...first.remove])];
  if (touched.length === 0 && !first.refreshUser) return;
  let plan = first;
  for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
    await writeIndexRows(table, plan);
    const latest = await table.readMeta(plan.state.connectionId);
    if (!latest) {
      await deleteLeftovers(table, plan.state, touched);
      return;
    }
    if (latest.rev === plan.state.rev) return;
    plan = {
      state: latest,
      create: touched.filter((p) => latest.subscriptions.includes(p)),
      refresh: [],
      refreshUser: true,
      remove: touched.filter((p) => !latest.subscriptions.includes(p)),
    };
  }
}

/**
 * Three phases, so that a reader never trusts a list naming a pattern whose row is missing (the
 * fan-out would skip the connection there, trusting the other source to deliver): create rows
 * (untrusted: a new row's list names the other new rows, which may not exist yet), then write every
 * list trusted, stamped after all the rows it names exist, then delete rows. A list may briefly omit
 * a pattern whose row still exists, which at worst delivers one event twice (delivery is
 * at-least-once; clients drop by id).
 */
async function writeIndexRows(
  table: ConnectionTable,
  { state, create, refresh, refreshUser, remove }: SyncPlan,
): Promise<void> {
  const id = state.connectionId;
  await table.run([
    ...create.map((p) => () => table.put(subItem(state, p))),
    ...create.map((p) => () => table.putIndexRow(topicItem(state, p), state.rev)),
  ]);
  const userId = refreshUser ? state.userId : undefined;
  const listedAt = table.now();
  const lists = [...new Set([...create, ...refresh])];
  await table.run([
    ...lists.map((p) => () => table.putIndexRow(topicItem(state, p, listedAt), state.rev)),
    ...(userId ? [() => table.putIndexRow(userItem(state, userId, listedAt), state.rev)] : []),
  ]);
  await table.run([
    ...remove.map((p) => () => table.deleteIndexRow(topicKey(p, id), state.rev)),
    ...remove.map((p) => () => table.delete(subKey(id, p))),
  ]);
}

/** The rows a subscribe/unsubscribe wrote for a connection that was removed while it ran. */
async function deleteLeftovers(
  table: ConnectionTable,
  state: ConnectionState,
  patterns: readonly string[],
): Promise<void> {
  const id = state.connectionId;
  const keys = patterns.flatMap((p) => [topicKey(p, id), subKey(id, p)]);
  if (state.userId) keys.push(userKey(state.userId, id));
  await table.batchWrite(keys.map(deleteRequest));
}
