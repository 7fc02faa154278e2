import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { CommandError } from './errors.js';

/**
 * Reading a dead-letter queue without consuming it. SQS has no peek: a received message stays on the
 * queue, hidden from other receives for the visibility timeout, until it is deleted ("Amazon SQS
 * visibility timeout"); ChangeMessageVisibility with a timeout of 0 makes it visible again at once
 * (the ChangeMessageVisibility API reference). So letters are received with a short timeout and all
 * held until the command is done, then released: held letters are not received twice, so the scan
 * ends, and if the CLI dies before releasing them, SQS shows them again once the timeout passes.
 * Each receive counts: a letter's ApproximateReceiveCount goes up by one per list or show.
 */

/** How long a letter stays hidden while a command holds it. */
export const HOLD_SECONDS = 30;
/**
 * Long polling asks every SQS server, so an empty answer means no letter is visible; a short poll
 * samples some servers and may come back empty while letters wait ("Amazon SQS short and long
 * polling").
 */
const RECEIVE_WAIT_SECONDS = 1;
/** ReceiveMessage and ChangeMessageVisibilityBatch take at most 10. */
const MAX_BATCH = 10;

/** The attributes the fan-out function gives its dead letters (shared/queue/queue-sqs.ts writes them). */
export const REASON_ATTRIBUTE = 'fanout.reason';
export const DETAIL_ATTRIBUTE = 'fanout.detail';
/**
 * EventBridge's own attributes on the letters of a target's DLQ ("Using dead-letter queues to
 * process undelivered events in EventBridge"); the body is the event as the rule would have sent it.
 */
export const EVENTS_ERROR_CODE = 'ERROR_CODE';
export const EVENTS_ERROR_MESSAGE = 'ERROR_MESSAGE';

/** One message of a dead-letter queue, as received. */
export interface Letter {
  messageId: string;
  /** The newest receipt handle: the one SQS honours for a delete or a visibility change. */
  receiptHandle: string;
  body: string;
  sentAt: Date | undefined;
  receiveCount: number | undefined;
  /** Message attributes by name: string and number values as sent, binary ones as `<N bytes>`. */
  attributes: Record<string, string>;
}

/** What a scan of the queue found. */
export interface Scan {
  /** Every letter received, in the order first received. */
  letters: Letter[];
  /** True once a receive came back empty: no other letter was waiting. */
  complete: boolean;
}

export type QueueRole = 'dlq' | 'queue';

/**
 * A dead-letter queue and the letters this command holds on it. `release()` must run once the
 * command is done, whatever happened (a `finally`).
 */
export class DeadLetterQueue {
  private readonly held = new Map<string, Letter>();

  constructor(
    private readonly client: SQSClient,
    readonly url: string,
  ) {}

  /** Letters on the queue (visible, held and delayed), approximately; also proves the queue answers. */
  async count(): Promise<number> {
    return queueDepth(this.client, this.url, 'dlq');
  }

