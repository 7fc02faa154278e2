/**
 * The latency scenario's stage split: where, between PutEvents and the frame at the client, an event
 * spends its time. The platform's trace hooks (local/dev/platform.ts, PipelineTrace) tell a
 * StageRecorder when each event reached the SQS queue, the event source mapping and the fan-out
 * invocation, and when the gateway answered each post; the client farm adds when each frame arrived.
 * `splitStages` turns those timestamps into p50/p99 per stage, from PutEvents and since the stage before.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { PipelineTrace } from '../../local/dev/platform.js';
import type { ConnectionsCall } from '../../local/gateway/types.js';
import { quantile } from './stats.js';

export const STAGES = ['enqueued', 'received', 'invoked', 'answered', 'arrived'] as const;
export type Stage = (typeof STAGES)[number];

/** One event reaching one connection at `at` (epoch ms, sub-ms precision): a post answered or a frame arrived. */
export interface Reach {
  eventId: string;
  connectionId: string;
  at: number;
}

/** Everything recorded of a run: per event its first time at each of the first three stages. */
export interface StageTimes {
  sentAt: ReadonlyMap<string, number>;
  enqueued: ReadonlyMap<string, number>;
  received: ReadonlyMap<string, number>;
  invoked: ReadonlyMap<string, number>;
  answered: readonly Reach[];
  arrived: readonly Reach[];
}

export interface StageRow {
  stage: Stage;
  /** Items measured: events for the first three stages, posts and frames for the last two. */
  count: number;
  /** From PutEvents to this stage. */
  p50: number;
  p99: number;
  /** From the stage before, for the same item (the same event; for a frame, its own post). */
  ownP50: number;
  ownP99: number;
}

function row(stage: Stage, total: number[], own: number[]): StageRow {
  return {
    stage,
    count: total.length,
    p50: quantile(total, 0.5),
    p99: quantile(total, 0.99),
    ownP50: quantile(own, 0.5),
    ownP99: quantile(own, 0.99),
  };
}

/**
 * p50/p99 per stage. Items of events that were not sent in this run (no `sentAt`) are left out; an
 * item whose previous stage was not seen counts from PutEvents but not in the stage's own time. A
 * frame's own time may be negative: the gateway writes the frame to the socket before it answers.
 */
export function splitStages(times: StageTimes): StageRow[] {
  const { sentAt } = times;
  const perEvent = (stage: Stage, at: ReadonlyMap<string, number>, before?: ReadonlyMap<string, number>) => {
    const total: number[] = [];
    const own: number[] = [];
    for (const [id, t] of at) {
      const sent = sentAt.get(id);
      if (sent === undefined) continue;
      total.push(t - sent);
      const previous = before ? before.get(id) : sent;
      if (previous !== undefined) own.push(t - previous);
    }
    return row(stage, total, own);
  };
  const perReach = (stage: Stage, reaches: readonly Reach[], before: (r: Reach) => number | undefined) => {
    const total: number[] = [];
    const own: number[] = [];
    for (const r of reaches) {
      const sent = sentAt.get(r.eventId);
      if (sent === undefined) continue;
      total.push(r.at - sent);
      const previous = before(r);
      if (previous !== undefined) own.push(r.at - previous);
    }
    return row(stage, total, own);
  };
  const answeredAt = new Map<string, number>();
  for (const r of times.answered) answeredAt.set(`${r.eventId} ${r.connectionId}`, r.at);
  return [
    perEvent('enqueued', times.enqueued),
    perEvent('received', times.received, times.enqueued),
    perEvent('invoked', times.invoked, times.received),
    perReach('answered', times.answered, (r) => times.invoked.get(r.eventId)),
    perReach('arrived', times.arrived, (r) => answeredAt.get(`${r.eventId} ${r.connectionId}`)),
  ];
}

/** The EventBridge event id of an SQS message body, if it is an EventBridge envelope (not a page or retry message). */
export function envelopeId(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || !('detail-type' in parsed) || !('id' in parsed))
      return undefined;
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/** The event id of a posted event frame (`{"type":"event","id":...}`), if it is one. */
export function frameEventId(data: Buffer | undefined): string | undefined {
  if (data === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('type' in parsed) || parsed.type !== 'event')
      return undefined;
    return 'id' in parsed && typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

const wallClock = (): number => performance.timeOrigin + performance.now();

/**
 * Collects the pipeline's timestamps while recording; between recordings its hooks return at once,
 * so the other scenarios, which share the platform, pay for a flag test only.
 */
export class StageRecorder {
  private recording = false;
  readonly enqueued = new Map<string, number>();
  readonly received = new Map<string, number>();
  readonly invoked = new Map<string, number>();
  readonly answered: Reach[] = [];

  constructor(private readonly clock: () => number = wallClock) {}

  /** Clears what an earlier recording kept and starts a new one. */
  start(): void {
    this.enqueued.clear();
    this.received.clear();
    this.invoked.clear();
    this.answered.length = 0;
    this.recording = true;
  }

  stop(): void {
    this.recording = false;
  }

  /** The first time only: a message received again (after a failure) is not the event's way in. */
  private first(map: Map<string, number>, id: string | undefined, at: number): void {
    if (id !== undefined && !map.has(id)) map.set(id, at);
  }

  readonly trace: Required<PipelineTrace> = {
    enqueued: (body: string) => {
      if (this.recording) this.first(this.enqueued, envelopeId(body), this.clock());
    },
    received: (messages: readonly Message[]) => {
      if (!this.recording) return;
      const at = this.clock();
      for (const message of messages) this.first(this.received, envelopeId(message.Body), at);
    },
    invoked: (event: unknown) => {
      if (!this.recording) return;
      const at = this.clock();
      const records =
        typeof event === 'object' && event !== null && 'Records' in event && Array.isArray(event.Records)
          ? (event.Records as unknown[])
          : [];
      for (const record of records) {
        const body =
          typeof record === 'object' && record !== null && 'body' in record && typeof record.body === 'string'
            ? record.body
            : undefined;
        this.first(this.invoked, envelopeId(body), at);
      }
    },
    answered: (call: ConnectionsCall, status: number, data: Buffer | undefined) => {
      if (!this.recording || call.method !== 'POST' || status !== 200) return;
      const at = this.clock();
      const eventId = frameEventId(data);
      if (eventId !== undefined) this.answered.push({ eventId, connectionId: call.connectionId, at });
    },
  };
}
