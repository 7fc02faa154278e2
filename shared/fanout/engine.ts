import { MAX_MESSAGE_BYTES, type Position, positionAt, sleep } from '@fanout/protocol';
import { Limiter, Pacer } from '../concurrency.js';
import {
  type AudienceMember,
  type AudienceReading,
  type AudienceSource,
  deliveredByEarlierSource,
} from '../domain/audience.js';
import type { FanoutEvent, PageMessage, RetryMessage } from '../domain/envelope.js';
import type { ConnectionGateway } from '../gateway/gateway.js';
import type { Log, MetricSink } from '../observability/ports.js';
import type { WorkQueue } from '../queue/queue.js';
import { type HistoryStore, POINTER_WRITE_BOUND_MS, type Stream } from '../store/history.js';
import { type AudiencePage, type ConnectionStore, isInvalidCursorError } from '../store/store.js';
import { asError, type Delivery, type DeliveryDeps } from './deliver.js';
import { EventFrames } from './frames.js';
import { pageMessage, retryDelaySeconds, retryMessages } from './handoff.js';
import { type FanoutOptions, resolveFanoutOptions } from './options.js';
import { type Continuing, deliverReadingOn, type ReadOnDeps, type ReadOnPlan } from './read-on.js';
import { isExpired, type ParsedRecord, parseRecord } from './record.js';

export interface FanoutDeps {
  store: ConnectionStore;
  /** Where delivered events are kept for recovery; absent, or retention 0: no history. */
  history?: HistoryStore;
  gateway: ConnectionGateway;
  queue: WorkQueue;
  log: Log;
  metrics: MetricSink;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What a record's invocation knows about itself. */
export interface RecordContext {
  /** Epoch ms at which the invocation times out (Lambda's deadline); absent when it has none. */
  deadline?: number;
}

/** The time kept before an invocation's deadline: the longest post, then the hand-over itself. */
const HANDOVER_RESERVE_MS = 1_000;

/** Dead-letter reasons the engine writes (the `fanout.reason` attribute on the DLQ). */
export type DeadLetterReason = 'malformed' | 'payload_too_large' | 'delivery_failed';

type Handled = Exclude<ParsedRecord, { kind: 'malformed' }>;

/**
 * The fan-out use case (docs/architecture.md, "The fan-out algorithm"): one SQS record in, frames out to its audience.
 *
 * `handleRecord` resolves once the record is done with: delivered, dropped (expired), dead-lettered
 * (malformed, too large, out of retries) or handed on as page/retry messages that SQS has accepted.
 * It throws only when the record could not be handled at all (store or queue outage, a `forbidden`
 * gateway), which the batch handler reports in `batchItemFailures` so SQS redelivers that record.
 *
 * Metrics (Count unless noted): Delivered, Pruned, Throttled (responses), Retried (connections put in
 * retry messages), Failed (connections dead-lettered as delivery_failed, plus one per event
 * dead-lettered as payload_too_large), Expired, Malformed, AudienceSize (deliveries a record
 * attempts), DeliveryLatency (Milliseconds, now − event time, per record that delivered).
 */
export class FanoutEngine {
  readonly options: FanoutOptions;
  /**
   * Shared by every record this engine handles: Powertools runs a batch's records in parallel, and
   * the bound is about sockets and the account's API Gateway rate, not about one record.
   */
  private readonly limiter: Limiter;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly delivery: DeliveryDeps;
  private readonly readOn: ReadOnDeps;

  constructor(
    private readonly deps: FanoutDeps,
    options: Partial<FanoutOptions> = {},
  ) {
    this.options = resolveFanoutOptions(options);
    this.limiter = new Limiter(this.options.concurrency);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    const pause = deps.sleep ?? sleep;
    this.delivery = {
      store: deps.store,
      ...(deps.history ? { history: deps.history } : {}),
      gateway: deps.gateway,
      limiter: this.limiter,
      // Shared like the limiter: the account's rate is one for every record the engine handles.
      pacer: new Pacer({ now: this.now, sleep: pause }),
      log: deps.log,
      random: this.random,
      sleep: pause,
      now: this.now,
      options: this.options,
    };
    this.readOn = { ...deps, now: this.now, readRows: this.options.readRows };
  }

