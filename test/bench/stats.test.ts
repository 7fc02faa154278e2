import { judge, linearFit, median, medianBy, quantile } from '../../bench/lib/stats';

describe('benchmark statistics', () => {
  it('takes quantiles by nearest rank, whatever the input order', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(quantile(values, 0.5)).toBe(5);
    expect(quantile(values, 0.95)).toBe(10);
    expect(quantile(values, 0)).toBe(1);
    expect(median([3, 1, 2])).toBe(2);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('picks the item with the median value, the lower middle one of an even count, and none of none', () => {
    const runs = [
      { run: 'a', share: 0.97 },
      { run: 'b', share: 0.91 },
      { run: 'c', share: 0.99 },
    ];
    expect(medianBy(runs, (r) => r.share)?.run).toBe('a');
    expect(medianBy(runs.slice(0, 2), (r) => r.share)?.run).toBe('b');
    expect(medianBy([], () => 0)).toBeUndefined();
  });

  it('refuses a quantile outside 0..1', () => {
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
  });

  it('fits a line and reports how straight it is', () => {
    const exact = linearFit([
      [10_000, 3],
      [50_000, 15],
      [100_000, 30],
    ]);
    expect(exact.slope).toBeCloseTo(0.0003, 10);
    expect(exact.intercept).toBeCloseTo(0, 8);
    expect(exact.r2).toBeCloseTo(1, 10);
    const bent = linearFit([
      [0, 0],
      [1, 10],
      [2, 0],
    ]);
    expect(bent.r2).toBeCloseTo(0, 10);
    expect(() => linearFit([[1, 1]])).toThrow(/two distinct x values/);
  });

  it('judges a target met or missed by its share of the bound', () => {
    expect(judge({ name: 'cpu', measured: 200, bound: 250, kind: 'max', unit: 'µs' })).toEqual({
      met: true,
      margin: 0.2,
      text: 'met (20.0 % to spare)',
    });
    const missed = judge({ name: 'share', measured: 0.45, bound: 0.9, kind: 'min', unit: '' });
    expect(missed.met).toBe(false);
    expect(missed.text).toBe('missed by 50.0 %');
    expect(judge({ name: 'x', measured: undefined, bound: 1, kind: 'min', unit: '' }).text).toBe(
      'not measured',
    );
  });
});
