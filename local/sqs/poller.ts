/**
 * Local SQS → Lambda event source mapping: polls a queue with the real `@aws-sdk/client-sqs` and invokes a
 * function with Lambda's SQS event, as the AWS event source mapping does (docs: "Using Lambda with Amazon SQS",
 * "Lambda parameters for Amazon SQS event source mappings", "Handling errors for an SQS event source";
 * shapes on the AWS pages "Using Lambda with Amazon SQS" and "Handling errors for an SQS event source in Lambda"):
 * - one receiver gathers a batch: a single ReceiveMessage when MaximumBatchingWindowInSeconds is 0 (the
 *   default: "invokes your function as soon as records are available"), otherwise receives until the batch is
 *   full (BatchSize), the window expires (counted from the first record), or the next record would take the
 *   event past the 6 MB invocation payload limit (that record then starts the next batch); an empty receive
 *   never invokes;
 * - at most `maximumConcurrency` batches are in flight (ScalingConfig.MaximumConcurrency, 2–1000); the
 *   receiver waits for a free slot before receiving more, so messages are not held invisible while queued;
 * - on success every record is deleted (DeleteMessageBatch) except those named in `batchItemFailures` when
 *   ReportBatchItemFailures is on; a malformed response fails the whole batch (see interpretBatchResponse);
 * - on an error or a timeout nothing is deleted: the messages reappear after the queue's visibility timeout,
 *   and after `maxReceiveCount` receives the queue's RedrivePolicy moves them to the DLQ. That move is the
 *   queue's job and fauxqs 1.9.2 does it (SqsQueue.dequeue: a message whose receive count would exceed
 *   maxReceiveCount is moved to deadLetterTargetArn on that receive attempt, as SQS does), so the poller
 *   deliberately does not.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** Lambda's synchronous invocation payload limit, which also caps an SQS batch ("payload limit of 6 MB"). */
const MAX_BATCH_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** `{"Records":[]}` */
const EVENT_ENVELOPE_BYTES = 14;
/** Long-poll wait per receive: short, so stop() returns within about a second. */
const RECEIVE_WAIT_SECONDS = 1;
/** Back-off after a failed ReceiveMessage (queue down, throttled). */
const RECEIVE_ERROR_BACKOFF_MS = 1000;
/** Extra time granted to `fn.invoke` beyond the function timeout before the batch is counted as failed. */
const INVOKE_GUARD_GRACE_MS = 1000;

/** `messageAttributes[name]` of an SQS record: lower camelCase, binary as base64 (reference Q2). */
export interface SqsEventMessageAttribute {
  stringValue?: string;
  binaryValue?: string;
  stringListValues: string[];
  binaryListValues: string[];
  dataType: string;
}

/** One record of Lambda's SQS event (reference Q1/Q2), keys in Lambda's order. */
export interface SqsEventRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, SqsEventMessageAttribute>;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

export interface SqsEvent {
  Records: SqsEventRecord[];
}

export type PollerLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type PollerLog = (level: PollerLogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  /** The queue's region (the records' `awsRegion`). */
  region: string;
  fn: { invoke(event: unknown): Promise<unknown> };
  /** BatchSize: 1–10000 (1–10 for FIFO); above 10 needs a batching window of at least 1 s. Default 10. */
  batchSize?: number;
  /** MaximumBatchingWindowInSeconds in ms: 0–300000; default 0. Not supported for FIFO queues. */
  maximumBatchingWindowMs?: number;
  /**
   * The function's timeout. CreateEventSourceMapping refuses a queue whose visibility timeout is shorter, and so
   * does startPoller; it also bounds how long a batch may wait on `fn.invoke` (plus 1 s) if fn has no timeout.
   */
  functionTimeoutMs: number;
  /** FunctionResponseTypes ["ReportBatchItemFailures"]; default true (what the project's Terraform sets). */
  reportBatchItemFailures?: boolean;
  /** ScalingConfig.MaximumConcurrency: concurrent batches, 2–1000; default 2. */
  maximumConcurrency?: number;
  /** Default: warn and error to stderr. */
  log?: PollerLog;
  /** Called with every non-empty ReceiveMessage result as it arrives: the latency benchmark's stage split. */
  onReceive?: (messages: readonly Message[]) => void;
}

