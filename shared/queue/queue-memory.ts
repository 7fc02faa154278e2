import type { WorkMessage } from '../domain/envelope.js';
import type { DeadLetter, SendOptions, WorkQueue } from './queue.js';

/**
 * In-memory WorkQueue for unit tests. Messages go through JSON like they would through SQS, so a
 * test that drains `pending` back into the engine sees exactly what another invocation would.
 */
export class MemoryWorkQueue implements WorkQueue {
  /** Every message ever sent, in order. */
  readonly sent: WorkMessage[] = [];
  /** The delay each of `sent` was sent with, in seconds (0 when none). */
  readonly delays: number[] = [];
  /** Bodies sent but not yet taken, oldest first. */
  readonly pending: string[] = [];
  readonly deadLetters: DeadLetter[] = [];
  private failures = { send: 0, deadLetter: 0 };

  /** Makes the next `times` calls of `operation` throw, as an SQS outage would. */
  failNext(operation: 'send' | 'deadLetter', times = 1): this {
    this.failures[operation] += times;
    return this;
  }

  async send(messages: readonly WorkMessage[], options: SendOptions = {}): Promise<void> {
    this.maybeFail('send');
    for (const message of messages) {
      const body = JSON.stringify(message);
      this.sent.push(JSON.parse(body));
      this.delays.push(options.delaySeconds ?? 0);
      this.pending.push(body);
    }
  }

  async deadLetter(letters: readonly DeadLetter[]): Promise<void> {
    this.maybeFail('deadLetter');
    this.deadLetters.push(...letters.map((letter) => ({ ...letter })));
  }

  /** The oldest pending body, removed from the queue; undefined when empty. */
  take(): string | undefined {
    return this.pending.shift();
  }

  private maybeFail(operation: 'send' | 'deadLetter'): void {
    if (this.failures[operation] === 0) return;
    this.failures[operation]--;
    throw new Error(`MemoryWorkQueue: injected ${operation} failure`);
  }
}