  /**
   * Handles one record. With `context.deadline`, no post starts later than the longest post plus
   * a second before it (but never in the first half of the time left): what is left is handed over
   * in a retry message instead of being cut off by the timeout and redelivered whole after the
   * visibility timeout.
   */
  async handleRecord(body: string, context: RecordContext = {}): Promise<void> {
    const record = parseRecord(body);
    const eventId = record.kind === 'malformed' ? record.eventId : record.event.id;
    try {
      if (record.kind === 'malformed') return await this.deadLetterMalformed(body, record);
      if (isExpired(record.event, this.now())) {
        const { expiresAt } = record.event;
        this.deps.log.info('dropping an expired event', { eventId, kind: record.kind, expiresAt });
        this.deps.metrics.addMetric('Expired', 'Count', 1);
        return;
      }
      await this.handle(body, record, this.postBy(context));
    } catch (err) {
      const kind = record.kind;
      this.deps.log.error(
        'record could not be handled; SQS will redeliver it',
        { eventId, kind },
        asError(err),
      );
      throw err;
    }
  }

  /** The last moment a post may start, from the invocation's deadline. */
  private postBy({ deadline }: RecordContext): number {
    if (deadline === undefined) return Number.POSITIVE_INFINITY;
    // The reserve never takes more than half the time left, so even a short invocation posts.
    const reserve = Math.min(
      this.options.requestTimeoutMs + HANDOVER_RESERVE_MS,
      (deadline - this.now()) / 2,
    );
    return deadline - reserve;
  }

  private async deadLetterMalformed(
    body: string,
    record: { detail: string; eventId?: string },
  ): Promise<void> {
    const { detail, eventId } = record;
    this.deps.log.warn('dead-lettering a malformed record', { eventId, detail });
    await this.deps.queue.deadLetter([{ body, reason: 'malformed' satisfies DeadLetterReason, detail }]);
    this.deps.metrics.addMetric('Malformed', 'Count', 1);
  }

  private async handle(body: string, record: Handled, deadline: number): Promise<void> {
    // Each record is one delivery page: its position is when it began, and it posts for a bounded
    // time, so that every post of the page happens within maxPageSeconds of that position (the
    // margin a recovery reads back from; docs/architecture.md, "Recovery").
    const start = this.now();
    const position = this.historyOn() ? positionAt(start) : undefined;
    const postBy = Math.min(deadline, start + this.options.maxPageSeconds * 1000);
    const frames = new EventFrames(record.event, record.sources, position);
    const needed = neededSources(record);
    const oversized = frames.oversized(needed);
    if (oversized) {
      const detail = `frame for source ${oversized.index} is ${oversized.bytes} bytes, over ${MAX_MESSAGE_BYTES}`;
      return this.deadLetterTooLarge(body, record.event, detail);
    }
    const page = { frames, postBy, position };
    switch (record.kind) {
      case 'envelope':
        return this.handleEnvelope(body, record.event, record.sources, page);
      case 'page':
        return this.handlePage(body, record.message, record.sources, page);
      case 'retry':
        return this.handleRetry(body, record.message, record.sources, page);
    }
  }

  private historyOn(): boolean {
    return (this.deps.history?.retentionSeconds ?? 0) > 0;
  }

