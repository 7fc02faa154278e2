/** Small statistics for benchmark figures. */

/** The q-quantile (0..1) of `values` by the nearest-rank method; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  if (q < 0 || q > 1) throw new RangeError(`quantile must be within 0..1, got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/**
 * The item whose `value` is the median (the lower middle one of an even count), so that every figure
 * reported with it comes from the same run; undefined for an empty list.
 */
export function medianBy<T>(items: readonly T[], value: (item: T) => number): T | undefined {
  const sorted = [...items].sort((a, b) => value(a) - value(b));
  return sorted[Math.ceil(sorted.length / 2) - 1];
}

export interface Fit {
  /** y per unit of x. */
  slope: number;
  intercept: number;
  /** Coefficient of determination: 1 is a perfect line. */
  r2: number;
}

/** Least-squares line through `points`; needs two distinct x values. */
export function linearFit(points: readonly (readonly [number, number])[]): Fit {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  if (n < 2 || sxx === 0) throw new RangeError('a line needs at least two distinct x values');
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: my - slope * mx, r2 };
}

/** A target: `measured` must be at most (`max`) or at least (`min`) `bound`. */
export interface Target {
  name: string;
  measured: number | undefined;
  bound: number;
  kind: 'max' | 'min';
  unit: string;
}

export interface Verdict {
  met: boolean | undefined;
  /** How far from the bound, as a share of it: positive is the margin, negative the shortfall. */
  margin: number | undefined;
  text: string;
}

export function judge(target: Target): Verdict {
  const { measured, bound, kind } = target;
  if (measured === undefined || Number.isNaN(measured))
    return { met: undefined, margin: undefined, text: 'not measured' };
  const met = kind === 'max' ? measured <= bound : measured >= bound;
  // A bound of zero (nothing lost) has no share to speak of: the verdict names the excess itself.
  if (bound === 0) return { met, margin: undefined, text: met ? 'met' : `missed by ${Math.abs(measured)}` };
  const margin = kind === 'max' ? (bound - measured) / bound : (measured - bound) / bound;
  const pct = `${Math.abs(margin * 100).toFixed(margin === 0 ? 0 : 1)} %`;
  return { met, margin, text: met ? `met (${pct} to spare)` : `missed by ${pct}` };
}
