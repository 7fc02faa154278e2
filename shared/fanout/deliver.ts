import { type BackoffPolicy, backoffDelay } from '@fanout/protocol';
import { forEachBounded, type Limiter, type Pacer } from '../concurrency.js';
import { type ConnectionGateway, GatewayError, isGatewayError } from '../gateway/gateway.js';
import type { Log } from '../observability/ports.js';
import { type HistoryStore, rememberLeaving } from '../store/history.js';
import type { ConnectionStore } from '../store/store.js';
import type { EventFrames } from './frames.js';
import type { FanoutOptions } from './options.js';

/** One post to make: this connection gets the frame of audience source `source`. */
export interface Delivery {
  connectionId: string;
  source: number;
  /** When the connection opened (epoch ms), where the audience row said: decides a 410's meaning. */
  connectedAt?: number;
}

export interface DeliveryDeps {
  store: ConnectionStore;
  history?: HistoryStore;
  gateway: ConnectionGateway;
  limiter: Limiter;
  /** Paces posts to what the account admits once it throttles (shared by every record, like the limiter). */
  pacer?: Pacer;
  log: Log;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  options: Pick<
    FanoutOptions,
    'concurrency' | 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'connectingGraceSeconds'
  >;
}

export interface DeliveryOutcome {
  attempted: number;
  delivered: number;
  pruned: number;
  /** Throttled responses (a connection throttled twice counts twice). */
  throttled: number;
  /**
   * Connections whose posts kept failing: `maxAttempts` failures other than throttles, or throttled
   * (or backing off) until the deadline. They go to a retry message.
   */
  failed: Delivery[];
  /** 410s from connections young enough to be still opening: among `failed`, not pruned. */
  connecting: number;
  /** Posts API Gateway refused as bad requests (400): permanent, neither retried nor pruned. */
  refused: number;
  /** Not posted because the deadline came first: handed over as they are, not as failures. */
  unstarted: Delivery[];
  /** Set when API Gateway rejected the frame as too large: the rest of the event was not posted. */
  tooLarge?: GatewayError;
}

/**
 * Posts one event's frames to `deliveries` with bounded concurrency: a pool of at most `concurrency`
 * workers pulls from the list (so a page never queues thousands of promises), and every post also
 * takes a slot of the engine-wide limiter (so parallel records share the bound). Backoff sleeps hold
 * no slot: a throttled connection must not stall the others.
 *
 * `deadline` (epoch ms) is when no post may start any more: the invocation is about to time out.
 * Deliveries not posted by then (the deadline passed, or their first paced slot would fall after it)
 * come back `unstarted`, and one whose next try would fall after it comes back `failed`, so the
 * caller hands both over instead of losing them to the timeout.
 *
 * A throttled post is retried at its paced slot (no backoff of its own while the pacer paces) and
 * does not count against `maxAttempts`: under a throttle the account's rate is the bound, and the
 * pacer keeps the posts at it until the deadline.
 *
 * Throws (after in-flight posts settle) only for a `forbidden` answer: the function's role may not
 * post at all, so the record must fail and be retried after the misconfiguration is fixed.
 *
 * `stop` is shared by the calls of one record (read-on.ts): a forbidden or too-large answer in one
 * sets it, and no call starts another post after that.
 */