  /**
   * Points the streams of `read` (sources read with members, or held until moments ago by a
   * connection that left) at this page's position, and stores the body once per event: by the first
   * page, when a pointer of its own or a later page's may need it. Written before any post: a
   * connection that misses a post can then always find the event again.
   */
  private async recordHistory(
    event: FanoutEvent,
    sources: readonly AudienceSource[],
    read: readonly { index: number; members: number }[],
    page: Page,
    body: 'always' | 'if-pointed' | 'never',
  ): Promise<void> {
    const history = this.deps.history;
    if (!history || page.position === undefined) return;
    const streamOf = (index: number): Stream | undefined => {
      const source = sources[index];
      if (!source) return undefined;
      return source.kind === 'pattern'
        ? { kind: 'pattern', pattern: source.pattern }
        : { kind: 'user', userId: source.userId };
    };
    const streams: Stream[] = [];
    const empty: Stream[] = [];
    for (const { index, members } of read) {
      const stream = streamOf(index);
      if (stream) (members > 0 ? streams : empty).push(stream);
    }
    // A source nobody holds now may have been held by a connection that is about to recover.
    const held = empty.length > 0 ? await history.held(empty) : [];
    streams.push(...empty.filter((_, i) => held[i]));
    const withBody = body === 'always' || (body === 'if-pointed' && streams.length > 0);
    // An event nobody holds or held costs no write at all.
    if (streams.length === 0 && !withBody) return;
    await history.record(event, streams, page.position, withBody);
  }

  /**
   * A fresh event: read the first rows of every source at once (one round trip, not one per source),
   * take up to pageSize members in source order, hand every source it could not take on as page
   * messages, then deliver what it took, reading the rest of its page on while those posts are in
   * flight (read-on.ts). A source read empty and complete needs no page message. The page messages
   * go out first, so other invocations start on them while this one posts.
   */
  private async handleEnvelope(
    body: string,
    event: FanoutEvent,
    sources: readonly AudienceSource[],
    page: Page,
  ): Promise<void> {
    let budget = this.options.pageSize;
    const deliveries: Delivery[] = [];
    const handoff: PageMessage[] = [];
    const startedAt = this.now();
    const complete = new Set<number>();
    const reading: AudienceReading = { startedAt, complete };
    // Connections this invocation delivers to already: a second source holding one adds nothing.
    const taken = new Set<string>();
    const read: { index: number; members: number }[] = [];
    const readStart = this.now();
    const first = this.firstRead();
    const continuing: Continuing[] = [];
    // In parallel: at most sources × first rows read, for one round trip instead of one per source.
    const pages = await Promise.all(
      sources.map((source) => (source ? this.deps.store.audiencePage(source, first) : undefined)),
    );
    for (let index = 0; index < sources.length; index++) {
      const audience = pages[index];
      if (!audience) continue;
      if (audience.members.length === 0 && audience.cursor === undefined) {
        // Read whole and empty: nothing to hand on (its stream is still checked for history).
        read.push({ index, members: 0 });
        complete.add(index);
        continue;
      }
      // Past the budget, or after a source that continues elsewhere: the whole source is handed on, so
      // the record's work stays bounded by pageSize (its page is read again there).
      if (budget < audience.members.length || handoff.length > 0) {
        handoff.push(pageMessage(event, index, { startedAt }));
        continue;
      }
      budget -= audience.members.length;
      read.push({ index, members: audience.members.length });
      deliveries.push(...untaken(this.fresh(audience.members, sources, index, reading), taken));
      // A cursor means this source has more: read on here while the page has room, else it continues
      // in a page message, and so does every later source that has members.
      if (audience.cursor === undefined) complete.add(index);
      else if (budget > 0) continuing.push({ index, cursor: audience.cursor });
      else handoff.push(pageMessage(event, index, { cursor: audience.cursor, startedAt }));
    }
    // Page messages write pointers to the body later; without them only this page's pointers do.
    const later = handoff.length > 0 || continuing.length > 0;
    await this.recordHistory(event, sources, read, page, later ? 'always' : 'if-pointed');
    if (this.now() - readStart > POINTER_WRITE_BOUND_MS) {
      // Slow enough that a subscriber may have recovered in between without seeing the pointers:
      // each source's first rows are read again, through where its first read ended, all at once as
      // the first reads were.
      const again = await Promise.all(
        read.map(({ index }) => {
          const source = sources[index];
          return source ? this.readAgain(source, undefined, pages[index]?.cursor) : [];
        }),
      );
      read.forEach(({ index }, at) => {
        deliveries.push(...untaken(this.fresh(again[at] ?? [], sources, index, reading), taken));
      });
    }
    if (handoff.length > 0) {
      await this.deps.queue.send(handoff);
      this.deps.log.info('handed audience pages to other invocations', {
        eventId: event.id,
        pages: handoff.length,
      });
    }
    const plan: ReadOnPlan = {
      sources,
      continuing,
      budget,
      startedAt,
      accept: (members, index) => untaken(this.fresh(members, sources, index, reading), taken),
    };
    await this.deliverAndSettle(body, event, page, deliveries, { attempt: 0 }, plan);
  }

