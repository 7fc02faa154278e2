import { integerSetting, type VariableOf } from '../deployment/manifest.js';

/** Tuning of the fan-out engine. Every field has a default; see DEFAULT_FANOUT_OPTIONS. */
export interface FanoutOptions {
  /** Posts in flight at once, across every record the engine is handling. */
  concurrency: number;
  /** Audience members one record reads and delivers inline; the rest becomes page messages. */
  pageSize: number;
  /**
   * Rows of a source read before the record's first post. The rest of its page is read, readRows at
   * a time, while those posts are in flight, so the window fills at once and stays full while the
   * page is read instead of waiting for the whole page.
   */
  firstReadRows: number;
  /** Rows per read after the first, up to what is left of the page. */
  readRows: number;
  /**
   * Failed posts per connection within one record (the first try included) before it goes to a retry
   * message. Throttled posts do not count: they are paced and retried until the record's last start.
   */
  maxAttempts: number;
  /** Full-jitter backoff between those posts: random() * min(maxDelayMs, baseDelayMs * 2^retry). */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * How long a connection whose posts keep failing is retried, in retry messages whose SQS delay
   * grows from retryBaseDelaySeconds to the SQS maximum, before it is dead-lettered (0: at once).
   */
  retryWindowSeconds: number;
  /** Delay of the first retry message, before jitter; it doubles with each one. */
  retryBaseDelaySeconds: number;
  /** A 410 Gone for a connection younger than this is retried, not pruned: it may still be connecting. */
  connectingGraceSeconds: number;
  /** Longest wait for one post; also the reserve kept before the invocation's deadline. */
  requestTimeoutMs: number;
  /** Longest a delivery page starts posts; what is left is handed over as a new page. */
  maxPageSeconds: number;
}

/**
 * The options a deployment sets through the fan-out function's environment, by the variable that
 * carries each. Their defaults and ranges are the manifest's (functions.json), so the function, the
 * Terraform module and the local runtime accept the same values.
 */
export const ENVIRONMENT_OPTIONS = {
  concurrency: 'FANOUT_CONCURRENCY',
  pageSize: 'FANOUT_PAGE_SIZE',
  maxAttempts: 'FANOUT_MAX_ATTEMPTS',
  retryWindowSeconds: 'FANOUT_RETRY_WINDOW_SECONDS',
  connectingGraceSeconds: 'FANOUT_CONNECTING_GRACE_SECONDS',
  requestTimeoutMs: 'FANOUT_REQUEST_TIMEOUT_MS',
  maxPageSeconds: 'FANOUT_MAX_PAGE_SECONDS',
} as const satisfies Partial<Record<keyof FanoutOptions, VariableOf<'fanout'>>>;
type EnvironmentOption = keyof typeof ENVIRONMENT_OPTIONS;

const setting = (option: EnvironmentOption) => integerSetting('fanout', ENVIRONMENT_OPTIONS[option]);

export const DEFAULT_FANOUT_OPTIONS: Readonly<FanoutOptions> = {
  concurrency: setting('concurrency').default,
  pageSize: setting('pageSize').default,
  // A quarter of the default page: its read takes a fraction of the whole page's, and posting it
  // takes longer than reading the next readRows, so reads stay ahead of the posts.
  firstReadRows: 250,
  readRows: 1000,
  maxAttempts: setting('maxAttempts').default,
  baseDelayMs: 50,
  maxDelayMs: 2000,
  retryWindowSeconds: setting('retryWindowSeconds').default,
  retryBaseDelaySeconds: 2,
  connectingGraceSeconds: setting('connectingGraceSeconds').default,
  requestTimeoutMs: setting('requestTimeoutMs').default,
  maxPageSeconds: setting('maxPageSeconds').default,
};

const fromManifest = (option: EnvironmentOption) => {
  const { min, max } = setting(option);
  return { min, max, integer: true };
};

/** Allowed ranges: wide enough for any sane deployment, narrow enough to catch unit mix-ups. */
const RANGES: Readonly<Record<keyof FanoutOptions, { min: number; max: number; integer: boolean }>> = {
  concurrency: fromManifest('concurrency'),
  pageSize: fromManifest('pageSize'),
  firstReadRows: { min: 1, max: 10_000, integer: true },
  readRows: { min: 1, max: 10_000, integer: true },
  maxAttempts: fromManifest('maxAttempts'),
  baseDelayMs: { min: 0, max: 60_000, integer: false },
  maxDelayMs: { min: 0, max: 60_000, integer: false },
  retryWindowSeconds: fromManifest('retryWindowSeconds'),
  retryBaseDelaySeconds: { min: 0, max: 900, integer: false },
  connectingGraceSeconds: fromManifest('connectingGraceSeconds'),
  requestTimeoutMs: fromManifest('requestTimeoutMs'),
  maxPageSeconds: fromManifest('maxPageSeconds'),
};

/** The options `ENVIRONMENT_OPTIONS` names, each read with `read` (the function's parsed environment). */
export function optionsFromEnvironment(
  read: (name: (typeof ENVIRONMENT_OPTIONS)[EnvironmentOption]) => number,
): Pick<FanoutOptions, EnvironmentOption> {
  const options = {} as Pick<FanoutOptions, EnvironmentOption>;
  for (const option of Object.keys(ENVIRONMENT_OPTIONS) as EnvironmentOption[]) {
    options[option] = read(ENVIRONMENT_OPTIONS[option]);
  }
  return options;
}

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