export interface PollerStats {
  receives: number;
  receiveErrors: number;
  messagesReceived: number;
  batchesInvoked: number;
  batchesSucceeded: number;
  /** Invocation error, timeout or malformed batch response: nothing deleted. */
  batchesFailed: number;
  /** Records named in a valid batchItemFailures list. */
  itemFailures: number;
  messagesDeleted: number;
  deleteErrors: number;
  inFlightBatches: number;
  /** The most batches ever in flight at once: how many invocations ran in parallel. */
  maxInFlightBatches: number;
}

export interface Poller {
  /** Stops receiving (within about RECEIVE_WAIT_SECONDS), then waits for in-flight batches to finish. */
  stop(): Promise<void>;
  stats(): PollerStats;
  /** The batches it keeps in flight at most (ScalingConfig.MaximumConcurrency). */
  readonly maximumConcurrency: number;
}

/** How the event source mapping reads a function's response to a batch. */
export type BatchOutcome =
  | { kind: 'success' }
  | { kind: 'partial'; failedMessageIds: Set<string> }
  | { kind: 'invalid'; reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a response under ReportBatchItemFailures, per the AWS "Success and failure conditions" for SQS:
 * complete success for a null/empty response or a null/empty `batchItemFailures` list; complete failure for an
 * invalid JSON response (anything that is not an object here: the runner has already parsed the JSON), an
 * empty-string or null `itemIdentifier`, an item with a bad key name, or a message id not in the batch.
 */
export function interpretBatchResponse(response: unknown, messageIds: ReadonlySet<string>): BatchOutcome {
  if (response === null || response === undefined) return { kind: 'success' };
  if (!isRecord(response)) return { kind: 'invalid', reason: 'response is not a JSON object' };
  const failures = response.batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'invalid', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  const failedMessageIds = new Set<string>();
  for (const item of failures) {
    if (!isRecord(item)) return { kind: 'invalid', reason: 'batchItemFailures entry is not an object' };
    const id = item.itemIdentifier;
    if (typeof id !== 'string' || id === '') {
      return { kind: 'invalid', reason: 'itemIdentifier is missing, null or empty' };
    }
    if (!messageIds.has(id))
      return { kind: 'invalid', reason: `itemIdentifier ${id} is not a message of the batch` };
    failedMessageIds.add(id);
  }
  return { kind: 'partial', failedMessageIds };
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function toEventAttribute(value: MessageAttributeValue): SqsEventMessageAttribute {
  return {
    ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
    ...(value.BinaryValue === undefined ? {} : { binaryValue: base64(value.BinaryValue) }),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map(base64),
    dataType: value.DataType ?? 'String',
  };
}

/** The four attributes every Lambda SQS record carries, first and in this order (reference Q1). */
const LEADING_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
];

/** Builds one record of Lambda's SQS event from a ReceiveMessage result. */
export function toSqsEventRecord(message: Message, queueArn: string, region: string): SqsEventRecord {
  const received: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.Attributes ?? {})) {
    if (value !== undefined) received[name] = value;
  }
  const attributes: Record<string, string> = {};
  for (const name of LEADING_ATTRIBUTES) {
    const value = received[name];
    if (value !== undefined) attributes[name] = value;
  }
  for (const [name, value] of Object.entries(received)) {
    if (!(name in attributes)) attributes[name] = value;
  }
  const messageAttributes: Record<string, SqsEventMessageAttribute> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = toEventAttribute(value);
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes === undefined
      ? {}
      : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