export async function deliver(
  deliveries: readonly Delivery[],
  frames: EventFrames,
  deps: DeliveryDeps,
  eventId: string,
  deadline: number,
  stop: { stopped: boolean } = { stopped: false },
): Promise<DeliveryOutcome> {
  const outcome = emptyOutcome();
  let fatal: GatewayError | undefined;
  const graceMs = deps.options.connectingGraceSeconds * 1000;
  const { maxAttempts, baseDelayMs, maxDelayMs } = deps.options;
  // Full jitter: thousands of throttled posts must not retry in lock step against the account-wide
  // API Gateway limit (AWS Architecture Blog, "Exponential Backoff And Jitter").
  const policy = { baseDelayMs, maxDelayMs, jitter: 'full' } as const;

  const deliverOne = async (delivery: Delivery): Promise<void> => {
    const frame = frames.get(delivery.source);
    // Only failures that say nothing about the account's rate count against maxAttempts, and only
    // they back off exponentially: a throttle is the pacer's to handle (it slows every post down to
    // what the account admits), so a throttled post is retried at its paced slot until the deadline
    // instead of going to a retry message and its SQS delay, which would leave the account's capacity
    // idle meanwhile. Unpaced (the pacer has not read a rate yet, or lifted its pacing), it waits one
    // jittered base delay: a backoff grown over its earlier throttles would keep it asleep long
    // after the pacer took over.
    let failures = 0;
    let throttled = false;
    for (let tries = 0; failures < maxAttempts; tries++) {
      if (tries > 0) {
        const pause = retryPause(throttled, failures, policy, deps);
        if (deps.now() + pause >= deadline) break;
        if (pause > 0) await deps.sleep(pause);
      }
      if (stop.stopped) return;
      const error = await deps.limiter.run(async () => {
        // Stopped while it waited for a slot: the record fails or is dead-lettered whole.
        if (stop.stopped) return STOPPED;
        // Unpaced, acquire would resolve true at once: skipping it saves a promise on every post.
        if (deps.pacer?.isPacing() && !(await deps.pacer.acquire(deadline))) return LATE;
        return post(deps, delivery.connectionId, frame, eventId);
      });
      if (error === STOPPED) return;
      if (error === LATE) {
        // Its paced slot would fall after the deadline. Never posted: handed over as it is; posted
        // and failed before: handed over with the failed ones.
        if (tries > 0) break;
        outcome.unstarted.push(delivery);
        return;
      }
      if (tries === 0) outcome.attempted++;
      throttled = error?.kind === 'throttled';
      if (throttled) deps.pacer?.throttled();
      else if (!error) deps.pacer?.succeeded();
      switch (error?.kind) {
        case undefined:
          outcome.delivered++;
          return;
        case 'gone':
          // API Gateway answers 410 to a post made before the $connect integration has finished:
          // a connection that young is retried, not pruned (its rows would go, and with them every
          // later event).
          if (delivery.connectedAt !== undefined && deps.now() - delivery.connectedAt < graceMs) {
            outcome.connecting++;
            outcome.failed.push(delivery);
            return;
          }
          if (await prune(deps, delivery.connectionId, eventId)) outcome.pruned++;
          return;
        case 'too_large':
          outcome.tooLarge ??= error;
          stop.stopped = true;
          return;
        case 'forbidden':
          fatal ??= error;
          stop.stopped = true;
          return;
        case 'invalid':
          // API Gateway refuses the request itself (a malformed connection id): no retry can
          // succeed, and the row is not proof of a gone connection, so it is left for its TTL.
          outcome.refused++;
          deps.log.warn('post refused as a bad request; not retried', {
            eventId,
            connectionId: delivery.connectionId,
            detail: error.message,
          });
          return;
        case 'throttled':
          outcome.throttled++;
          break;
        case 'other':
          failures++;
          break;
      }
    }
    outcome.failed.push(delivery);
  };

  await forEachBounded(
    deliveries,
    deps.options.concurrency,
    async (delivery) => {
      if (deps.now() >= deadline) {
        outcome.unstarted.push(delivery);
        return;
      }
      await deliverOne(delivery);
    },
    // Once the role may not post, or the frame is too large, no other connection can get it either.
    { stop: () => stop.stopped },
  );
  if (fatal) throw fatal;
  return outcome;
}

const emptyOutcome = (): DeliveryOutcome => ({
  attempted: 0,
  delivered: 0,
  pruned: 0,
  throttled: 0,
  failed: [],
  connecting: 0,
  refused: 0,
  unstarted: [],
});

/** The outcomes of several `deliver` calls of one record, as one. */
export function mergeOutcomes(outcomes: readonly DeliveryOutcome[]): DeliveryOutcome {
  const merged = emptyOutcome();
  for (const o of outcomes) {
    merged.attempted += o.attempted;
    merged.delivered += o.delivered;
    merged.pruned += o.pruned;
    merged.throttled += o.throttled;
    merged.connecting += o.connecting;
    merged.refused += o.refused;
    merged.failed.push(...o.failed);
    merged.unstarted.push(...o.unstarted);
    if (o.tooLarge) merged.tooLarge ??= o.tooLarge;
  }
  return merged;
}

/**
 * The wait before a connection's next try: a backoff grown with its failures, or, after a throttle,
 * none while the pacer paces (its slot is the wait) and one jittered base delay while it does not.
 */
function retryPause(
  throttled: boolean,
  failures: number,
  policy: BackoffPolicy,
  deps: Pick<DeliveryDeps, 'pacer' | 'random'>,
): number {
  if (!throttled) return backoffDelay(failures - 1, policy, deps.random);
  return deps.pacer?.isPacing() ? 0 : backoffDelay(0, policy, deps.random);
}

/** A post whose paced slot would come after the deadline, so it was not made. */
const LATE = Symbol('late');
/** A post not made because a forbidden or too-large answer stopped the record's posts. */
const STOPPED = Symbol('stopped');

/** One post; resolves to its error instead of throwing, so the pool's control flow stays flat. */
async function post(
  deps: DeliveryDeps,
  connectionId: string,
  frame: Uint8Array,
  eventId: string,
): Promise<GatewayError | undefined> {
  try {
    await deps.gateway.post(connectionId, frame);
    return undefined;
  } catch (err) {
    if (isGatewayError(err)) return err;
    // The port promises GatewayError; anything else is unexpected, but retrying it is harmless.
    deps.log.warn('post failed with a non-gateway error', { eventId, connectionId }, asError(err));
    return new GatewayError('other', `PostToConnection ${connectionId}: ${asError(err).message}`, undefined, {
      cause: err,
    });
  }
}

/**
 * Removes every row of a gone connection. A failure here is logged, not thrown: the event itself was
 * handled, and the rows are pruned on the next event that reaches them (or by TTL within hours).
 * Failing the record would re-deliver to every live connection for the sake of one stale row.
 */
async function prune(deps: DeliveryDeps, connectionId: string, eventId: string): Promise<boolean> {
  try {
    await deps.store.removeConnection(connectionId, rememberLeaving(deps.history));
    return true;
  } catch (err) {
    deps.log.warn('could not prune a gone connection', { eventId, connectionId }, asError(err));
    return false;
  }
}

export const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
