/** The IPC messages between the benchmark and its client farm (bench/farm.ts). */
export type FarmRequest =
  | { type: 'open'; url: string; secret: string; count: number; topics: string[]; parallel: number }
  | { type: 'report'; eventIds: string[]; audience: number }
  | { type: 'latencies'; eventIds: string[] }
  | { type: 'arrivals'; eventIds: string[] }
  | { type: 'close' };

/** A frame of event `eventId` reached client `client` (its index) at `at` (epoch ms, sub-ms precision). */
export interface Arrival {
  eventId: string;
  client: number;
  at: number;
}

/** What the clients got of one event: the first `audience` clients should have it once each. */
export interface FrameReport {
  eventId: string;
  received: number;
  missing: number;
  /** Frames beyond the first, summed over the audience. */
  duplicates: number;
  /** Frames that reached clients outside the audience. */
  strays: number;
  /** Epoch ms (sub-ms precision) of the first and last frame of the event; 0 when none arrived. */
  firstAt: number;
  lastAt: number;
}

export type FarmReply =
  | { type: 'opened'; total: number; ms: number }
  | { type: 'reports'; reports: FrameReport[] }
  | { type: 'latencies'; values: number[] }
  | { type: 'arrivals'; arrivals: Arrival[] }
  | { type: 'closed' }
  | { type: 'error'; message: string };
