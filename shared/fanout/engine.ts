import { MAX_MESSAGE_BYTES, sleep } from '@fanout/protocol';
import { Limiter } from '../concurrency.js';
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
import type { ConnectionStore } from '../store/store.js';
import { asError, type Delivery, type DeliveryDeps, deliver } from './deliver.js';
import { EventFrames } from './frames.js';
import { pageMessage, retryMessages } from './handoff.js';
import { type FanoutOptions, resolveFanoutOptions } from './options.js';
import { isExpired, type ParsedRecord, parseRecord } from './record.js';

export interface FanoutDeps {
  store: ConnectionStore;
  gateway: ConnectionGateway;
  queue: WorkQueue;
  log: Log;
  metrics: MetricSink;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

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
  private readonly delivery: DeliveryDeps;

  constructor(
    private readonly deps: FanoutDeps,
    options: Partial<FanoutOptions> = {},
  ) {
    this.options = resolveFanoutOptions(options);
    this.limiter = new Limiter(this.options.concurrency);
    this.now = deps.now ?? Date.now;
    this.delivery = {
      store: deps.store,
      gateway: deps.gateway,
      limiter: this.limiter,
      log: deps.log,
      random: deps.random ?? Math.random,
      sleep: deps.sleep ?? sleep,
      options: this.options,
    };
  }

