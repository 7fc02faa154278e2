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
