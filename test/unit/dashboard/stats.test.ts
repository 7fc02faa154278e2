import { ArrivalWindow, formatMs, percentile, WINDOW_SECONDS } from '../../../local/dashboard/stats';

/** The dashboard's chart figures (local/dashboard/stats.ts), which the page draws with uPlot. */

describe('percentile', () => {
  it('takes the nearest rank, and has none for no values', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('ArrivalWindow', () => {
  // 900 ms into a second, so that the arrivals 400 and 500 ms earlier share it.
  const now = 1_800_000_000_900;

  it('counts arrivals per second and their latency percentiles over the last minute', () => {
    const window = new ArrivalWindow();
    window.add({ at: now - 500, latencyMs: 100 });
    window.add({ at: now - 400, latencyMs: 300 });
    window.add({ at: now - 2000, latencyMs: 50 });
    const series = window.series(now);
    expect(series.seconds).toHaveLength(WINDOW_SECONDS);
    expect(series.seconds.at(-1)).toBe(Math.floor(now / 1000));
    expect(series.rate.at(-1)).toBe(2);
    expect(series.p50.at(-1)).toBe(100);
    expect(series.p99.at(-1)).toBe(300);
    expect(series.rate.at(-3)).toBe(1);
    expect(series.p50.at(-2)).toBeNull();
    expect(series.total).toEqual({ rate: 3 / WINDOW_SECONDS, p50: 100, p99: 300, count: 3 });
  });

  it('forgets what is older than the window, and everything on clear', () => {
    const window = new ArrivalWindow();
    window.add({ at: now - (WINDOW_SECONDS + 1) * 1000, latencyMs: 1 });
    expect(window.series(now).total.count).toBe(0);
    window.add({ at: now, latencyMs: 1 });
    window.clear();
    expect(window.series(now).total.count).toBe(0);
  });
});

describe('formatMs', () => {
  it('says milliseconds, seconds or minutes', () => {
    expect([formatMs(850.4), formatMs(1250), formatMs(125_000)]).toEqual(['850 ms', '1.3 s', '2 min']);
  });
});
