/**
 * The account the local Lambda functions share: Lambda's concurrency quota, emulated as AWS applies
 * it, and the host's capacity, which is this machine's and not AWS's.
 *
 * - **Concurrency quota** (`concurrency`, default 1,000: the "Concurrent executions" quota of the page
 *   "Lambda quotas"). It counts invocations in flight across every function of the account; one past
 *   it is refused at once, as Lambda refuses a synchronous invocation beyond the account's concurrency:
 *   HTTP 429 `TooManyRequestsException` "Rate Exceeded." with reason `ConcurrentInvocationLimitExceeded`
 *   (Lambda API reference, "Invoke": Errors; the re:Post Knowledge Center article "How do I
 *   troubleshoot Lambda function throttling with "Rate exceeded" and 429 "TooManyRequestsException"
 *   errors?"). The caller decides what a throttle means: API Gateway answers with "Internal server
 *   error" (local/gateway), the SQS event source mapping leaves the batch to be received again.
 *
 * - **Host capacity** (`maxEnvironmentsPerFunction`, `maxEnvironments`, `maxConcurrentInits`). On AWS
 *   every admitted invocation gets an execution environment of its own at once; here an environment is
 *   a worker thread on a small machine, and a burst of hundreds of cold starts would take gigabytes and
 *   starve every init phase of CPU until they time out. So each function has at most
 *   `maxEnvironmentsPerFunction` environments, all functions together at most `maxEnvironments`, and an
 *   admitted invocation that finds none free waits (first come, first served) for one to finish
 *   instead of starting another. Finished environments are reused warm. Only when all functions
 *   together are at `maxEnvironments` does an idle environment of one function end to make room for
 *   another, and a busy function hand a slot over to a starved one. Only `maxConcurrentInits`
 *   environments import their bundle at once, and an environment's init timer starts when its init
 *   does, not while it waits for its turn. Waiting is a local cost only: AWS would have run the
 *   invocation at once, so it does not count against the function timeout.
 */
import { availableParallelism } from 'node:os';

/** Lambda's default "Concurrent executions" quota per account and Region ("Lambda quotas"). */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

const cores = Math.max(1, availableParallelism());
/** Default cap on one function's live environments (each a worker thread of some tens of MB once warm). */
export const DEFAULT_MAX_ENVIRONMENTS_PER_FUNCTION = Math.max(4, 2 * cores);
/** Default cap on the live environments of all functions together. */
export const DEFAULT_MAX_ENVIRONMENTS = Math.max(16, 8 * cores);
/** Default cap on environments in their init phase at once: bundle imports are CPU-bound. */
export const DEFAULT_MAX_CONCURRENT_INITS = Math.max(2, cores);

export interface LambdaAccountOptions {
  /** Lambda's account concurrency quota; default {@link DEFAULT_ACCOUNT_CONCURRENCY}. */
  concurrency?: number;
  /** Execution environments of one function alive at once (a local limit, not AWS's). */
  maxEnvironmentsPerFunction?: number;
  /** Execution environments alive at once, all functions together (a local limit, not AWS's). */
  maxEnvironments?: number;
  /** Environments in their init phase at once (a local limit, not AWS's). */
  maxConcurrentInits?: number;
}

export interface LambdaAccountStats {
  /** Admitted invocations not finished yet (running or waiting for an environment). */
  inflight: number;
  /** Live execution environments, all functions together. */
  environments: number;
  /** Environments in their init phase, and those waiting for their turn to start it. */
  initializing: number;
  initQueued: number;
  /** Invocations refused with TooManyRequestsException since the account was created. */
  throttled: number;
  /** The most invocations in flight at once, and the most environments alive at once. */
  peakInflight: number;
  peakEnvironments: number;
}

