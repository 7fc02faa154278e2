import type { Position } from '@fanout/protocol';
import type { FanoutEvent } from '../domain/envelope.js';
import {
  type HistoryPage,
  type HistoryPointer,
  type HistoryStore,
  type Stream,
  streamKey,
} from './history.js';

export interface MemoryHistoryOptions {
  retentionSeconds: number;
  /** The clock that decides what is past the retention window (default Date.now). */
  now?: () => number;
}

/**
 * In-memory HistoryStore for unit tests and single-process use, with the guarantees of history.ts.
 * Bodies go through JSON as they would through DynamoDB.
 */
export class MemoryHistoryStore implements HistoryStore {
  readonly retentionSeconds: number;
  private readonly now: () => number;
  private readonly bodies = new Map<string, { json: string; until: number }>();
  private readonly streams = new Map<string, HistoryPointer[]>();
  private readonly remembered = new Map<string, number>();

  constructor(options: MemoryHistoryOptions) {
    this.retentionSeconds = options.retentionSeconds;
    this.now = options.now ?? Date.now;
  }

  async record(
    event: FanoutEvent,
    streams: readonly Stream[],
    position: Position,
    withBody: boolean,
  ): Promise<void> {
    const until = Number(position) + this.retentionSeconds * 1000;
    if (withBody) this.bodies.set(event.id, { json: JSON.stringify(event), until });
    for (const stream of streams) {
      const key = streamKey(stream);
      const pointers = this.streams.get(key) ?? [];
      if (!pointers.some((p) => p.position === position && p.eventId === event.id)) {
        pointers.push({ position, eventId: event.id });
        pointers.sort(byPosition);
      }
      this.streams.set(key, pointers);
    }
  }

  async read(stream: Stream, after: Position, limit: number): Promise<HistoryPage> {
    const oldest = this.now() - this.retentionSeconds * 1000;
    const pointers = (this.streams.get(streamKey(stream)) ?? []).filter(
      (p) => p.position > after && Number(p.position) >= oldest,
    );
    return { pointers: pointers.slice(0, limit), more: pointers.length > limit };
  }

  async events(eventIds: readonly string[]): Promise<FanoutEvent[]> {
    const now = this.now();
    return eventIds.flatMap((id) => {
      const body = this.bodies.get(id);
      return body && body.until >= now ? [JSON.parse(body.json) as FanoutEvent] : [];
    });
  }

  async remember(streams: readonly Stream[]): Promise<void> {
    const until = this.now() + this.retentionSeconds * 1000;
    for (const stream of streams) this.remembered.set(streamKey(stream), until);
  }

  async held(streams: readonly Stream[]): Promise<boolean[]> {
    const now = this.now();
    return streams.map((stream) => (this.remembered.get(streamKey(stream)) ?? 0) >= now);
  }
}

const byPosition = (a: HistoryPointer, b: HistoryPointer): number =>
  a.position === b.position
    ? a.eventId < b.eventId
      ? -1
      : a.eventId > b.eventId
        ? 1
        : 0
    : a.position < b.position
      ? -1
      : 1;
