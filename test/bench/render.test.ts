import {
  leanPathNote,
  renderLatencyMarkdown,
  renderMarkdown,
  renderReadme,
  stageTables,
  throughputChart,
} from '../../bench/lib/render';
import type { BenchResults } from '../../bench/lib/results';
import { targets } from '../../bench/lib/targets';

const results: BenchResults = {
  mode: 'quick',
  date: '2026-12-02T00:00:00Z',
  commit: 'abc1234',
  machine: { cpu: 'Test CPU', cores: 2, memoryGb: 8, node: 'v20', os: 'Linux', loadStart: 1, loadEnd: 2 },
  seconds: 100,
  delivery: [
    {
      system: 'fanout',
      n: 1000,
      latencyMs: 0,
      concurrency: 32,
      seconds: 1,
      delivered: 1000,
      missing: 0,
      duplicates: 0,
      rate: 1000,
      cpuMicrosPerDelivery: 200,
    },
    {
      system: 'sample',
      n: 1000,
      latencyMs: 0,
      concurrency: 1000,
      seconds: 2,
      delivered: 1000,
      missing: 0,
      duplicates: 0,
      rate: 500,
      cpuMicrosPerDelivery: 600,
    },
    {
      system: 'fanout',
      n: 1000,
      latencyMs: 20,
      concurrency: 64,
      pageSize: 250,
      seconds: 0.8,
      delivered: 1000,
      missing: 0,
      duplicates: 0,
      rate: 1250,
      limit: 3200,
      ratio: 0.39,
      invocations: 4,
    },
    {
      system: 'fanout',
      n: 1000,
      latencyMs: 20,
      concurrency: 64,
      seconds: 0.5,
      delivered: 1000,
      missing: 0,
      duplicates: 0,
      rate: 2000,
      limit: 3200,
      ratio: 0.625,
      invocations: 1,
    },
    {
      system: 'pipeline',
      n: 1000,
      latencyMs: 0,
      throttle: 300,
      concurrency: 32,
      seconds: 4,
      delivered: 990,
      missing: 10,
      duplicates: 0,
      rate: 247.5,
      limit: 300,
      ratio: 0.825,
      deadLettered: 2,
      throttledCalls: 1234,
    },
  ],
  latency: [
    {
      audience: 25,
      perSecond: 20,
      events: 60,
      frames: 1500,
      missing: 0,
      duplicates: 0,
      p50: 20,
      p95: 40,
      p99: 90,
      max: 120,
      stages: [
        { stage: 'enqueued', count: 60, p50: 3, p99: 9, ownP50: 3, ownP99: 9 },
        { stage: 'received', count: 60, p50: 4, p99: 12, ownP50: 1, ownP99: 3 },
        { stage: 'invoked', count: 60, p50: 5, p99: 13, ownP50: 0.5, ownP99: 1.5 },
        { stage: 'answered', count: 1500, p50: 19, p99: 88, ownP50: 14, ownP99: 75 },
        { stage: 'arrived', count: 1500, p50: 20, p99: 90, ownP50: -0.2, ownP99: 2 },
      ],
    },
  ],
  large: [
    {
      n: 1000,
      invocations: 4,
      concurrency: 16,
      latencyMs: 20,
      seconds: 1,
      delivered: 1000,
      missing: 0,
      duplicates: 0,
      batches: 1,
      maxInFlight: 1,
      rate: 1000,
      limit: 3200,
    },
    {
      n: 4000,
      invocations: 4,
      concurrency: 16,
      latencyMs: 20,
      seconds: 4,
      delivered: 4000,
      missing: 0,
      duplicates: 0,
      batches: 4,
      maxInFlight: 4,
      rate: 1000,
      limit: 3200,
    },
    {
      n: 4000,
      invocations: 2,
      concurrency: 16,
      latencyMs: 20,
      seconds: 6,
      delivered: 4000,
      missing: 0,
      duplicates: 0,
      batches: 4,
      maxInFlight: 2,
      rate: 667,
      limit: 1600,
    },
  ],
  coldStart: [
    { name: 'fanout', zipBytes: 150 * 1024, loadMs: 120 },
    { name: 'minimal (bench/minimal)', zipBytes: 110 * 1024, loadMs: 100 },
  ],
};