  /**
   * The rows after `from` through `through` (a cursor an earlier read ended at; without one, to the
   * source's end, which that read reached), every row written among them since included: the range
   * a first read covered, read again after a slow pointer write. Read `firstRead()` rows at a time.
   */
  private async readAgain(
    source: AudienceSource,
    from: string | undefined,
    through: string | undefined,
  ): Promise<AudienceMember[]> {
    const members: AudienceMember[] = [];
    let cursor = from;
    do {
      const page = await this.deps.store.audiencePage(source, this.firstRead(), cursor, through);
      members.push(...page.members);
      cursor = page.cursor;
    } while (cursor !== undefined);
    return members;
  }

  /** Rows of a source read before a record's first post: the rest of its page is read on meanwhile. */
  private firstRead(): number {
    return Math.min(this.options.pageSize, this.options.firstReadRows);
  }

  /**
   * One page of one source. Read in one go, the next page is chained first so the pages run in
   * parallel; read in several, the next page is chained once the rest of this one is read, while
   * its first posts are in flight.
   */
  private async handlePage(
    body: string,
    message: PageMessage,
    sources: readonly AudienceSource[],
    page: Page,
  ): Promise<void> {
    const source = sources[message.source];
    if (!source) return;
    let audience: AudiencePage;
    const readStart = this.now();
    const first = this.firstRead();
    try {
      audience = await this.deps.store.audiencePage(source, first, message.cursor);
    } catch (err) {
      // A cursor this store never issued fails the same way on every redelivery: refuse it now.
      if (!isInvalidCursorError(err)) throw err;
      return this.deadLetterMalformed(body, { detail: err.message, eventId: message.event.id });
    }
    // Messages written before readings were timed have no start: their claims are never trusted.
    const startedAt = message.startedAt ?? Number.NEGATIVE_INFINITY;
    const budget = this.options.pageSize - audience.members.length;
    const continuing =
      audience.cursor !== undefined && budget > 0 ? [{ index: message.source, cursor: audience.cursor }] : [];
    if (audience.cursor !== undefined && continuing.length === 0) {
      await this.deps.queue.send([
        pageMessage(message.event, message.source, { cursor: audience.cursor, startedAt }),
      ]);
    }
    await this.recordHistory(
      message.event,
      sources,
      [{ index: message.source, members: audience.members.length }],
      page,
      'never',
    );
    const reading = { startedAt, complete: new Set<number>() };
    // Slow enough that a subscriber may have recovered in between: what the first read covered is
    // read again, through where it ended, and what it finds joins the first read, each connection
    // once, here and in what is read on after the cursor.
    const members = [...audience.members];
    if (this.now() - readStart > POINTER_WRITE_BOUND_MS) {
      members.push(...(await this.readAgain(source, message.cursor, audience.cursor)));
    }
    const taken = new Set<string>();
    const deliveries = untaken(this.fresh(members, sources, message.source, reading), taken);
    await this.deliverAndSettle(
      body,
      message.event,
      page,
      deliveries,
      { attempt: 0 },
      {
        sources,
        continuing,
        budget,
        startedAt,
        accept: (more, index) => untaken(this.fresh(more, sources, index, reading), taken),
      },
    );
  }