  async handleRecord(body: string): Promise<void> {
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
      await this.handle(body, record);
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

  private async deadLetterMalformed(
    body: string,
    record: { detail: string; eventId?: string },
  ): Promise<void> {
    const { detail, eventId } = record;
    this.deps.log.warn('dead-lettering a malformed record', { eventId, detail });
    await this.deps.queue.deadLetter([{ body, reason: 'malformed' satisfies DeadLetterReason, detail }]);
    this.deps.metrics.addMetric('Malformed', 'Count', 1);
  }

  private async handle(body: string, record: Handled): Promise<void> {
    const frames = new EventFrames(record.event, record.sources);
    const needed = neededSources(record);
    const oversized = frames.oversized(needed);
    if (oversized) {
      const detail = `frame for source ${oversized.index} is ${oversized.bytes} bytes, over ${MAX_MESSAGE_BYTES}`;
      return this.deadLetterTooLarge(body, record.event, detail);
    }
    switch (record.kind) {
      case 'envelope':
        return this.handleEnvelope(body, record.event, record.sources, frames);
      case 'page':
        return this.handlePage(body, record.message, record.sources, frames);
      case 'retry':
        return this.handleRetry(body, record.message, frames);
    }
  }

  /**
   * A fresh event: read up to pageSize members across its sources inline, hand every source (or
   * remainder of one) it could not read on as page messages, then deliver what it read. The page
   * messages go out first, so other invocations start on them while this one posts.
   */
  private async handleEnvelope(
    body: string,
    event: FanoutEvent,
    sources: readonly AudienceSource[],
    frames: EventFrames,
  ): Promise<void> {
    let budget = this.options.pageSize;
    const deliveries: Delivery[] = [];
    const handoff: PageMessage[] = [];
    const startedAt = this.now();
    const complete = new Set<number>();
    const reading: AudienceReading = { startedAt, complete };
    // Connections this invocation delivers to already: a second source holding one adds nothing.
    const taken = new Set<string>();
    for (let index = 0; index < sources.length; index++) {
      const source = sources[index];
      if (!source) continue;
      if (budget === 0 || handoff.length > 0) {
        handoff.push(pageMessage(event, index, { startedAt }));
        continue;
      }
      const page = await this.deps.store.audiencePage(source, budget);
      budget = Math.max(0, budget - page.members.length);
      for (const delivery of this.fresh(page.members, sources, index, reading)) {
        if (taken.has(delivery.connectionId)) continue;
        taken.add(delivery.connectionId);
        deliveries.push(delivery);
      }
      // A cursor means this source has more: it continues in a page message, and so does every later
      // source, so the record's work stays bounded by pageSize.
      if (page.cursor === undefined) complete.add(index);
      else handoff.push(pageMessage(event, index, { cursor: page.cursor, startedAt }));
    }
    if (handoff.length > 0) {
      await this.deps.queue.send(handoff);
      this.deps.log.info('handed audience pages to other invocations', {
        eventId: event.id,
        pages: handoff.length,
      });
    }
    await this.deliverAndSettle(body, event, frames, deliveries, 0);
  }

  /** One page of one source; the next page is chained first so the pages run in parallel. */
  private async handlePage(
    body: string,
    message: PageMessage,
    sources: readonly AudienceSource[],
    frames: EventFrames,
  ): Promise<void> {
    const source = sources[message.source];
    if (!source) return;
    const page = await this.deps.store.audiencePage(source, this.options.pageSize, message.cursor);
    // Messages written before readings were timed have no start: their claims are never trusted.
    const startedAt = message.startedAt ?? Number.NEGATIVE_INFINITY;
    if (page.cursor !== undefined) {
      await this.deps.queue.send([
        pageMessage(message.event, message.source, { cursor: page.cursor, startedAt }),
      ]);
    }
    const deliveries = this.fresh(page.members, sources, message.source, { startedAt, complete: new Set() });
    await this.deliverAndSettle(body, message.event, frames, deliveries, 0);
  }

  /** Only the named connections: everyone else already has the event. */
  private async handleRetry(body: string, message: RetryMessage, frames: EventFrames): Promise<void> {
    const seen = new Set<string>();
    const deliveries: Delivery[] = [];
    for (const target of message.targets) {
      for (const connectionId of target.connectionIds) {
        if (seen.has(connectionId)) continue;
        seen.add(connectionId);
        deliveries.push({ connectionId, source: target.source });
      }
    }
    await this.deliverAndSettle(body, message.event, frames, deliveries, message.attempt);
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
      .map((member) => ({ connectionId: member.connectionId, source: index }));
  }

  private async deliverAndSettle(
    body: string,
    event: FanoutEvent,
    frames: EventFrames,
    deliveries: readonly Delivery[],
    previousAttempt: number,
  ): Promise<void> {
    const { metrics } = this.deps;
    const outcome = await deliver(deliveries, frames, this.delivery, event.id);
    metrics.addMetric('AudienceSize', 'Count', deliveries.length);
    count(metrics, 'Delivered', outcome.delivered);
    count(metrics, 'Pruned', outcome.pruned);
    count(metrics, 'Throttled', outcome.throttled);
    if (outcome.delivered > 0) {
      const sent = Date.parse(event.time);
      if (!Number.isNaN(sent))
        metrics.addMetric('DeliveryLatency', 'Milliseconds', Math.max(0, this.now() - sent));
    }
    if (outcome.tooLarge) {
      return this.deadLetterTooLarge(body, event, outcome.tooLarge.message);
    }
    if (outcome.failed.length > 0) await this.requeue(event, outcome.failed, previousAttempt + 1);
    this.deps.log.info('delivered', {
      eventId: event.id,
      audience: deliveries.length,
      delivered: outcome.delivered,
      pruned: outcome.pruned,
      throttled: outcome.throttled,
      failed: outcome.failed.length,
      attempt: previousAttempt,
    });
  }

  /**
   * Connections that failed every post of this record get another chance in a retry message, up to
   * maxRetryMessages; then they are dead-lettered. The dead letter is a retry message with attempt 1,
   * so redriving it (after the cause is fixed) gets a full set of retries instead of failing at once.
   */
  private async requeue(event: FanoutEvent, failed: readonly Delivery[], attempt: number): Promise<void> {
    const { log, metrics, queue } = this.deps;
    if (attempt <= this.options.maxRetryMessages) {
      await queue.send(retryMessages(event, failed, attempt));
      metrics.addMetric('Retried', 'Count', failed.length);
      log.info('re-enqueued failing connections', { eventId: event.id, connections: failed.length, attempt });
      return;
    }
    const detail = `${failed.length} connection(s) still failing after ${this.options.maxRetryMessages} retry message(s)`;
    await queue.deadLetter(
      retryMessages(event, failed, 1).map((message) => ({
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

/** Zero counts are left out: EMF entries cost, and dashboards treat missing data as zero. */
function count(metrics: MetricSink, name: string, value: number): void {
  if (value > 0) metrics.addMetric(name, 'Count', value);
}
