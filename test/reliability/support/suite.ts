/**
 * The one local platform the whole reliability suite runs on: starting one per scenario costs more
 * CPU than most scenarios, on a machine of two shared cores. Each scenario uses topics and users of
 * its own, sets the faults it needs and leaves none behind (suite.test.ts clears them after each),
 * and ends with no connection row left, so the next one starts from an empty index.
 */
import { resolve } from 'node:path';
import { type PlatformHarness, startHarness } from '../../support/platform';

/**
 * Two warm environments a function. Seven functions at the default four each fill the host's
 * sixteen, and a function that needs one more then ends another's idle environment, so that every
 * burst pays cold starts; two a function never reach the cap, and invocations queue for a warm one.
 */
const LAMBDA = { maxEnvironmentsPerFunction: 2 } as const;

/** A 410 is believed this long after a connection opened (default 30 s): vanished clients go within a scenario. */
export const CONNECTING_GRACE_SECONDS = 2;
/** The fan-out's request timeout: a slow call is one that takes longer. */
export const REQUEST_TIMEOUT_MS = 1_000;
/**
 * A failed or crashed batch comes back this soon, instead of after 6 × the function's timeout: the
 * timeout is shortened to keep Lambda's rule (visibility at least the timeout), and the visibility
 * kept well above it, so that a batch slowed down by a loaded machine is not received again while
 * it is still being handled (five receives and SQS would move it to the DLQ).
 */
export const VISIBILITY_TIMEOUT_SECONDS = 10;
const FANOUT_TIMEOUT_SECONDS = 6;
/**
 * Batches in flight at once: as many as the fan-out has environments, or a received batch waits for
 * one while its visibility timeout runs.
 */
const POLLERS = LAMBDA.maxEnvironmentsPerFunction;

export async function startSuitePlatform(): Promise<PlatformHarness> {
  return startHarness({
    lambda: LAMBDA,
    // The real fan-out bundle, in environments the crash scenario can make exit (fanout-crashing.mjs).
    bundles: { fanout: resolve(__dirname, 'fanout-crashing.mjs') },
    overrides: {
      settings: {
        FANOUT_CONNECTING_GRACE_SECONDS: CONNECTING_GRACE_SECONDS,
        FANOUT_REQUEST_TIMEOUT_MS: REQUEST_TIMEOUT_MS,
      },
      functions: { fanout: { timeout: FANOUT_TIMEOUT_SECONDS } },
      fanout_queue: { visibility_timeout_seconds: VISIBILITY_TIMEOUT_SECONDS, maximum_concurrency: POLLERS },
    },
  });
}

/** What a scenario module gets: the platform, once beforeAll has started it. */
export type Platform = () => PlatformHarness;