  /** Only the named connections: everyone else already has the event. */
  private async handleRetry(
    body: string,
    message: RetryMessage,
    sources: readonly AudienceSource[],
    page: Page,
  ): Promise<void> {
    const seen = new Set<string>();
    const deliveries: Delivery[] = [];
    for (const target of message.targets) {
      for (const connectionId of target.connectionIds) {
        if (seen.has(connectionId)) continue;
        seen.add(connectionId);
        const connectedAt = target.connectedAt?.[connectionId];
        deliveries.push({
          connectionId,
          source: target.source,
          ...(connectedAt === undefined ? {} : { connectedAt }),
        });
      }
    }
    const of = {
      attempt: message.attempt,
      ...(message.firstFailedAt === undefined ? {} : { firstFailedAt: message.firstFailedAt }),
    };
    // The retried posts happen now: their streams get a pointer at this page's position too.
    const targets = [...new Set(message.targets.map((t) => t.source))].map((index) => ({
      index,
      members: 1,
    }));
    await this.recordHistory(message.event, sources, targets, page, 'never');
    await this.deliverAndSettle(body, message.event, page, deliveries, of);
  }

  /** Members of source `index` that no earlier source delivers to (de-duplication per connection). */
  private fresh(
    members: readonly AudienceMember[],
    sources: readonly AudienceSource[],
    index: number,
    reading: AudienceReading,
  ): Delivery[] {
    return members
      .filter((member) => !deliveredByEarlierSource(member, sources, index, reading))
      .map(({ connectionId, connectedAt }) => ({
        connectionId,
        source: index,
        ...(connectedAt === undefined ? {} : { connectedAt }),
      }));
  }

  private async deliverAndSettle(
    body: string,
    event: FanoutEvent,
    page: Page,
    deliveries: readonly Delivery[],
    previous: { attempt: number; firstFailedAt?: number },
    more?: ReadOnPlan,
  ): Promise<void> {
    const { metrics } = this.deps;
    const { outcome, audience } = await deliverReadingOn(event, page, deliveries, more, {
      delivery: this.delivery,
      readOn: this.readOn,
    });
    metrics.addMetric('AudienceSize', 'Count', audience);
    count(metrics, 'Delivered', outcome.delivered);
    count(metrics, 'Pruned', outcome.pruned);
    count(metrics, 'Throttled', outcome.throttled);
    count(metrics, 'Refused', outcome.refused);
    if (outcome.delivered > 0) {
      const sent = Date.parse(event.time);
      if (!Number.isNaN(sent))
        metrics.addMetric('DeliveryLatency', 'Milliseconds', Math.max(0, this.now() - sent));
    }
    if (outcome.tooLarge) {
      return this.deadLetterTooLarge(body, event, outcome.tooLarge.message);
    }
    if (outcome.unstarted.length > 0) await this.handOver(event, outcome.unstarted, previous);
    if (outcome.failed.length > 0) await this.requeue(event, outcome.failed, previous);
    this.deps.log.info('delivered', {
      eventId: event.id,
      audience,
      delivered: outcome.delivered,
      pruned: outcome.pruned,
      throttled: outcome.throttled,
      failed: outcome.failed.length,
      connecting: outcome.connecting,
      handedOver: outcome.unstarted.length,
      attempt: previous.attempt,
    });
  }

