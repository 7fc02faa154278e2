import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { type BackoffPolicy, backoffDelay, sleep } from '@fanout/protocol';
import { forEachBounded } from '../concurrency.js';

/** BatchWriteItem takes at most 25 requests per call. */
export const BATCH_WRITE_LIMIT = 25;
/** BatchGetItem takes at most 100 keys per call. */
export const BATCH_GET_LIMIT = 100;

export type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/** Backoff for retried DynamoDB calls. `sleep` is injectable so tests do not wait for real time. */
export interface RetryPolicy extends Required<BackoffPolicy> {
  /** Calls in all, the first included. */
  attempts: number;
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 8,
  baseDelayMs: 25,
  maxDelayMs: 1000,
  // Equal jitter: half the pause is fixed so retries always back off, half is random so writers that
  // collided once (on a revision, or on a throttled partition) do not collide again in lock step.
  jitter: 'equal',
  sleep,
};

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Sends `requests` with BatchWriteItem in chunks of 25, retrying each chunk's UnprocessedItems with
 * backoff (DynamoDB returns them under throttling instead of failing the call). Throws when some
 * remain after the policy's attempts, naming how many, so callers never assume a partial delete
 * succeeded.
 */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  options: { retry: RetryPolicy; concurrency: number },
): Promise<void> {
  const { retry } = options;
  await forEachBounded(chunk(requests, BATCH_WRITE_LIMIT), options.concurrency, async (batch) => {
    let pending: WriteRequest[] = batch;
    for (let attempt = 0; ; attempt++) {
      const result = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = result.UnprocessedItems?.[tableName] ?? [];
      if (pending.length === 0) return;
      if (attempt + 1 >= retry.attempts) {
        throw new Error(
          `BatchWriteItem on ${tableName}: ${pending.length} of ${batch.length} writes still unprocessed after ${retry.attempts} attempts`,
        );
      }
      await retry.sleep(backoffDelay(attempt, retry));
    }
  });
}

/**
 * Reads `keys` with BatchGetItem in chunks of 100, strongly consistent, retrying each chunk's
 * UnprocessedKeys with backoff; throws when some remain after the policy's attempts. Items not
 * found are simply absent from the result.
 */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  options: { retry: RetryPolicy; concurrency: number },
): Promise<Record<string, unknown>[]> {
  const { retry } = options;
  const items: Record<string, unknown>[] = [];
  await forEachBounded(chunk(keys, BATCH_GET_LIMIT), options.concurrency, async (batch) => {
    let pending: Record<string, unknown>[] = batch;
    for (let attempt = 0; ; attempt++) {
      const result = await client.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(result.Responses?.[tableName] ?? []));
      pending = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
      if (pending.length === 0) return;
      if (attempt + 1 >= retry.attempts) {
        throw new Error(
          `BatchGetItem on ${tableName}: ${pending.length} of ${batch.length} keys still unprocessed after ${retry.attempts} attempts`,
        );
      }
      await retry.sleep(backoffDelay(attempt, retry));
    }
  });
  return items;
}

/** DynamoDB's "condition not met" error, by name: the class differs between SDK copies and mocks. */
export const isConditionalCheckFailed = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  'name' in error &&
  error.name === 'ConditionalCheckFailedException';
