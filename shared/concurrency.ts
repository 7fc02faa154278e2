/**
 * Bounded concurrency, the one module for it: the fan-out engine's posts and the DynamoDB store's
 * writes both go through here. Two shapes, because the bounds differ in scope:
 *
 * - `Limiter` bounds work that comes from many callers at once (every record of a batch shares the
 *   engine's sockets and the account's API Gateway rate), so it is a semaphore callers queue on.
 * - `forEachBounded` bounds one caller's list with a pool of workers pulling from it, so a list of
 *   thousands never turns into thousands of pending promises, and it can stop early.
 */

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in FIFO order. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // Hand the slot straight to the next waiter, so `running` never dips below what is really running.
    if (next) next();
    else this.running--;
  }
}

export interface BoundedOptions {
  /**
   * Asked before each item is started: once it returns true no new task starts. The tasks in flight
   * still finish (the caller decided to stop; they did not fail).
   */
  stop?: () => boolean;
}

/**
 * Runs `task` for every item with at most `limit` in flight, by `limit` workers pulling from the
 * list. After a failure no new task starts; the ones in flight are awaited (so nothing keeps writing
 * after we report) and the first error is thrown.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
  options: BoundedOptions = {},
): Promise<void> {
  // One iterator shared by every worker: each item is taken exactly once.
  const queue = items.values();
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    for (const item of queue) {
      if (failure || options.stop?.()) return;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure) throw failure.error;
}

export interface PacerOptions {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Posts per second the account lets through, learnt from its throttling answers (multiplicative
 * decrease on a throttle, growth with every success, as TCP does with its window). Unpaced until the first throttled answer:
 * API Gateway's `@connections` limits are per account and unknown to the function, so the only way to
 * deliver at the limit rather than far under it (retries after SQS delays) or far over it (every post
 * answered 429) is to measure what it admits. After a throttle, posts start at most `rate` a second,
 * `rate` being a little under what was admitted just before; each success raises it a little, each
 * throttle (at most one per `DECREASE_EVERY_MS`, as a burst of 429s is one signal) lowers it. A quiet
 * spell without throttles (`QUIET_MS`) lifts the pacing and forgets the window.
 *
 * What was admitted is read from every answer of the last `WINDOW_MS`, throttled ones included, and
 * only when there are at least `MIN_ANSWERS` of them: a few posts (a retry record of two connections)
 * are answered at the pace of their own demand, and read as a rate they would teach the pacer that
 * the account admits two posts a second. A throttle among them leaves the rate where it was; each
 * post's own backoff deals with it.
 */
export class Pacer {
  private rate = Number.POSITIVE_INFINITY;
  /** When the next paced post may start (epoch ms). */
  private next = 0;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  private lastThrottle = Number.NEGATIVE_INFINITY;
  /** Recent answers (throttled or not), oldest first, within WINDOW_MS. */
  private readonly answers: { at: number; throttled: boolean }[] = [];
  /** Answers since the rate was last lowered: the share of them throttled tells what the cut did. */
  private sinceCut = { succeeded: 0, throttled: 0 };
  /** The throttled share of the answers before the last cut. */
  private shareBeforeCut: number | undefined;
  /** The pace when the rate was last cut, before the cut (Infinity: it was not pacing). */
  private rateAtCut = Number.POSITIVE_INFINITY;

  static readonly WINDOW_MS = 1_000;
  static readonly DECREASE_EVERY_MS = 200;
  /** Share of the admitted rate to pace at after a throttle: a little under, so the bucket refills. */
  static readonly BACK_OFF = 0.9;
  /**
   * A success adds GROWTH posts a second to the rate, so without a throttle the rate grows by a share
   * of itself each second (multiplicative, as TCP's slow start): the pacer may be one of several
   * parallel invocations sharing the account's rate, and when the others finish it must take their
   * share within a second or two, not creep up to it at a few posts a second per second.
   */
  static readonly GROWTH = 1;
  /**
   * The lowest pace, posts a second. Windows of fewer than MIN_ANSWERS answers are not read, but a
   * window of a few more can still measure their demand rather than the account's capacity (a dozen
   * posts spread over the second, one of them throttled, read as a dozen a second; so does a fault
   * throttling a fixed share of posts until the next cut shows it), and carried into a larger record
   * that rate would push its slots past the deadline. API Gateway's account limits are thousands a
   * second; below this floor throttles are left to each post's backoff.
   */
  static readonly MIN_RATE = 50;
  /** A throttled share within this fraction of the one before the cut is "the same": pacing is lifted. */
  static readonly SAME_SHARE = 0.1;
  /**
   * The shortest time a rate is read over. Short, because the two ways to misread a burst cost
   * differently. Read over too long a time, the few answers of a burst read as a rate far under what
   * was admitted: when parallel invocations lift their pacing together (QUIET_MS) and burst into an
   * empty bucket, ten answers in 5 ms, four of them admitted, read over 100 ms as 40 a second, and
   * every one of them sank to the floor and left the account's capacity idle until the next quiet
   * lift (the pipeline throttled at 1,000 calls a second, four invocations in parallel, lost up to
   * 14 % of the rate that way). Read over too short a time, a burst reads as a rate above the
   * account's, which only paces loosely until the next cut, DECREASE_EVERY_MS later, reads a longer
   * window.
   */
  static readonly MIN_SPAN_MS = 20;
  /** Answers (in the window, or between two cuts) below which their rate or throttled share says nothing. */
  static readonly MIN_ANSWERS = 10;
  /**
   * Without a throttle for this long, posts are not paced any more. Short: at the account's limit the
   * rate is cut every DECREASE_EVERY_MS or so, so 0.3 s without a throttle means the demand
   * fell (other invocations finished) and pacing now only holds posts back.
   */
  static readonly QUIET_MS = 300;

