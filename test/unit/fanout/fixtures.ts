import type { SQSEvent } from 'aws-lambda';
import type { AudienceSource } from '../../../shared/domain/audience';
import type { FanoutEvent } from '../../../shared/domain/envelope';
import { FanoutEngine } from '../../../shared/fanout/engine';
import type { FanoutOptions } from '../../../shared/fanout/options';
import { MemoryConnectionGateway } from '../../../shared/gateway/gateway-memory';
import { MemoryLog, MemoryMetrics } from '../../../shared/observability/ports';
import { MemoryWorkQueue } from '../../../shared/queue/queue-memory';
import type { AudiencePage, HeldStreams } from '../../../shared/store/store';
import { MemoryConnectionStore } from '../../../shared/store/store-memory';

/** Resolves at once but still yields to the event loop, so concurrent posts really overlap. */
export const yieldOnce = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const NOW = Date.parse('2026-11-24T10:00:01Z');
export const EVENT_TIME = '2026-11-24T10:00:00Z';

/** Records which connections were removed, on top of the in-memory store's own bookkeeping. */
export class TrackingStore extends MemoryConnectionStore {
  readonly removed: string[] = [];
  /** When set, audiencePage throws for sources it returns true for (a DynamoDB outage). */
  failAudience: ((source: AudienceSource) => boolean) | undefined;

  override async removeConnection(
    connectionId: string,
    beforeDelete?: (held: HeldStreams) => Promise<void>,
  ): Promise<void> {
    this.removed.push(connectionId);
    return super.removeConnection(connectionId, beforeDelete);
  }

  override async audiencePage(
    source: AudienceSource,
    limit: number,
    cursor?: string,
    through?: string,
  ): Promise<AudiencePage> {
    if (this.failAudience?.(source)) throw new Error('ProvisionedThroughputExceededException: injected');
    return super.audiencePage(source, limit, cursor, through);
  }
}

export interface Harness {
  store: TrackingStore;
  gateway: MemoryConnectionGateway;
  queue: MemoryWorkQueue;
  log: MemoryLog;
  metrics: MemoryMetrics;
  engine: FanoutEngine;
}

export function harness(options: Partial<FanoutOptions> = {}): Harness {
  // Subscriptions in these tests are made a minute before the events they are checked against.
  const store = new TrackingStore({ now: () => NOW - 60_000 });
  const gateway = new MemoryConnectionGateway();
  const queue = new MemoryWorkQueue();
  const log = new MemoryLog();
  const metrics = new MemoryMetrics();
  const engine = new FanoutEngine(
    { store, gateway, queue, log, metrics, now: () => NOW, random: () => 0.5, sleep: yieldOnce },
    options,
  );
  return { store, gateway, queue, log, metrics, engine };
}

/** Registers a connection with its subscriptions, and makes it live in the gateway unless `gone`. */
export async function addConnection(
  h: Pick<Harness, 'store' | 'gateway'>,
  connectionId: string,
  patterns: readonly string[],
  options: { userId?: string; gone?: boolean } = {},
): Promise<void> {
  await h.store.registerConnection({
    connectionId,
    connectedAt: NOW - 60_000,
    allowedTopics: ['*'],
    ...(options.userId ? { userId: options.userId } : {}),
  });
  if (patterns.length > 0) await h.store.subscribe(connectionId, patterns, 100);
  if (!options.gone) h.gateway.connect(connectionId);
}

export interface DetailInput {
  topics?: string[];
  users?: string[];
  data?: unknown;
  expiresAt?: string;
}

/** An EventBridge envelope body as the rule's SQS target delivers it. */
export function envelopeBody(detail: DetailInput, id = 'evt-1'): string {
  return JSON.stringify({
    version: '0',
    id,
    'detail-type': 'OrderUpdated',
    source: 'orders',
    account: '123456789012',
    time: EVENT_TIME,
    region: 'eu-west-1',
    resources: [],
    detail: { data: { n: 1 }, ...detail },
  });
}

export function fanoutEvent(input: Partial<FanoutEvent> = {}): FanoutEvent {
  return {
    id: 'evt-1',
    source: 'orders',
    detailType: 'OrderUpdated',
    time: EVENT_TIME,
    topics: [],
    users: [],
    data: { n: 1 },
    ...input,
  };
}

/** Feeds every queued page/retry message back through the engine until none is left. */
export async function drain(h: Pick<Harness, 'engine' | 'queue'>, limit = 10_000): Promise<number> {
  let handled = 0;
  for (let body = h.queue.take(); body !== undefined; body = h.queue.take()) {
    if (++handled > limit) throw new Error(`queue did not drain within ${limit} records`);
    await h.engine.handleRecord(body);
  }
  return handled;
}

export function sqsEvent(bodies: readonly string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `msg-${i}`,
      receiptHandle: `rh-${i}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(NOW),
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(NOW),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:fanout',
      awsRegion: 'eu-west-1',
    })),
  };
}
