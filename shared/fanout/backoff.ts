/**
 * A counting semaphore: at most `limit` tasks run at once, the rest wait in FIFO order. One limiter
 * is shared by every record an engine handles, because Powertools runs a batch's records in parallel
 * and the bound is about sockets and the account's API Gateway rate, not about one record.
 */
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
