/**
 * Delivery of matched events to rule targets, off the PutEvents request path as on AWS (PutEvents
 * answers once the event is accepted, not once targets have it).
 *
 * A failed send is never silent: every failure is logged and counted, and retried with jittered
 * exponential backoff. EventBridge retries for up to 24 hours (185 attempts by default) before it
 * drops the event or moves it to the rule's dead-letter queue; a local bus only needs a few attempts
 * to ride out a stand-in that is still starting.
 */
import { backoffDelay } from '@fanout/protocol';
import type { LogFn } from './log.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5000 };

export interface DeliveryJob {
  readonly eventId: string;
  readonly busName: string;
  readonly ruleName: string;
  /** Where the body goes, for logs and stats (the queue URL for SQS). */
  readonly target: string;
  readonly body: string;
  readonly send: (body: string) => Promise<void>;
}

export interface DeliveryFailure {
  readonly eventId: string;
  readonly ruleName: string;
  readonly target: string;
  readonly attempt: number;
  /** True when no further attempt will be made: the event is lost for this target. */
  readonly final: boolean;
  readonly error: string;
}

export interface DeliveryStats {
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly retried: number;
  readonly dropped: number;
  readonly pending: number;
  /** The most recent failures, oldest first. */
  readonly failures: readonly DeliveryFailure[];
}

const KEPT_FAILURES = 100;

export class Deliveries {
  private delivered = 0;
  private failedAttempts = 0;
  private retried = 0;
  private dropped = 0;
  private pending = 0;
  private readonly failures: DeliveryFailure[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly log: LogFn,
  ) {}

  dispatch(job: DeliveryJob): void {
    if (this.closed) return;
    this.pending++;
    void this.attempt(job, 1);
  }

  stats(): DeliveryStats {
    return {
      delivered: this.delivered,
      failedAttempts: this.failedAttempts,
      retried: this.retried,
      dropped: this.dropped,
      pending: this.pending,
      failures: [...this.failures],
    };
  }

  /** Resolves once every dispatched delivery has succeeded or been dropped. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels scheduled retries; the deliveries they were for count as dropped. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.dropped += this.timers.size;
    this.pending -= this.timers.size;
    this.timers.clear();
    this.settleIfIdle();
  }

  private async attempt(job: DeliveryJob, attempt: number): Promise<void> {
    try {
      await job.send(job.body);
      this.delivered++;
      this.log({
        level: 'debug',
        message: 'event delivered',
        eventId: job.eventId,
        rule: job.ruleName,
        attempt,
      });
      this.finish();
    } catch (error) {
      this.failed(job, attempt, error);
    }
  }

  private failed(job: DeliveryJob, attempt: number, error: unknown): void {
    this.failedAttempts++;
    const final = this.closed || attempt >= this.policy.maxAttempts;
    const failure: DeliveryFailure = {
      eventId: job.eventId,
      ruleName: job.ruleName,
      target: job.target,
      attempt,
      final,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
    this.failures.push(failure);
    if (this.failures.length > KEPT_FAILURES) this.failures.shift();
    this.log({
      level: final ? 'error' : 'warn',
      message: final
        ? 'event dropped: target delivery failed for good'
        : 'target delivery failed; will retry',
      bus: job.busName,
      ...failure,
    });
    if (final) {
      this.dropped++;
      this.finish();
      return;
    }
    this.retried++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(job, attempt + 1);
    }, this.backoff(attempt));
    this.timers.add(timer);
  }

  /**
   * The pause after failed attempt number `attempt` (from 1). Equal jitter: a stand-in that is still
   * starting needs a pause that really grows, and a few buses retrying at once still spread out.
   */
  private backoff(attempt: number): number {
    return Math.round(backoffDelay(attempt - 1, { ...this.policy, jitter: 'equal' }));
  }

  private finish(): void {
    this.pending--;
    this.settleIfIdle();
  }

  private settleIfIdle(): void {
    if (this.pending > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