  /**
   * Deliveries the deadline left unstarted go to a retry message as they are: same attempt, no
   * delay, no failure recorded. They never failed; this invocation only ran out of time.
   */
  private async handOver(
    event: FanoutEvent,
    unstarted: readonly Delivery[],
    previous: { attempt: number; firstFailedAt?: number },
  ): Promise<void> {
    const of = {
      attempt: Math.max(1, previous.attempt),
      ...(previous.firstFailedAt === undefined ? {} : { firstFailedAt: previous.firstFailedAt }),
      connectedAfter: this.now() - this.options.connectingGraceSeconds * 1000,
    };
    await this.deps.queue.send(retryMessages(event, unstarted, of));
    this.deps.metrics.addMetric('HandedOver', 'Count', unstarted.length);
    this.deps.log.info('handed unstarted deliveries over before the deadline', {
      eventId: event.id,
      connections: unstarted.length,
    });
  }

  /**
   * Connections that failed every post of this record get another chance in a retry message whose
   * SQS delay grows with each attempt, until the retry window (counted from their first failure)
   * has passed; then they are dead-lettered. The dead letter is a retry message with attempt 1 and
   * no first failure, so redriving it (after the cause is fixed) gets a whole new window.
   */
  private async requeue(
    event: FanoutEvent,
    failed: readonly Delivery[],
    previous: { attempt: number; firstFailedAt?: number },
  ): Promise<void> {
    const { log, metrics, queue } = this.deps;
    const now = this.now();
    const firstFailedAt = previous.firstFailedAt ?? now;
    const windowMs = this.options.retryWindowSeconds * 1000;
    const connectedAfter = now - this.options.connectingGraceSeconds * 1000;
    if (now - firstFailedAt < windowMs) {
      const attempt = previous.attempt + 1;
      const delaySeconds = retryDelaySeconds(attempt, this.options.retryBaseDelaySeconds, this.random);
      await queue.send(retryMessages(event, failed, { attempt, firstFailedAt, connectedAfter }), {
        delaySeconds,
      });
      metrics.addMetric('Retried', 'Count', failed.length);
      log.info('re-enqueued failing connections', {
        eventId: event.id,
        connections: failed.length,
        attempt,
        delaySeconds,
      });
      return;
    }
    const seconds = Math.round((now - firstFailedAt) / 1000);
    const detail = `${failed.length} connection(s) still failing ${seconds} s after their first failure (retry window ${this.options.retryWindowSeconds} s)`;
    await queue.deadLetter(
      retryMessages(event, failed, { attempt: 1, connectedAfter }).map((message) => ({
        body: JSON.stringify(message),
        reason: 'delivery_failed' satisfies DeadLetterReason,
        detail,
      })),
    );
    metrics.addMetric('Failed', 'Count', failed.length);
    log.warn('dead-lettered connections out of retries', { eventId: event.id, connections: failed.length });
  }

  private async deadLetterTooLarge(body: string, event: FanoutEvent, detail: string): Promise<void> {
    await this.deps.queue.deadLetter([
      { body, reason: 'payload_too_large' satisfies DeadLetterReason, detail },
    ]);
    this.deps.metrics.addMetric('Failed', 'Count', 1);
    this.deps.log.warn('dead-lettered an event too large to deliver', { eventId: event.id, detail });
  }
}

/** One record's delivery page: its frames, its position, and when it stops starting posts. */
interface Page {
  frames: EventFrames;
  postBy: number;
  position: Position | undefined;
}

/** The audience sources whose frames a record will post. */
function neededSources(record: Handled): number[] {
  switch (record.kind) {
    case 'envelope':
      return record.sources.map((_, index) => index);
    case 'page':
      return [record.message.source];
    case 'retry':
      return record.message.targets.map((target) => target.source);
  }
}

/** The deliveries whose connection `taken` does not hold yet, which it holds from then on: one post per connection and record. */
function untaken(deliveries: readonly Delivery[], taken: Set<string>): Delivery[] {
  return deliveries.filter((delivery) => {
    if (taken.has(delivery.connectionId)) return false;
    taken.add(delivery.connectionId);
    return true;
  });
}

/** Zero counts are left out: EMF entries cost, and dashboards treat missing data as zero. */
function count(metrics: MetricSink, name: string, value: number): void {
  if (value > 0) metrics.addMetric(name, 'Count', value);
}
