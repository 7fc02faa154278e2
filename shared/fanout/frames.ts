import { type EventFrame, MAX_MESSAGE_BYTES, type Position } from '@fanout/protocol';
import type { AudienceSource } from '../domain/audience.js';
import type { FanoutEvent } from '../domain/envelope.js';

/**
 * The server → client frame (`EventFrame` in @fanout/protocol) for one audience source, in the
 * documented field order; `position` is the delivery page's, when history is kept.
 */
export function eventFrame(event: FanoutEvent, source: AudienceSource, position?: Position): EventFrame {
  const common = {
    source: event.source,
    detailType: event.detailType,
    time: event.time,
    ...(position === undefined ? {} : { position }),
    data: event.data,
  };
  return source.kind === 'pattern'
    ? { type: 'event', id: event.id, topic: source.topic, subscription: source.pattern, ...common }
    : { type: 'event', id: event.id, user: source.userId, ...common };
}

/**
 * The encoded frames of one event, one per audience source, each built at most once and shared by
 * every post to that source's connections. `data` is stringified once per event and spliced into each
 * source's header, so a large payload costs one JSON.stringify however many sources the event has.
 */
export class EventFrames {
  private readonly dataJson: string | undefined;
  private readonly dataBytes: number;
  private readonly headers = new Map<number, string>();
  private readonly encoded = new Map<number, Uint8Array>();
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly event: FanoutEvent,
    private readonly sources: readonly AudienceSource[],
    private readonly position?: Position,
  ) {
    this.dataJson = JSON.stringify(event.data);
    this.dataBytes = this.dataJson === undefined ? 0 : Buffer.byteLength(this.dataJson) + ',"data":'.length;
  }

  /** Encoded size of source `index`'s frame, without encoding it. */
  size(index: number): number {
    return Buffer.byteLength(this.header(index)) + this.dataBytes + '}'.length;
  }

  /** The first of `indexes` whose frame is over the WebSocket message limit, if any. */
  oversized(indexes: Iterable<number>): { index: number; bytes: number } | undefined {
    for (const index of indexes) {
      const bytes = this.size(index);
      if (bytes > MAX_MESSAGE_BYTES) return { index, bytes };
    }
    return undefined;
  }

  get(index: number): Uint8Array {
    let bytes = this.encoded.get(index);
    if (!bytes) {
      const header = this.header(index);
      const json = this.dataJson === undefined ? `${header}}` : `${header},"data":${this.dataJson}}`;
      bytes = this.encoder.encode(json);
      this.encoded.set(index, bytes);
    }
    return bytes;
  }

  /** The frame's JSON without `data` and without the closing brace. */
  private header(index: number): string {
    let header = this.headers.get(index);
    if (header === undefined) {
      const source = this.sources[index];
      if (!source) throw new RangeError(`event ${this.event.id} has no audience source ${index}`);
      const { data: _data, ...rest } = eventFrame(this.event, source, this.position);
      header = JSON.stringify(rest).slice(0, -1);
      this.headers.set(index, header);
    }
    return header;
  }
}