const defaultLog: PollerLog = (level, message, fields) => {
  if (level === 'warn' || level === 'error') {
    process.stderr.write(`[sqs-poller] ${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  }
};

/** A record's share of the invocation payload: its JSON plus a separator. */
function recordBytes(record: SqsEventRecord): number {
  return Buffer.byteLength(JSON.stringify(record)) + 1;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

interface Gathered {
  records: SqsEventRecord[];
}

/**
 * Starts an event source mapping. Validates the configuration like CreateEventSourceMapping (including the
 * queue's visibility timeout against the function timeout), then polls until stop().
 */
export async function startPoller(options: PollerOptions): Promise<Poller> {
  const { sqs, queueUrl, queueArn, region, fn } = options;
  const batchSize = options.batchSize ?? 10;
  const windowMs = options.maximumBatchingWindowMs ?? 0;
  const maximumConcurrency = options.maximumConcurrency ?? 2;
  const reportBatchItemFailures = options.reportBatchItemFailures ?? true;
  const log = options.log ?? defaultLog;
  const fifo = queueUrl.endsWith('.fifo');

  checkInteger('batchSize', batchSize, 1, fifo ? 10 : 10_000);
  checkInteger('maximumBatchingWindowMs', windowMs, 0, 300_000);
  checkInteger('maximumConcurrency', maximumConcurrency, 2, 1000);
  if (fifo && windowMs > 0) throw new RangeError('Batching window is not supported for FIFO queues');
  if (batchSize > 10 && windowMs < 1000) {
    throw new RangeError('maximumBatchingWindowMs must be at least 1000 when batchSize is greater than 10');
  }

  const queue = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout'] }),
  );
  const visibilitySeconds = Number(queue.Attributes?.VisibilityTimeout ?? '30');
  const functionSeconds = options.functionTimeoutMs / 1000;
  if (visibilitySeconds < functionSeconds) {
    // Lambda's own refusal (InvalidParameterValueException) when the mapping is created.
    throw new Error(
      `Queue visibility timeout: ${visibilitySeconds} seconds is less than Function timeout: ${functionSeconds} seconds`,
    );
  }
  if (visibilitySeconds < 6 * functionSeconds) {
    log('warn', 'AWS recommends a queue visibility timeout of at least 6 times the function timeout', {
      visibilitySeconds,
      functionSeconds,
    });
  }
  const stats: PollerStats = {
    receives: 0,
    receiveErrors: 0,
    messagesReceived: 0,
    batchesInvoked: 0,
    batchesSucceeded: 0,
    batchesFailed: 0,
    itemFailures: 0,
    messagesDeleted: 0,
    deleteErrors: 0,
    inFlightBatches: 0,
    maxInFlightBatches: 0,
  };
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();

  /** Sleeps, waking early when stop() is called. Leaves no timer behind. */
  const pause = (ms: number): Promise<void> =>
    new Promise<void>((resolvePause) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', wake);
        resolvePause();
      };
      if (stopping.signal.aborted) return resolvePause();
      stopping.signal.addEventListener('abort', wake, { once: true });
      timer = setTimeout(wake, ms);
    });

  const receive = async (max: number, waitSeconds: number): Promise<Message[]> => {
    stats.receives += 1;
    const output = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = output.Messages ?? [];
    stats.messagesReceived += messages.length;
    if (messages.length > 0) options.onReceive?.(messages);
    return messages;
  };

  /**
   * Records received but cut from a batch because they would have taken it past the 6 MB payload limit; they
   * start the next batch (they are already invisible, so they must not wait for the visibility timeout).
   */
  const carried: SqsEventRecord[] = [];

  /** Gathers one batch; empty when stop() was called or nothing arrived within one long poll. */
  const gather = async (): Promise<Gathered> => {
    const records: SqsEventRecord[] = carried.splice(0);
    let bytes = EVENT_ENVELOPE_BYTES + records.reduce((sum, record) => sum + recordBytes(record), 0);
    let windowEnd = records.length > 0 ? Date.now() + windowMs : 0;
    while (!stopping.signal.aborted && records.length < batchSize) {
      const remainingMs = windowEnd - Date.now();
      // Wait for the first record with a long poll; inside the window, long-poll only while a whole second is
      // left (WaitTimeSeconds is in seconds), else short-poll and pause briefly.
      const waitSeconds = records.length === 0 || remainingMs >= 1000 ? RECEIVE_WAIT_SECONDS : 0;
      let messages: Message[];
      try {
        messages = await receive(Math.min(10, batchSize - records.length), waitSeconds);
      } catch (error) {
        // Keep what was gathered: dropping it would only hide those messages until their visibility timeout.
        if (records.length > 0) {
          log('warn', 'ReceiveMessage failed while gathering a batch; invoking with what was received', {
            error: errorText(error),
          });
          break;
        }
        throw error;
      }
      if (records.length === 0 && messages.length > 0) windowEnd = Date.now() + windowMs;
      for (const message of messages) {
        const record = toSqsEventRecord(message, queueArn, region);
        const size = recordBytes(record);
        if (carried.length > 0 || (records.length > 0 && bytes + size > MAX_BATCH_PAYLOAD_BYTES))
          carried.push(record);
        else {
          records.push(record);
          bytes += size;
        }
      }
      if (records.length === 0) return { records };
      if (carried.length > 0 || windowMs === 0 || Date.now() >= windowEnd) break;
      if (messages.length === 0 && waitSeconds === 0) await pause(Math.min(50, windowEnd - Date.now()));
    }
    return { records };
  };

  const deleteRecords = async (records: SqsEventRecord[]): Promise<void> => {
    for (let start = 0; start < records.length; start += 10) {
      const chunk = records.slice(start, start + 10);
      try {
        const output = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((record, index) => ({
              Id: `r${start + index}`,
              ReceiptHandle: record.receiptHandle,
            })),
          }),
        );
        const failed = output.Failed ?? [];
        stats.messagesDeleted += chunk.length - failed.length;
        if (failed.length > 0) {
          stats.deleteErrors += failed.length;
          log('warn', 'DeleteMessageBatch reported failed entries', { failed });
        }
      } catch (error) {
        stats.deleteErrors += chunk.length;
        log('error', 'DeleteMessageBatch failed; the messages will be received again', {
          error: errorText(error),
        });
      }
    }
  };

  /** Invokes with a guard in case `fn` enforces no timeout of its own; the guard timer is always cleared. */
  const invokeWithGuard = async (event: SqsEvent): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`function did not return within ${options.functionTimeoutMs} ms`)),
        options.functionTimeoutMs + INVOKE_GUARD_GRACE_MS,
      );
    });
    try {
      return await Promise.race([fn.invoke(event), guard]);
    } finally {
      clearTimeout(timer);
    }
  };

  const processBatch = async (records: SqsEventRecord[]): Promise<void> => {
    stats.batchesInvoked += 1;
    const messageIds = records.map((record) => record.messageId);
    let response: unknown;
    try {
      response = await invokeWithGuard({ Records: records });
    } catch (error) {
      stats.batchesFailed += 1;
      log('warn', 'invocation failed; the batch returns to the queue after its visibility timeout', {
        messageIds,
        error: errorText(error),
      });
      return;
    }
    let toDelete = records;
    if (reportBatchItemFailures) {
      const outcome = interpretBatchResponse(response, new Set(messageIds));
      if (outcome.kind === 'invalid') {
        stats.batchesFailed += 1;
        log('warn', `invalid batch response (${outcome.reason}); the whole batch counts as failed`, {
          messageIds,
        });
        return;
      }
      if (outcome.kind === 'partial') {
        stats.itemFailures += outcome.failedMessageIds.size;
        toDelete = records.filter((record) => !outcome.failedMessageIds.has(record.messageId));
      }
    }
    stats.batchesSucceeded += 1;
    if (toDelete.length > 0) await deleteRecords(toDelete);
    log('debug', 'batch done', { size: records.length, deleted: toDelete.length });
  };

  const run = async (): Promise<void> => {
    while (!stopping.signal.aborted || carried.length > 0) {
      if (inFlight.size >= maximumConcurrency) {
        await Promise.race(inFlight);
        continue;
      }
      let gathered: Gathered;
      try {
        gathered = await gather();
      } catch (error) {
        stats.receiveErrors += 1;
        log('warn', 'ReceiveMessage failed; backing off', { error: errorText(error) });
        await pause(RECEIVE_ERROR_BACKOFF_MS);
        continue;
      }
      if (gathered.records.length === 0) continue;
      const batch: Promise<void> = processBatch(gathered.records)
        .catch((error: unknown) => log('error', 'batch processing failed', { error: errorText(error) }))
        .finally(() => {
          inFlight.delete(batch);
          stats.inFlightBatches = inFlight.size;
        });
      inFlight.add(batch);
      stats.inFlightBatches = inFlight.size;
      stats.maxInFlightBatches = Math.max(stats.maxInFlightBatches, inFlight.size);
    }
    await Promise.allSettled([...inFlight]);
  };

  const running = run();
  return {
    stop: async () => {
      stopping.abort();
      await running;
    },
    stats: () => ({ ...stats }),
    maximumConcurrency,
  };
}
