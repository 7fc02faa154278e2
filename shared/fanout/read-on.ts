import type { AudienceMember, AudienceSource } from '../domain/audience.js';
import type { FanoutEvent, PageMessage } from '../domain/envelope.js';
import type { Log } from '../observability/ports.js';
import type { WorkQueue } from '../queue/queue.js';
import type { AudiencePage, ConnectionStore } from '../store/store.js';
import {
  asError,
  type Delivery,
  type DeliveryDeps,
  type DeliveryOutcome,
  deliver,
  mergeOutcomes,
} from './deliver.js';
import type { EventFrames } from './frames.js';
import { pageMessage } from './handoff.js';

/** A source of a record whose page goes on past the rows read before the record's first post. */
export interface Continuing {
  index: number;
  cursor: string;
}

/** What a record still has to read of its page once its first posts are under way. */
export interface ReadOnPlan {
  /** The record's audience sources, which `continuing` indexes. */
  sources: readonly AudienceSource[];
  /** In source order: the first is read on first, and a later one only while budget is left. */
  continuing: readonly Continuing[];
  /** Members the record may still take: what its page size leaves after the first reads. */
  budget: number;
  /** When the event's audience reading began: carried by the page messages of what is left. */
  startedAt: number;
  /** The deliveries for members read on, de-duplicated as the first reads were. */
  accept: (members: readonly AudienceMember[], index: number) => Delivery[];
}

export interface ReadOnDeps {
  store: ConnectionStore;
  queue: WorkQueue;
  log: Log;
  now: () => number;
  /** Rows per read (FanoutOptions.readRows). */
  readRows: number;
}

/**
 * Reads the rest of a record's page while its first posts are in flight, handing the deliveries of
 * each read to `post` as soon as it is in, so the window of posts fills at once and stays full while
 * the page is read (docs/architecture.md, "The fan-out algorithm"). These reads come after the
 * record's history write, so, unlike the first ones, they never need reading again.
 *
 * Reading stops at the budget, at `postBy`, at a read that fails (a store error: the rows after it
 * are not lost but handed on, and the page message's invocation meets the error itself), or when
 * `stopped` says the posts cannot go on (a forbidden or too-large answer: the record is then failed
 * or dead-lettered whole, so nothing is handed on). What is left of each source is handed on as a
 * page message. Throws only when those cannot be queued.
 */
export async function readOn(
  event: FanoutEvent,
  plan: ReadOnPlan,
  deps: ReadOnDeps,
  postBy: number,
  stopped: () => boolean,
  post: (deliveries: Delivery[]) => void,
): Promise<void> {
  let budget = plan.budget;
  const handoff: PageMessage[] = [];
  for (const { index, cursor } of plan.continuing) {
    const source = plan.sources[index];
    if (!source) continue;
    let next: string | undefined = cursor;
    while (next !== undefined && budget > 0 && !stopped() && deps.now() < postBy) {
      let page: AudiencePage;
      try {
        page = await deps.store.audiencePage(source, Math.min(budget, deps.readRows), next);
      } catch (err) {
        deps.log.warn(
          'could not read on; the rest of the page is handed on',
          { eventId: event.id, source: index },
          asError(err),
        );
        break;
      }
      budget -= page.members.length;
      post(plan.accept(page.members, index));
      next = page.cursor;
    }
    if (next !== undefined && !stopped()) {
      handoff.push(pageMessage(event, index, { cursor: next, startedAt: plan.startedAt }));
    }
  }
  if (handoff.length === 0) return;
  await deps.queue.send(handoff);
  deps.log.info('handed audience pages to other invocations', { eventId: event.id, pages: handoff.length });
}

/**
 * Posts `first`, then what `more` reads on meanwhile, every read's deliveries as one more `deliver`
 * call on the engine-wide limiter, so the window of posts never waits for the whole page. Settles
 * only when every post has: a failure (a read on whose hand-off could not be queued, a forbidden
 * answer) is thrown after the posts in flight are done, never while they still run. `audience` is
 * how many deliveries were attempted in all.
 */
export async function deliverReadingOn(
  event: FanoutEvent,
  page: { frames: EventFrames; postBy: number },
  first: readonly Delivery[],
  more: ReadOnPlan | undefined,
  deps: { delivery: DeliveryDeps; readOn: ReadOnDeps },
): Promise<{ outcome: DeliveryOutcome; audience: number }> {
  type Settled = { outcome: DeliveryOutcome } | { error: unknown };
  const runs: Promise<Settled>[] = [];
  let audience = 0;
  // Set by the first forbidden or too-large answer of any call: every call stops starting posts.
  const stop = { stopped: false };
  const start = (deliveries: readonly Delivery[]): void => {
    if (deliveries.length === 0 || stop.stopped) return;
    audience += deliveries.length;
    // Settled into a value at once: a rejection must not wait unhandled while reads go on.
    runs.push(
      deliver(deliveries, page.frames, deps.delivery, event.id, page.postBy, stop).then(
        (outcome) => ({ outcome }),
        (error: unknown) => ({ error }),
      ),
    );
  };
  start(first);
  let failure: { error: unknown } | undefined;
  if (more && more.continuing.length > 0) {
    try {
      await readOn(event, more, deps.readOn, page.postBy, () => stop.stopped, start);
    } catch (error) {
      failure = { error };
    }
  }
  const settled = await Promise.all(runs);
  if (failure) throw failure.error;
  const outcomes: DeliveryOutcome[] = [];
  for (const run of settled) {
    if ('error' in run) throw run.error;
    outcomes.push(run.outcome);
  }
  return { outcome: mergeOutcomes(outcomes), audience };
}
