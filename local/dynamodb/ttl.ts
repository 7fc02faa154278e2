/**
 * Time to Live for local DynamoDB. dynalite implements neither UpdateTimeToLive nor the expiry behind
 * it, so this sweeper stands in for DynamoDB's background TTL process on the table the local runtime
 * creates. It is a stand-in only: it scans the table, which the product never does (every read of the
 * store is a GetItem or a Query on one partition, shared/store), and it runs here because on AWS
 * DynamoDB itself deletes expired items.
 *
 * What it follows (Amazon DynamoDB API Reference, "UpdateTimeToLive"; Developer Guide, "Computing time
 * to live (TTL) in DynamoDB"):
 * - "If the epoch time value stored in the attribute is less than the current time, the item is marked
 *   as expired and subsequently deleted": an item expires strictly after its TTL second;
 * - the attribute holds epoch seconds as a Number: items whose attribute is missing or of another type
 *   are ignored, and so are items whose TTL is more than five years in the past;
 * - deletion is eventual ("typically within two days"): here every `intervalMs`.
 * Each delete is conditional on the item still being expired, so a row whose TTL was moved forward
 * between the scan and the delete is kept: the sweeper never deletes an item that has not expired.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';

/** DynamoDB's TTL process ignores items whose TTL is more than five years in the past. */
const FIVE_YEARS_SECONDS = 5 * 365 * 24 * 60 * 60;
/** Deletes sent at once. */
const DELETE_CONCURRENCY = 8;

export interface TtlSweeperOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The key attributes (a delete names the item by them) and the TTL attribute. */
  partitionKey: string;
  sortKey: string;
  ttlAttribute: string;
  /** Time between the end of one sweep and the start of the next; `false`: sweep only when asked. */
  intervalMs: number | false;
  /** The clock (ms since the epoch); tests move it. */
  now?: () => number;
  /** Called when a sweep fails (it is tried again after the interval). */
  onError?: (error: unknown) => void;
}

export interface TtlSweeper {
  /** Deletes every item expired by now; resolves with how many it deleted. */
  sweep(): Promise<number>;
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

export function startTtlSweeper(options: TtlSweeperOptions): TtlSweeper {
  const { client, tableName, partitionKey, sortKey, ttlAttribute, intervalMs } = options;
  if (intervalMs !== false && (!Number.isFinite(intervalMs) || intervalMs <= 0)) {
    throw new RangeError(`the TTL sweep interval must be a positive number of ms, got ${intervalMs}`);
  }
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  const names = { '#pk': partitionKey, '#sk': sortKey, '#ttl': ttlAttribute };

  const deleteIfExpired = async (
    key: Record<string, AttributeValue>,
    nowSeconds: number,
  ): Promise<boolean> => {
    try {
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: key,
          ConditionExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': ttlAttribute },
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false; // refreshed or already gone since the scan
      throw error;
    }
  };

  const sweepOnce = async (): Promise<number> => {
    const nowSeconds = Math.floor(now() / 1000);
    let deleted = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      // A Number comparison matches Number attributes only: items with a TTL of another type are left.
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          ConsistentRead: true,
          ProjectionExpression: '#pk, #sk',
          FilterExpression: '#ttl < :now AND #ttl >= :oldest',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':now': { N: String(nowSeconds) },
            ':oldest': { N: String(nowSeconds - FIVE_YEARS_SECONDS) },
          },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const keys = (page.Items ?? []).flatMap((item) => {
        const pk = item[partitionKey];
        const sk = item[sortKey];
        return pk && sk ? [{ [partitionKey]: pk, [sortKey]: sk }] : [];
      });
      for (let i = 0; i < keys.length; i += DELETE_CONCURRENCY) {
        const chunk = keys.slice(i, i + DELETE_CONCURRENCY);
        const results = await Promise.all(chunk.map((key) => deleteIfExpired(key, nowSeconds)));
        deleted += results.filter(Boolean).length;
      }
      start = page.LastEvaluatedKey;
    } while (start && !stopped);
    return deleted;
  };

  const sweep = (): Promise<number> => {
    // One sweep at a time: a second caller shares the one in progress.
    if (running === undefined) {
      running = sweepOnce().finally(() => {
        running = undefined;
      });
    }
    return running;
  };

  const schedule = (): void => {
    if (stopped || intervalMs === false) return;
    timer = setTimeout(() => {
      sweep()
        .catch((error: unknown) => options.onError?.(error))
        .finally(schedule);
    }, intervalMs);
    // The sweeper never keeps the process alive on its own.
    timer.unref();
  };
  schedule();

  return {
    sweep,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