describe('benchmark results rendering', () => {
  it('computes every target from the run, with its verdict', () => {
    const byName = Object.fromEntries(targets(results).map((t) => [t.name, t.measured]));
    expect(byName['CPU per delivery, in-process fan-out, N=1,000, no latency']).toBe(200);
    expect(byName["CPU per delivery: the sample's over fan-out's, N=1,000"]).toBe(3);
    expect(byName['20 ms per call, N=1,000, one invocation at concurrency 64: share of 3,200/s']).toBe(0.625);
    expect(byName['pipeline throttled at 300 calls/s: frames lost + dead-lettered']).toBe(12);
    expect(byName['4,000 subscribers, 20 ms, concurrency 16: speed-up from 2 to 4 invocations']).toBe(1.5);
    expect(byName['time to full delivery linear in N (R² of the fit, 4 invocations)']).toBeCloseTo(1, 10);
    expect(byName['fan-out module load over the bundled minimal handler']).toBeCloseTo(1.2, 10);
    expect(byName['end to end, 1,000 subscribers at 0.5 events/s: p99']).toBeUndefined();
  });

  it("reads the median of several runs of a case, names how many, and counts every run's losses", () => {
    const pipeline = results.delivery.find((d) => d.system === 'pipeline');
    const at64 = results.delivery.find((d) => d.concurrency === 64 && d.invocations === 1);
    if (!pipeline || !at64) throw new Error('fixture rows missing');
    const throttled = [0.96, 0.9, 0.99].map((ratio, i) => ({
      ...pipeline,
      ratio,
      missing: i,
      deadLettered: 1,
      run: { index: i + 1, of: 3 },
    }));
    const fast = [0.93, 0.95, 0.8].map((ratio, i) => ({ ...at64, ratio, run: { index: i + 1, of: 3 } }));
    const runs = {
      ...results,
      delivery: [...results.delivery.filter((d) => d !== pipeline && d !== at64), ...throttled, ...fast],
    };
    const byName = Object.fromEntries(targets(runs).map((t) => [t.name, t.measured]));
    expect(byName['pipeline throttled at 300 calls/s: share of the rate (median of 3 runs)']).toBe(0.96);
    expect(byName['pipeline throttled at 300 calls/s: frames lost + dead-lettered, 3 runs']).toBe(6);
    expect(
      byName[
        '20 ms per call, N=1,000, one invocation at concurrency 64: share of 3,200/s (median of 3 runs)'
      ],
    ).toBe(0.93);
    expect(renderMarkdown(runs)).toContain('| fanout, whole local pipeline (run 2 of 3) |');
  });

  it('writes the machine, the date, the commit and each table', () => {
    const md = renderMarkdown(results);
    expect(md).toContain('2026-12-02T00:00:00Z at commit `abc1234`');
    expect(md).toContain('Test CPU, 2 cores');
    expect(md).not.toContain('stolen');
    expect(renderMarkdown({ ...results, machine: { ...results.machine, stolenPercent: 12.34 } })).toContain(
      '12.3 % of the CPU time stolen by the hypervisor during the run',
    );
    expect(md).toMatch(/CPU per delivery, in-process fan-out.*met \(20\.0 % to spare\)/);
    expect(md).toMatch(/speed-up from 2 to 4 invocations.*missed by 11\.8 %/);
    expect(md).toContain('not measured');
    expect(md).toContain('Slope at 4 invocations: 1,000.0 s per million subscribers');
    expect(renderReadme(results)).toContain('bench/results/throughput.svg');
  });

  it('shows the calls a throttle refused for throttled rows, and a dash for the others', () => {
    const md = renderMarkdown(results);
    expect(md).toMatch(/\| 2 +\| 1,234 +\|/);
    expect(md).toMatch(/\| 200 µs +\| — +\| — +\|/);
  });

  it('names the invocations an in-process run took in turn, and its page size where the case set it', () => {
    const md = renderMarkdown(results);
    expect(md).toContain('| 64 (4 invocations in turn, pages of 250) |');
    expect(md).toMatch(/\| 64 \(1 invocation\) +\|/);
  });

  it("names the pipeline's parallel invocations beside its concurrency, since its limit counts them", () => {
    const parallel = {
      ...results,
      delivery: [
        {
          system: 'pipeline',
          n: 10_000,
          latencyMs: 20,
          concurrency: 32,
          parallel: 4,
          seconds: 2,
          delivered: 10_000,
          missing: 0,
          duplicates: 0,
          rate: 5000,
          limit: 6400,
          ratio: 0.78,
        },
      ],
    };
    expect(renderMarkdown(parallel)).toMatch(/\| 32 × 4 invocations +\| 2.00 s .*\| 6,400\/s +\| 0.78 /);
  });

  it('charts throughput against latency for the smallest audience, one series per system', () => {
    const svg = throughputChart(results) ?? '';
    expect(svg).toContain('N = 1,000');
    expect(svg).toContain('fanout bundle, in-process');
    // The concurrency-64 run is a target of its own, not a point of the latency curve.
    expect(svg.match(/<circle /g)).toHaveLength(2);
  });

  it('splits the latency by stage, saying whose time each stage is', () => {
    const md = renderMarkdown(results);
    expect(md).toContain('### Where the time goes');
    const tables = stageTables(results);
    expect(tables).toContain('25 subscribers at 20.0 events/s:');
    expect(tables).toMatch(
      /→ post answered by the gateway +\| 19 ms +\| 88 ms +\| 14.0 ms +\| 75.0 ms +\| 1,500 +\| fanout's own/,
    );
    expect(tables).toMatch(/PutEvents → message in the SQS queue .*\| emulated AWS/);
    expect(tables).toContain('-0.2 ms');
  });

  it('leaves a latency row without a stage split out of the stage tables', () => {
    const [row] = results.latency;
    if (!row) throw new Error('no latency row');
    const { stages: _, ...bare } = row;
    expect(stageTables({ latency: [bare] })).toBe('');
  });

  it('writes the latency-only run with its own command, its table and the stage split', () => {
    const md = renderLatencyMarkdown({ ...results, latency: results.latency });
    expect(md).toContain('Run: `tsx bench/main.ts --only latency --quick` on 2026-12-02T00:00:00Z');
    expect(md).toContain('| 25          | 20.0     |');
    expect(md).toContain('→ frame at the client');
    expect(md).not.toContain('Large audiences');
  });

  it('compares the plain SDK client with the lean path only where both ran the same case', () => {
    const lean = results.delivery.filter((d) => d.system === 'fanout');
    const sdk = lean.map((d) => ({
      ...d,
      system: 'fanout-sdk',
      ...(d.cpuMicrosPerDelivery ? { cpuMicrosPerDelivery: d.cpuMicrosPerDelivery * 3 } : {}),
      ...(d.ratio === undefined ? {} : { ratio: d.ratio / 2 }),
    }));
    const note = leanPathNote({ delivery: [...lean, ...sdk] });
    expect(note).toContain(
      "at N=1,000, 0 ms, concurrency 32 the SDK client spends 600 µs per delivery, 3.00 × the lean path's 200 µs",
    );
    expect(note).toContain(
      'at N=1,000, 20 ms, concurrency 64 it reaches 0.31 of the limit where the lean path reaches 0.63',
    );
    expect(renderMarkdown({ ...results, delivery: [...results.delivery, ...sdk] })).toContain(note);
    // Without a lean row of the same case there is nothing to compare.
    expect(leanPathNote({ delivery: sdk.map((d) => ({ ...d, concurrency: 16 })) })).toBe('');
    expect(leanPathNote(results)).toBe('');
  });

  it("compares the plain SDK client with the lean path's median run where the lean path ran several", () => {
    const at64 = results.delivery.find((d) => d.concurrency === 64 && d.invocations === 1);
    if (!at64) throw new Error('fixture row missing');
    const lean = [0.9, 0.6, 0.8].map((ratio, i) => ({ ...at64, ratio, run: { index: i + 1, of: 3 } }));
    const sdk = { ...at64, system: 'fanout-sdk', ratio: 0.4 };
    expect(leanPathNote({ delivery: [...lean, sdk] })).toContain(
      'it reaches 0.40 of the limit where the lean path reaches 0.80',
    );
  });
});
