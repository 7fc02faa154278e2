import {
  type BatchResultErrorEntry,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { backoffDelay, sleep } from '@fanout/protocol';
import type { WorkMessage } from '../domain/envelope.js';
import { type DeadLetter, MAX_DELAY_SECONDS, type SendOptions, type WorkQueue } from './queue.js';

/** SendMessageBatch limits: 10 entries, and 256 KiB for the whole request's bodies and attributes. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 256 * 1024;

/** Attribute names a dead letter carries, so an operator can filter the DLQ without parsing bodies. */
export const REASON_ATTRIBUTE = 'fanout.reason';
export const DETAIL_ATTRIBUTE = 'fanout.detail';
/** SQS attribute values count toward the message size; a zod report can be long. */
const MAX_DETAIL_CHARS = 1_000;

export interface SqsWorkQueueOptions {
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** Calls per chunk before giving up on entries SQS keeps failing (default 4). */
  maxAttempts?: number;
  /** First backoff between those calls, doubled each time (default 50 ms). */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

type Entry = SendMessageBatchRequestEntry & { Id: string; MessageBody: string };

/**
 * WorkQueue over SQS. `send` and `deadLetter` resolve only once SQS accepted every entry: partial
 * batch failures (`Failed`) are retried with backoff, and what still fails is thrown, so the caller
 * does not acknowledge a record whose follow-up work was lost.
 */
export class SqsWorkQueue implements WorkQueue {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: SQSClient,
    private readonly options: SqsWorkQueueOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.sleep = options.sleep ?? sleep;
  }

  async send(messages: readonly WorkMessage[], options: SendOptions = {}): Promise<void> {
    const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(options.delaySeconds ?? 0)));
    const entries = messages.map((message, i) => ({
      Id: `m${i}`,
      MessageBody: JSON.stringify(message),
      ...(delay > 0 ? { DelaySeconds: delay } : {}),
    }));
    await this.sendAll(this.options.queueUrl, entries);
  }

  async deadLetter(letters: readonly DeadLetter[]): Promise<void> {
    const entries = letters.map((letter, i) => {
      const attributes: Record<string, MessageAttributeValue> = {
        [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: letter.reason },
      };
      if (letter.detail) {
        attributes[DETAIL_ATTRIBUTE] = {
          DataType: 'String',
          StringValue: letter.detail.slice(0, MAX_DETAIL_CHARS),
        };
      }
      return { Id: `d${i}`, MessageBody: letter.body, MessageAttributes: attributes };
    });
    await this.sendAll(this.options.deadLetterQueueUrl, entries);
  }

  private async sendAll(queueUrl: string, entries: readonly Entry[]): Promise<void> {
    await Promise.all(chunkEntries(entries).map((chunk) => this.sendChunk(queueUrl, chunk)));
  }

  private async sendChunk(queueUrl: string, chunk: readonly Entry[]): Promise<void> {
    let pending = chunk;
    let failures: BatchResultErrorEntry[] = [];
    for (let attempt = 0; attempt < this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) await this.sleep(this.pause(attempt - 1));
      const output = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [...pending] }),
      );
      failures = output.Failed ?? [];
      // A sender fault (bad attribute, body too large) fails the same way every time.
      const permanent = failures.filter((f) => f.SenderFault);
      if (permanent.length > 0) throw batchError(queueUrl, permanent, attempt + 1);
      const failedIds = new Set(failures.map((f) => f.Id));
      pending = pending.filter((entry) => failedIds.has(entry.Id));
    }
    if (pending.length > 0) throw batchError(queueUrl, failures, this.maxAttempts);
  }

  /**
   * Plain doubling, no jitter: one sender retries its own chunk, nothing to spread out. No cap either:
   * maxAttempts bounds the pauses (50 + 100 + 200 ms by default).
   */
  private pause(retry: number): number {
    return backoffDelay(retry, {
      baseDelayMs: this.baseDelayMs,
      maxDelayMs: Number.POSITIVE_INFINITY,
      jitter: 'none',
    });
  }
}

/** Splits entries into SendMessageBatch calls that respect both the count and the size limit. */
export function chunkEntries<T extends Entry>(entries: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The size SQS charges a message: body plus each attribute's name, type and value. */
export function entrySize(entry: Entry): number {
  let size = Buffer.byteLength(entry.MessageBody);
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    size += Buffer.byteLength(value.StringValue ?? '') + (value.BinaryValue?.byteLength ?? 0);
  }
  return size;
}

function batchError(queueUrl: string, failures: readonly BatchResultErrorEntry[], attempts: number): Error {
  const reasons = failures.map((f) => `${f.Id}: ${f.Code}${f.Message ? ` (${f.Message})` : ''}`).join('; ');
  return new Error(
    `SendMessageBatch to ${queueUrl}: ${failures.length} entries still failing after ${attempts} attempt(s): ${reasons}`,
  );
}
