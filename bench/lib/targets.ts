/** The targets of issue 9, each computed from one run's results. */
import type { BenchResults, DeliveryRow } from './results.js';
import { linearFit, medianBy, type Target } from './stats.js';

const find = (rows: readonly DeliveryRow[], where: Partial<DeliveryRow>): DeliveryRow | undefined =>
  rows.find((row) => Object.entries(where).every(([k, v]) => row[k as keyof DeliveryRow] === v));

/**
 * The median run of `rows` by `value` (the one run, when there is one), and the name's note on how
 * many runs it was chosen from.
 */
function medianRun(
  rows: readonly DeliveryRow[],
  value: (row: DeliveryRow) => number,
): { row: DeliveryRow | undefined; note: string } {
  return { row: medianBy(rows, value), note: rows.length > 1 ? ` (median of ${rows.length} runs)` : '' };
}

export function targets(results: BenchResults): Target[] {
  const d = results.delivery;
  const big = Math.max(0, ...d.filter((r) => r.latencyMs === 0 && !r.throttle).map((r) => r.n));
  const fanout0 = find(d, { system: 'fanout', n: big, latencyMs: 0, throttle: undefined });
  const sample0 = find(d, { system: 'sample', n: big, latencyMs: 0, throttle: undefined });
  // One invocation: the whole audience in one page, as the target is worded (a smaller page makes
  // several invocations one after another, which AWS would run side by side).
  const at64 = medianRun(
    d.filter(
      (r) =>
        r.system === 'fanout' &&
        r.latencyMs === 20 &&
        r.concurrency === 64 &&
        !r.throttle &&
        r.invocations === 1,
    ),
    (r) => r.ratio ?? 0,
  );
  const out: Target[] = [
    {
      name: `CPU per delivery, in-process fan-out, N=${big.toLocaleString('en-US')}, no latency`,
      measured: fanout0?.cpuMicrosPerDelivery,
      bound: 250,
      kind: 'max',
      unit: 'µs',
    },
    {
      name: `CPU per delivery: the sample's over fan-out's, N=${big.toLocaleString('en-US')}`,
      measured:
        fanout0?.cpuMicrosPerDelivery && sample0?.cpuMicrosPerDelivery
          ? sample0.cpuMicrosPerDelivery / fanout0.cpuMicrosPerDelivery
          : undefined,
      bound: 2.5,
      kind: 'min',
      unit: '×',
    },
    {
      name: `20 ms per call, N=${(at64.row?.n ?? 0).toLocaleString('en-US')}, one invocation at concurrency 64: share of 3,200/s${at64.note}`,
      measured: at64.row?.ratio,
      bound: 0.9,
      kind: 'min',
      unit: '',
    },
  ];
  for (const rate of [1000, 300]) {
    const runs = d.filter((r) => r.system === 'pipeline' && r.throttle === rate);
    const share = medianRun(runs, (r) => r.ratio ?? 0);
    out.push({
      name: `pipeline throttled at ${rate} calls/s: share of the rate${share.note}`,
      measured: share.row?.ratio,
      bound: 0.95,
      kind: 'min',
      unit: '',
    });
    out.push({
      // Every run's, not the median's: one frame lost in any run misses the target.
      name: `pipeline throttled at ${rate} calls/s: frames lost + dead-lettered${runs.length > 1 ? `, ${runs.length} runs` : ''}`,
      measured: runs.length ? runs.reduce((sum, r) => sum + r.missing + (r.deadLettered ?? 0), 0) : undefined,
      bound: 0,
      kind: 'max',
      unit: '',
    });
  }
  const lat25 = results.latency.find((r) => r.audience === 25);
  const lat1000 = results.latency.find((r) => r.audience >= 1000);
  out.push({
    name: 'end to end, 25 subscribers at 20 events/s: p99',
    measured: lat25?.p99,
    bound: 100,
    kind: 'max',
    unit: 'ms',
  });
  out.push({
    name: `end to end, ${(lat1000?.audience ?? 1000).toLocaleString('en-US')} subscribers at 0.5 events/s: p99`,
    measured: lat1000?.p99,
    bound: 400,
    kind: 'max',
    unit: 'ms',
  });
  const large = results.large;
  const top = Math.max(0, ...large.map((r) => r.n));
  const two = large.find((r) => r.n === top && r.invocations === 2);
  const four = large.find((r) => r.n === top && r.invocations === 4);
  out.push({
    name: `${top.toLocaleString('en-US')} subscribers, 20 ms, concurrency 16: speed-up from 2 to 4 invocations`,
    measured: two && four ? two.seconds / four.seconds : undefined,
    bound: 1.7,
    kind: 'min',
    unit: '×',
  });
  const line = large.filter((r) => r.invocations === 4).map((r) => [r.n, r.seconds] as const);
  out.push({
    name: 'time to full delivery linear in N (R² of the fit, 4 invocations)',
    measured: line.length >= 2 ? linearFit(line).r2 : undefined,
    bound: 0.98,
    kind: 'min',
    unit: '',
  });
  const fanoutCold = results.coldStart.find((r) => r.name === 'fanout');
  const minimal = results.coldStart.find((r) => r.name.startsWith('minimal'));
  out.push({
    name: 'fan-out zip',
    measured: fanoutCold ? fanoutCold.zipBytes / 1024 : undefined,
    bound: 300,
    kind: 'max',
    unit: 'KiB',
  });
  out.push({
    name: 'fan-out module load over the bundled minimal handler',
    measured: fanoutCold && minimal ? fanoutCold.loadMs / minimal.loadMs : undefined,
    bound: 1.3,
    kind: 'max',
    unit: '×',
  });
  return out;
}
