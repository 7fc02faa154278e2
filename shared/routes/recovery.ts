import {
  type EventFrame,
  MAX_MESSAGE_BYTES,
  matches,
  type Position,
  positionAt,
  positionTime,
} from '@fanout/protocol';
import type { FanoutEvent } from '../domain/envelope.js';
import { eventFrame } from '../fanout/frames.js';
import { type ConnectionGateway, isGatewayError } from '../gateway/gateway.js';
import type { Log } from '../observability/ports.js';
import type { HistoryPointer, HistoryStore, Stream } from '../store/history.js';

/**
 * Recovery: what a connection missed while it was away, sent to it again from the history
 * (docs/architecture.md, "Recovery"). The client names, per stream, the last position it received;
 * every event delivered on that stream from that position less `marginMs` on is sent again, in
 * position order, packed into `events` frames. The margin covers how far a delivery page's posts
 * may trail its position; what the client already has, it drops by event id.
 *
 * Recovery is refused, never partial: when a position is older than the retention window, or more
 * events were missed than `maxEvents`, the client is told `recovered: false` and reloads its state.
 */
/** How far the clocks of the functions writing and reading positions may disagree (NTP-synced). */
export const CLOCK_SKEW_MS = 2_000;

/**
 * How far a post may trail its page's position: the page starts posts for `maxPageSeconds`, each
 * may take `requestTimeoutMs`, and the two clocks may disagree by CLOCK_SKEW_MS.
 */
export const recoveryMarginMs = (maxPageSeconds: number, requestTimeoutMs: number): number =>
  maxPageSeconds * 1000 + requestTimeoutMs + CLOCK_SKEW_MS;

export interface RecoveryDeps {
  history: HistoryStore;
  gateway: ConnectionGateway;
  log: Log;
  /**
   * How far before a position to read back: the fan-out's longest page, plus its longest post, plus
   * clock skew (`recoveryMarginMs`). Also how long deliveries begun before a subscription may trail it.
   */
  marginMs: number;
  /** The most events one recovery sends again. */
  maxEvents: number;
  now?: () => number;
}

export interface RecoveryRequest {
  connectionId: string;
  /** Each stream to recover and the last position the client received on it. */
  streams: readonly { stream: Stream; since: Position }[];
}

export type RecoveryOutcome =
  | { recovered: true; missed: number }
  | { recovered: false; reason: 'no_history' | 'too_old' | 'too_many' | 'expired' | 'gone' };

interface Missed {
  pointer: HistoryPointer;
  stream: Stream;
}

export async function recover(deps: RecoveryDeps, request: RecoveryRequest): Promise<RecoveryOutcome> {
  const { history } = deps;
  const now = (deps.now ?? Date.now)();
  if (history.retentionSeconds === 0) return { recovered: false, reason: 'no_history' };
  const oldest = now - history.retentionSeconds * 1000;
  if (request.streams.some(({ since }) => positionTime(since) < oldest))
    return { recovered: false, reason: 'too_old' };

  const missed: Missed[] = [];
  for (const { stream, since } of request.streams) {
    const from = positionAt(Math.max(0, positionTime(since) - deps.marginMs));
    const page = await history.read(stream, from, deps.maxEvents);
    if (page.more) return { recovered: false, reason: 'too_many' };
    for (const pointer of page.pointers) missed.push({ pointer, stream });
  }
  // One copy of each event, at its earliest position, oldest first.
  missed.sort((a, b) => compare(a.pointer, b.pointer));
  const unique = new Map<string, Missed>();
  for (const entry of missed)
    if (!unique.has(entry.pointer.eventId)) unique.set(entry.pointer.eventId, entry);
  if (unique.size > deps.maxEvents) return { recovered: false, reason: 'too_many' };
  if (unique.size === 0) return { recovered: true, missed: 0 };

  const bodies = new Map((await history.events([...unique.keys()])).map((event) => [event.id, event]));
  if (bodies.size < unique.size) return { recovered: false, reason: 'expired' };
  const frames: EventFrame[] = [];
  for (const { pointer, stream } of unique.values()) {
    const event = bodies.get(pointer.eventId);
    const frame = event && replayFrame(event, stream, pointer.position);
    if (frame) frames.push(frame);
  }

  const encoder = new TextEncoder();
  for (const batch of pack(frames)) {
    try {
      await deps.gateway.post(request.connectionId, encoder.encode(batch));
    } catch (err) {
      if (isGatewayError(err) && err.kind === 'gone') return { recovered: false, reason: 'gone' };
      throw err;
    }
  }
  deps.log.info('recovered missed events', { connectionId: request.connectionId, missed: frames.length });
  return { recovered: true, missed: frames.length };
}

const compare = (a: HistoryPointer, b: HistoryPointer): number =>
  a.position === b.position
    ? a.eventId < b.eventId
      ? -1
      : a.eventId > b.eventId
        ? 1
        : 0
    : a.position < b.position
      ? -1
      : 1;

/** The frame the connection would have received live on `stream`. */
function replayFrame(event: FanoutEvent, stream: Stream, position: Position): EventFrame | undefined {
  if (stream.kind === 'user') return eventFrame(event, { kind: 'user', userId: stream.userId }, position);
  const topic = event.topics.find((t) => matches(stream.pattern, t));
  return topic === undefined
    ? undefined
    : eventFrame(event, { kind: 'pattern', pattern: stream.pattern, topic }, position);
}

/**
 * `events` frames (`EventsFrame` in @fanout/protocol) of at most the WebSocket message limit, in
 * order; a frame too large for any company goes alone.
 */
function pack(frames: readonly EventFrame[]): string[] {
  const head = '{"type":"events","events":[';
  const tail = ']}';
  const out: string[] = [];
  let parts: string[] = [];
  let bytes = head.length + tail.length;
  for (const frame of frames) {
    const json = JSON.stringify(frame);
    const size = Buffer.byteLength(json) + (parts.length > 0 ? 1 : 0);
    if (parts.length > 0 && bytes + size > MAX_MESSAGE_BYTES) {
      out.push(`${head}${parts.join(',')}${tail}`);
      parts = [];
      bytes = head.length + tail.length;
    }
    parts.push(json);
    bytes += Buffer.byteLength(json) + (parts.length > 1 ? 1 : 0);
  }
  if (parts.length > 0) out.push(`${head}${parts.join(',')}${tail}`);
  return out;
}
