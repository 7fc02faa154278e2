/**
 * The one backoff formula of fanout: every retry loop (the fan-out engine's posts, the stores'
 * writes, the queue's sends, the client's reconnects, the local stand-ins) computes its pause here.
 * It lives in the protocol because reconnecting clients are part of it: after a gateway restart,
 * thousands of dashboards reconnect at once, and only spread-out pauses keep them from arriving in
 * lock step (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export interface BackoffPolicy {
  /** Pause before the first retry, before jitter, in milliseconds. */
  baseDelayMs: number;
  /** Ceiling of the pause, before jitter. */
  maxDelayMs: number;
  /**
   * - `full`: uniform in [0, step): the most spread, for many callers retrying against one limit;
   * - `equal`: uniform in [step/2, step]: always backs off, still spread (writers that collided);
   * - `none`: exactly the step (a lone caller, or a test that needs exact pauses).
   * Default `full`.
   */
  jitter?: 'full' | 'equal' | 'none';
}

/**
 * The pause before retry number `retry` (0 for the first retry): the step
 * min(maxDelayMs, baseDelayMs × 2^retry), jittered as the policy says.
 *
 * @example
 * ```ts
 * const pause = backoffDelay(attempt, { baseDelayMs: 500, maxDelayMs: 30_000 });
 * ```
 */
export function backoffDelay(
  retry: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  switch (policy.jitter ?? 'full') {
    case 'full':
      return random() * step;
    case 'equal':
      return step / 2 + random() * (step / 2);
    case 'none':
      return step;
  }
}

/** Resolves after `ms` milliseconds: the default of every injectable `sleep`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
