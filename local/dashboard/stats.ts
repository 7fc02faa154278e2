/**
 * The dashboard's figures over the last minute, kept apart from the page so that they can be
 * tested without a browser: arrivals per second and the delivery latency's p50 and p99.
 */

/** The window the charts show. */
export const WINDOW_SECONDS = 60;

export interface Arrival {
  /** Epoch ms when the page received the event. */
  at: number;
  /** Epoch ms from the event's time to its arrival (EventBridge times have a 1-second precision). */
  latencyMs: number;
}

/** The value below which `p` of the sorted values fall (nearest rank); null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

/** uPlot's aligned data: seconds, then the series, `null` where a second had no event. */
export interface Series {
  seconds: number[];
  rate: number[];
  p50: (number | null)[];
  p99: (number | null)[];
  /** Over the whole window. */
  total: { rate: number; p50: number | null; p99: number | null; count: number };
}

/** Keeps the arrivals of the last minute and turns them into chart series. */
export class ArrivalWindow {
  private arrivals: Arrival[] = [];

  add(arrival: Arrival): void {
    this.arrivals.push(arrival);
  }

  clear(): void {
    this.arrivals = [];
  }

  /** The last WINDOW_SECONDS whole seconds up to `now`, one point each. */
  series(now: number): Series {
    const last = Math.floor(now / 1000);
    const first = last - WINDOW_SECONDS + 1;
    this.arrivals = this.arrivals.filter((a) => Math.floor(a.at / 1000) >= first);
    const perSecond = new Map<number, number[]>();
    for (const a of this.arrivals) {
      const second = Math.floor(a.at / 1000);
      const list = perSecond.get(second) ?? [];
      list.push(a.latencyMs);
      perSecond.set(second, list);
    }
    const seconds: number[] = [];
    const rate: number[] = [];
    const p50: (number | null)[] = [];
    const p99: (number | null)[] = [];
    for (let s = first; s <= last; s++) {
      const latencies = (perSecond.get(s) ?? []).sort((x, y) => x - y);
      seconds.push(s);
      rate.push(latencies.length);
      p50.push(percentile(latencies, 50));
      p99.push(percentile(latencies, 99));
    }
    const all = this.arrivals.map((a) => a.latencyMs).sort((x, y) => x - y);
    return {
      seconds,
      rate,
      p50,
      p99,
      total: {
        rate: all.length / WINDOW_SECONDS,
        p50: percentile(all, 50),
        p99: percentile(all, 99),
        count: all.length,
      },
    };
  }
}

/** `850 ms`, `1.2 s`, `3 min`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