/** What the account schedules: one function's environments and its invocations waiting for one. */
export interface EnvironmentPool {
  /** Live environments (waiting to initialize, initializing, busy or idle). */
  readonly liveEnvironments: number;
  /** Sequence number of the oldest invocation waiting for an environment, if any waits. */
  oldestWaiter(): number | undefined;
  /** When the longest-idle environment became idle (performance.now()), if one is idle. */
  oldestIdle(): number | undefined;
  /** Ends the longest-idle environment; its end calls {@link LambdaAccount.environmentEnded}. */
  evictIdle(): void;
  /** Starts an environment for the oldest waiting invocation; the slot is already counted. */
  grantSlot(): void;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a whole number of at least 1, got ${value}`);
  }
  return value;
}

export class LambdaAccount {
  readonly concurrency: number;
  readonly maxEnvironmentsPerFunction: number;
  readonly maxEnvironments: number;
  readonly maxConcurrentInits: number;
  private inflight = 0;
  private live = 0;
  private initsRunning = 0;
  private throttled = 0;
  private peakInflight = 0;
  private peakEnvironments = 0;
  private readonly initQueue: Array<() => void> = [];
  private readonly pools = new Set<EnvironmentPool>();
  private sequence = 0;
  private dispatching = false;
  private dispatchAgain = false;
  private handOverTo: EnvironmentPool | undefined;

  constructor(options: LambdaAccountOptions = {}) {
    // Lambda allows a quota of 0 only per function (reserved concurrency); the account has at least 1.
    this.concurrency = positiveInteger('concurrency', options.concurrency ?? DEFAULT_ACCOUNT_CONCURRENCY);
    this.maxEnvironments = positiveInteger(
      'maxEnvironments',
      options.maxEnvironments ?? DEFAULT_MAX_ENVIRONMENTS,
    );
    this.maxEnvironmentsPerFunction = Math.min(
      this.maxEnvironments,
      positiveInteger(
        'maxEnvironmentsPerFunction',
        options.maxEnvironmentsPerFunction ?? DEFAULT_MAX_ENVIRONMENTS_PER_FUNCTION,
      ),
    );
    this.maxConcurrentInits = positiveInteger(
      'maxConcurrentInits',
      options.maxConcurrentInits ?? DEFAULT_MAX_CONCURRENT_INITS,
    );
  }

  stats(): LambdaAccountStats {
    return {
      inflight: this.inflight,
      environments: this.live,
      initializing: this.initsRunning,
      initQueued: this.initQueue.length,
      throttled: this.throttled,
      peakInflight: this.peakInflight,
      peakEnvironments: this.peakEnvironments,
    };
  }

  register(pool: EnvironmentPool): void {
    this.pools.add(pool);
  }

  unregister(pool: EnvironmentPool): void {
    this.pools.delete(pool);
  }

  /** Counts an invocation against the concurrency quota; false when the quota is used up (a throttle). */
  admit(): boolean {
    if (this.inflight >= this.concurrency) {
      this.throttled += 1;
      return false;
    }
    this.inflight += 1;
    this.peakInflight = Math.max(this.peakInflight, this.inflight);
    return true;
  }

  /** An admitted invocation finished (whatever its outcome). */
  leave(): void {
    this.inflight -= 1;
  }

  /** Orders waiting invocations across functions. */
  nextSequence(): number {
    this.sequence += 1;
    return this.sequence;
  }

  /** An environment of some pool ended: its slot is free for whoever waits longest. */
  environmentEnded(): void {
    const target = this.handOverTo;
    if (target !== undefined) {
      // The slot passes from the ended environment to the new one: `live` does not change.
      this.handOverTo = undefined;
      target.grantSlot();
      return;
    }
    this.live -= 1;
    this.dispatch();
  }

  /**
   * Gives free slots to waiting invocations of functions below their own cap: to the one with the
   * fewest environments first (a starved function before a busy one), then the one waiting longest.
   * With all functions together at the cap, an idle environment of another function is ended to make one.
   */
  dispatch(): void {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.dispatchAgain = false;
        for (;;) {
          const pool = this.neediest();
          if (pool === undefined) break;
          if (this.live < this.maxEnvironments) {
            this.live += 1;
            this.peakEnvironments = Math.max(this.peakEnvironments, this.live);
            pool.grantSlot();
            continue;
          }
          const idle = this.longestIdle();
          if (idle === undefined) break;
          const before = this.live;
          idle.evictIdle();
          if (this.live >= before) break; // nothing ended: wait for a release instead of spinning
        }
      } while (this.dispatchAgain);
    } finally {
      this.dispatching = false;
    }
  }

  /**
   * The function a pool that has waiting invocations should give the environment it just finished with
   * to, rather than reuse it. Only when all functions together are at the cap (otherwise the others
   * get slots of their own): another function that waits, is below its own cap, and holds none or at
   * least two fewer (the one with the fewest, then the one waiting longest). Undefined: reuse it.
   */
  yieldTarget(pool: EnvironmentPool): EnvironmentPool | undefined {
    if (this.live < this.maxEnvironments) return undefined;
    let best: { pool: EnvironmentPool; live: number; oldest: number } | undefined;
    for (const other of this.pools) {
      const oldest = other.oldestWaiter();
      if (other === pool || oldest === undefined) continue;
      const live = other.liveEnvironments;
      if (live >= this.maxEnvironmentsPerFunction) continue;
      if (live !== 0 && live > pool.liveEnvironments - 2) continue;
      if (best === undefined || live < best.live || (live === best.live && oldest < best.oldest)) {
        best = { pool: other, live, oldest };
      }
    }
    return best?.pool;
  }

  /**
   * Ends an environment (`end` must end it synchronously) and gives its slot straight to `target`,
   * which starts an environment for its oldest waiting invocation.
   */
  handOver(target: EnvironmentPool, end: () => void): void {
    this.handOverTo = target;
    try {
      end();
    } finally {
      this.handOverTo = undefined;
    }
  }

  /**
   * Whether another function waits for a slot it could use (it is below its own cap) that only an
   * environment ending can free (all functions together are at the cap).
   */
  othersNeedSlot(pool: EnvironmentPool): boolean {
    if (this.live < this.maxEnvironments) return false;
    for (const other of this.pools) {
      if (other === pool || other.oldestWaiter() === undefined) continue;
      if (other.liveEnvironments < this.maxEnvironmentsPerFunction) return true;
    }
    return false;
  }

  /**
   * Runs `start` once an init slot is free (at once if one is). The environment calls the returned
   * `done` when its init phase ends, however it ends; `cancel` withdraws a request not started yet.
   */
  requestInit(start: () => void): { done: () => void; cancel: () => void } {
    let state: 'queued' | 'running' | 'over' = 'queued';
    const run = (): void => {
      state = 'running';
      this.initsRunning += 1;
      start();
    };
    const done = (): void => {
      if (state !== 'running') return;
      state = 'over';
      this.initsRunning -= 1;
      this.startQueuedInits();
    };
    const cancel = (): void => {
      if (state !== 'queued') return;
      state = 'over';
      const index = this.initQueue.indexOf(run);
      if (index !== -1) this.initQueue.splice(index, 1);
    };
    this.initQueue.push(run);
    this.startQueuedInits();
    return { done, cancel };
  }

  private startQueuedInits(): void {
    while (this.initsRunning < this.maxConcurrentInits) {
      const next = this.initQueue.shift();
      if (next === undefined) return;
      next();
    }
  }

  private neediest(): EnvironmentPool | undefined {
    let best: { pool: EnvironmentPool; live: number; oldest: number } | undefined;
    for (const pool of this.pools) {
      const oldest = pool.oldestWaiter();
      if (oldest === undefined) continue;
      const live = pool.liveEnvironments;
      if (live >= this.maxEnvironmentsPerFunction) continue;
      if (best === undefined || live < best.live || (live === best.live && oldest < best.oldest)) {
        best = { pool, live, oldest };
      }
    }
    return best?.pool;
  }

  private longestIdle(): EnvironmentPool | undefined {
    let best: { pool: EnvironmentPool; since: number } | undefined;
    for (const pool of this.pools) {
      const since = pool.oldestIdle();
      if (since !== undefined && (best === undefined || since < best.since)) best = { pool, since };
    }
    return best?.pool;
  }
}

export function createLambdaAccount(options: LambdaAccountOptions = {}): LambdaAccount {
  return new LambdaAccount(options);
}
