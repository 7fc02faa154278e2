import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { backoffDelay } from '@fanout/protocol';
import { forEachBounded } from '../concurrency.js';
import {
  batchWriteAll,
  isConditionalCheckFailed,
  type RetryPolicy,
  type WriteRequest,
} from './dynamodb-batch.js';
import { readingRowsDirectly } from './dynamodb-query.js';
import { type ConnectionState, type Item, type Key, metaKey, parseMeta } from './dynamodb-rows.js';

/** Names for every attribute used in expressions: keeps clear of DynamoDB's reserved words. */
const NAMES = {
  '#pk': 'pk',
  '#sk': 'sk',
  '#userId': 'userId',
  '#subscriptions': 'subscriptions',
  '#rev': 'rev',
  '#listedAt': 'listedAt',
  '#connectedAt': 'connectedAt',
};

export interface QueryPage {
  items: Item[];
  lastEvaluatedKey?: Item;
}

/**
 * The DynamoDB calls the store makes, one method per kind of request, so the store reads as row
 * logic. Nothing here scans: every read is a GetItem or a Query on one partition.
 */
export class ConnectionTable {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { concurrency: number; retry: RetryPolicy; now: () => number },
  ) {}

  /** The connection's META row, read consistently (it decides revisions and limits). */
  async readMeta(connectionId: string): Promise<ConnectionState | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: metaKey(connectionId), ConsistentRead: true }),
    );
    return result.Item ? parseMeta(connectionId, result.Item) : undefined;
  }

  /**
   * Sets META's subscription list to `next`'s if META is still at `before.rev`. Returns false when
   * another writer (or a removal) got there first.
   */
  async updateSubscriptions(before: ConnectionState, next: ConnectionState): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: metaKey(before.connectionId),
          UpdateExpression: 'SET #subscriptions = :subscriptions, #rev = :next',
          ConditionExpression: '#rev = :expected',
          ExpressionAttributeNames: { '#subscriptions': NAMES['#subscriptions'], '#rev': NAMES['#rev'] },
          ExpressionAttributeValues: {
            ':subscriptions': next.subscriptions,
            ':next': next.rev,
            ':expected': before.rev,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** One page of a partition, projected to the attributes audience members and clean-up need. */
  async queryPage(
    partition: string,
    page: { limit?: number; startKey?: Item | undefined; consistent?: boolean; throughSk?: string },
  ): Promise<QueryPage> {
    const result = await this.client.send(
      readingRowsDirectly(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression:
            page.throughSk === undefined ? '#pk = :pk' : '#pk = :pk AND #sk <= :through',
          ProjectionExpression: '#sk, #userId, #subscriptions, #listedAt, #connectedAt',
          ExpressionAttributeNames: {
            '#pk': NAMES['#pk'],
            '#sk': NAMES['#sk'],
            '#userId': NAMES['#userId'],
            '#subscriptions': NAMES['#subscriptions'],
            '#listedAt': NAMES['#listedAt'],
            '#connectedAt': NAMES['#connectedAt'],
          },
          ExpressionAttributeValues: {
            ':pk': partition,
            ...(page.throughSk === undefined ? {} : { ':through': page.throughSk }),
          },
          ...(page.limit !== undefined ? { Limit: page.limit } : {}),
          ...(page.startKey ? { ExclusiveStartKey: page.startKey } : {}),
          ...(page.consistent ? { ConsistentRead: true } : {}),
        }),
      ),
    );
    return {
      items: result.Items ?? [],
      ...(result.LastEvaluatedKey ? { lastEvaluatedKey: result.LastEvaluatedKey } : {}),
    };
  }

  async put(item: Item): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async delete(key: Key): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: key }));
  }

  /**
   * Writes an index row unless it already holds `rev` or newer (then a newer writer owns it). A row
   * with a trusted list (`listedAt`) also replaces an untrusted one of the same revision: that is
   * the second half of creating a row (dynamodb-sync.ts).
   */
  async putIndexRow(item: Item, rev: number): Promise<void> {
    const trusted = item.listedAt !== undefined;
    await ignoringStale(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: trusted
            ? 'attribute_not_exists(#rev) OR #rev < :rev OR (#rev = :rev AND attribute_not_exists(#listedAt))'
            : 'attribute_not_exists(#rev) OR #rev < :rev',
          ExpressionAttributeNames: trusted
            ? { '#rev': NAMES['#rev'], '#listedAt': NAMES['#listedAt'] }
            : { '#rev': NAMES['#rev'] },
          ExpressionAttributeValues: { ':rev': rev },
        }),
      ),
    );
  }

  /** Deletes an index row unless a newer revision re-wrote it (a re-subscribe that overtook us). */
  async deleteIndexRow(key: Key, rev: number): Promise<void> {
    await ignoringStale(
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: 'attribute_not_exists(#rev) OR #rev <= :rev',
          ExpressionAttributeNames: { '#rev': NAMES['#rev'] },
          ExpressionAttributeValues: { ':rev': rev },
        }),
      ),
    );
  }

  /** Puts and deletes without conditions, 25 per BatchWriteItem, unprocessed ones retried. */
  async batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    await batchWriteAll(this.client, this.tableName, requests, this.options);
  }

  /** Runs single-item calls with the store's bounded parallelism (BatchWrite cannot take conditions). */
  async run(tasks: readonly (() => Promise<void>)[]): Promise<void> {
    await forEachBounded(tasks, this.options.concurrency, (task) => task());
  }

  /** Waits before retry number `attempt` (0-based) of a conflicting write. */
  /** The clock that stamps trusted lists (`listedAt`). */
  now(): number {
    return this.options.now();
  }

  async backoff(attempt: number): Promise<void> {
    await this.options.retry.sleep(backoffDelay(attempt, this.options.retry));
  }

  /**
   * Waits before retry number `attempt` of a META update that lost to a concurrent writer. Full
   * jitter, unlike `backoff`: with dozens of writers on one connection, the widest spread lets one
   * win per round instead of all colliding again.
   */
  async conflictBackoff(attempt: number): Promise<void> {
    await this.options.retry.sleep(backoffDelay(attempt, { ...this.options.retry, jitter: 'full' }));
  }
}

export const putRequest = (item: Item): WriteRequest => ({ PutRequest: { Item: item } });
export const deleteRequest = (key: Key): WriteRequest => ({ DeleteRequest: { Key: key } });

/** A conditional index write that lost to a newer revision is the intended outcome, not an error. */
async function ignoringStale(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}
