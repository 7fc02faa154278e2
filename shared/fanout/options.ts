/** Tuning of the fan-out engine. Every field has a default; see DEFAULT_FANOUT_OPTIONS. */
export interface FanoutOptions {
  /** Posts in flight at once, across every record the engine is handling. */
  concurrency: number;
  /** Audience members one record reads and delivers inline; the rest becomes page messages. */
  pageSize: number;
  /** Posts per connection within one record (the first try included) before it goes to a retry message. */
  maxAttempts: number;
  /** Full-jitter backoff between those posts: random() * min(maxDelayMs, baseDelayMs * 2^retry). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retry messages per event and connection before giving up to the dead-letter queue. */
  maxRetryMessages: number;
}

export const DEFAULT_FANOUT_OPTIONS: Readonly<FanoutOptions> = {
  concurrency: 32,
  pageSize: 1000,
  maxAttempts: 4,
  baseDelayMs: 50,
  maxDelayMs: 2000,
  maxRetryMessages: 3,
};

/** Allowed ranges: wide enough for any sane deployment, narrow enough to catch unit mix-ups. */
const RANGES: Readonly<Record<keyof FanoutOptions, { min: number; max: number; integer: boolean }>> = {
  concurrency: { min: 1, max: 1000, integer: true },
  pageSize: { min: 1, max: 10_000, integer: true },
  maxAttempts: { min: 1, max: 20, integer: true },
  baseDelayMs: { min: 0, max: 60_000, integer: false },
  maxDelayMs: { min: 0, max: 60_000, integer: false },
  maxRetryMessages: { min: 0, max: 100, integer: true },
};

/** Defaults filled in and every value checked; throws an Error naming the first bad option. */
export function resolveFanoutOptions(partial: Partial<FanoutOptions> = {}): FanoutOptions {
  const options: FanoutOptions = { ...DEFAULT_FANOUT_OPTIONS };
  for (const key of Object.keys(RANGES) as (keyof FanoutOptions)[]) {
    const value = partial[key];
    if (value !== undefined) options[key] = value;
    const { min, max, integer } = RANGES[key];
    const actual = options[key];
    if (typeof actual !== 'number' || Number.isNaN(actual) || actual < min || actual > max) {
      throw new Error(`fan-out option ${key} must be a number from ${min} to ${max}, got ${String(actual)}`);
    }
    if (integer && !Number.isInteger(actual)) {
      throw new Error(`fan-out option ${key} must be an integer, got ${actual}`);
    }
  }
  if (options.maxDelayMs < options.baseDelayMs) {
    throw new Error(
      `fan-out option maxDelayMs (${options.maxDelayMs}) must not be below baseDelayMs (${options.baseDelayMs})`,
    );
  }
  return options;
}