  constructor(private readonly options: PacerOptions) {}

  /** Posts a second it paces at now; Infinity when not pacing. */
  currentRate(): number {
    return this.rate;
  }

  /** Whether posts are paced now (a throttle was read and no quiet spell has lifted it since). */
  isPacing(): boolean {
    return this.rate !== Number.POSITIVE_INFINITY;
  }

  /**
   * Waits for this post's slot (no wait while unpaced) and resolves true; resolves false at once,
   * taking no slot, when the slot would come at or after `deadline`: at a low learnt rate the queue of
   * slots can reach past the function's remaining time, and a post waiting there would be lost to the
   * timeout instead of handed over.
   */
  async acquire(deadline = Number.POSITIVE_INFINITY): Promise<boolean> {
    const now = this.options.now();
    if (this.isPacing() && now - this.lastThrottle > Pacer.QUIET_MS) {
      this.lift();
    }
    if (!this.isPacing()) return true;
    const at = Math.max(now, this.next);
    if (at >= deadline) return false;
    this.next = at + 1000 / this.rate;
    if (at > now) await this.options.sleep(at - now);
    return true;
  }

  succeeded(): void {
    this.answered(this.options.now(), false);
    this.sinceCut.succeeded += 1;
    if (this.isPacing()) this.rate += Pacer.GROWTH;
  }

  throttled(): void {
    const now = this.options.now();
    this.answered(now, true);
    this.lastThrottle = now;
    this.sinceCut.throttled += 1;
    if (now - this.lastDecrease < Pacer.DECREASE_EVERY_MS) return;
    // Too few answers to read a rate from: not a cut (the next throttle reads the window again).
    if (this.answers.length < Pacer.MIN_ANSWERS) return;
    this.lastDecrease = now;
    // What the account admitted over the last window: the successes, over the time since the first
    // answer in it (at least MIN_SPAN_MS).
    const span = Math.max(Pacer.MIN_SPAN_MS, now - (this.answers[0]?.at ?? now));
    const admitted = (this.answers.filter((a) => !a.throttled).length * 1000) / span;
    const cut = Math.min(this.rate, admitted) * Pacer.BACK_OFF;
    // A rate limit throttles less once posts slow down (or more, when others take the account's
    // capacity). When the throttled share stays where it was although the pace came down since the
    // last cut (or cannot come down, at the floor), the throttling does not follow the rate (a fault,
    // a shard of the service), and pacing lower would only starve the posts into the timeout: the
    // pacing is lifted, and each post's own jittered backoff deals with it. A pace that grew back to
    // where it was cut, the steady cycle of pacing at an account's limit, says nothing: there the
    // share is the same because the pace is.
    const answers = this.sinceCut.succeeded + this.sinceCut.throttled;
    const share = this.sinceCut.throttled / answers;
    const before = this.shareBeforeCut;
    const paceFell = this.rate <= this.rateAtCut * Pacer.BACK_OFF || cut <= Pacer.MIN_RATE;
    this.sinceCut = { succeeded: 0, throttled: 0 };
    this.shareBeforeCut = answers >= Pacer.MIN_ANSWERS ? share : undefined;
    this.rateAtCut = this.rate;
    if (
      this.isPacing() &&
      before !== undefined &&
      answers >= Pacer.MIN_ANSWERS &&
      paceFell &&
      Math.abs(share - before) <= Pacer.SAME_SHARE * before
    ) {
      this.lift();
      return;
    }
    this.rate = Math.max(Pacer.MIN_RATE, cut);
    this.next = Math.max(this.next, now);
  }

  /**
   * Stops pacing and forgets what was learnt: the next throttle, if any, meets a different demand (the
   * posts of other invocations, a fault's share) and must be read afresh, not against the old window.
   */
  private lift(): void {
    this.rate = Number.POSITIVE_INFINITY;
    this.answers.length = 0;
    this.sinceCut = { succeeded: 0, throttled: 0 };
    this.shareBeforeCut = undefined;
    this.rateAtCut = Number.POSITIVE_INFINITY;
  }

  /** Records an answer and forgets those older than the window. */
  private answered(at: number, throttled: boolean): void {
    this.answers.push({ at, throttled });
    while ((this.answers[0]?.at ?? at) < at - Pacer.WINDOW_MS) this.answers.shift();
  }
}
