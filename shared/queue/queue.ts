import type { WorkMessage } from '../domain/envelope.js';

/**
 * WorkQueue: the fan-out queue seen from the fan-out engine, for the work it hands to other
 * invocations (page and retry messages) and for records it gives up on (the dead-letter queue).
 *
 * Guarantees: `send` and `deadLetter` resolve only when every message was accepted (partial batch
 * failures are retried, then thrown), so a caller that saw them resolve may acknowledge its input.
 * Delivery from the queue is at-least-once and unordered.
 */
export interface DeadLetter {
  /** The original message body, unchanged, so it can be redriven. */
  body: string;
  /** Why it was dead-lettered: a stable reason code such as `malformed` or `payload_too_large`. */
  reason: string;
  detail?: string;
}

/** How to send: a delay keeps a retry out of sight until a throttle or an outage may be over. */
export interface SendOptions {
  /** Seconds before the messages can be received: 0 to 900 (SQS `DelaySeconds`). Default 0. */
  delaySeconds?: number;
}

/** SQS's own bound on `DelaySeconds`. */
export const MAX_DELAY_SECONDS = 900;

export interface WorkQueue {
  send(messages: readonly WorkMessage[], options?: SendOptions): Promise<void>;
  deadLetter(letters: readonly DeadLetter[]): Promise<void>;
}