  /**
   * Receives letters until `enough` says so (given the letters received so far) or none is left to
   * receive, holding each (see above). At most `limit` letters are received.
   */
  async scan(limit: number, enough: (letters: readonly Letter[]) => boolean = () => false): Promise<Scan> {
    const letters: Letter[] = [];
    for (;;) {
      if (letters.length >= limit || enough(letters)) return { letters, complete: false };
      let messages: Message[];
      try {
        const output = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.url,
            MaxNumberOfMessages: Math.min(MAX_BATCH, limit - letters.length),
            VisibilityTimeout: HOLD_SECONDS,
            WaitTimeSeconds: RECEIVE_WAIT_SECONDS,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
          }),
        );
        messages = output.Messages ?? [];
      } catch (err) {
        throw sqsFailure(err, 'dlq', this.url);
      }
      if (messages.length === 0) return { letters, complete: true };
      for (const message of messages) {
        const letter = toLetter(message);
        if (!letter) continue;
        const known = this.held.get(letter.messageId);
        if (known) {
          // Received again: a long scan outlasted its hold. Only the newest handle works from now on.
          known.receiptHandle = letter.receiptHandle;
          known.receiveCount = letter.receiveCount;
          continue;
        }
        this.held.set(letter.messageId, letter);
        letters.push(letter);
      }
    }
  }

  /** Deletes a held letter (once it is safely on the fan-out queue). */
  async delete(letter: Letter): Promise<void> {
    await this.client.send(
      new DeleteMessageCommand({ QueueUrl: this.url, ReceiptHandle: letter.receiptHandle }),
    );
    this.held.delete(letter.messageId);
  }

  /**
   * Makes every held letter visible again. Resolves with how many could not be: those reappear by
   * themselves when their hold ends, so this never throws.
   */
  async release(): Promise<number> {
    const letters = [...this.held.values()];
    this.held.clear();
    let failed = 0;
    for (let start = 0; start < letters.length; start += MAX_BATCH) {
      const chunk = letters.slice(start, start + MAX_BATCH);
      try {
        const output = await this.client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.url,
            Entries: chunk.map((letter, i) => ({
              Id: `l${i}`,
              ReceiptHandle: letter.receiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        );
        // A letter whose hold already ended is visible again: nothing left to do for it.
        failed += (output.Failed ?? []).filter((entry) => entry.Code !== 'MessageNotInflight').length;
      } catch {
        failed += chunk.length;
      }
    }
    return failed;
  }
}

/** Sends a letter's body to the fan-out queue, as a new message. */
export async function sendToQueue(client: SQSClient, queueUrl: string, letter: Letter): Promise<void> {
  // Only the body: the fan-out function reads nothing else, and the DLQ's attributes (the reason,
  // EventBridge's error) describe the failure, not the message.
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: letter.body }));
}

/** Messages on a queue, approximately: visible, in flight and delayed. Maps failures to codes. */
export async function queueDepth(client: SQSClient, url: string, role: QueueRole): Promise<number> {
  try {
    const { Attributes = {} } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  } catch (err) {
    throw sqsFailure(err, role, url);
  }
}

const NOT_FOUND = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);

/** An SDK failure talking to a queue, as a CommandError with a stable code. */
export function sqsFailure(err: unknown, role: QueueRole, url: string): CommandError {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  const what = role === 'dlq' ? 'the dead-letter queue' : 'the fan-out queue';
  if (NOT_FOUND.has(name)) {
    return new CommandError(`${role}_not_found`, `${what} ${url} does not exist (${message})`);
  }
  if (name === 'CredentialsProviderError') {
    return new CommandError(
      'no_credentials',
      `no AWS credentials for ${url}: ${message} (set AWS_PROFILE or the AWS_* variables, or use the local platform)`,
    );
  }
  if (/region is missing/i.test(message)) {
    return new CommandError('no_region', `no AWS region for ${url}: pass --region or set AWS_REGION`);
  }
  if (hasHttpStatus(err)) {
    return new CommandError(
      `${role}_request_failed`,
      `${what} ${url} refused the request: ${name}: ${message}`,
    );
  }
  return new CommandError(`${role}_unreachable`, `cannot reach ${what} at ${url}: ${message}`);
}

/** A service answer (SQS refused), as opposed to no answer at all (network, endpoint down). */
function hasHttpStatus(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('$metadata' in err)) return false;
  const metadata = err.$metadata;
  return typeof metadata === 'object' && metadata !== null && 'httpStatusCode' in metadata
    ? typeof metadata.httpStatusCode === 'number'
    : false;
}

function toLetter(message: Message): Letter | undefined {
  if (!message.MessageId || !message.ReceiptHandle) return undefined;
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    attributes[name] =
      value.StringValue ?? (value.BinaryValue ? `<${value.BinaryValue.byteLength} bytes>` : '');
  }
  const sent = Number(message.Attributes?.SentTimestamp);
  const receives = Number(message.Attributes?.ApproximateReceiveCount);
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body ?? '',
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent) : undefined,
    receiveCount: Number.isFinite(receives) && receives > 0 ? receives : undefined,
    attributes,
  };
}
