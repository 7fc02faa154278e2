/** bench/results/latest.md, the README's excerpt and the charts, from one run's results. */

import { WARM_UP } from './deliverer-protocol.js';
import { num, table } from './markdown.js';
import type { BenchResults, DeliveryRow, LatencyResults, RunInfo } from './results.js';
import type { Stage } from './stages.js';
import { judge, linearFit, medianBy, type Target } from './stats.js';
import { type ChartSpec, lineChart } from './svg.js';
import { targets } from './targets.js';

const SYSTEM_NAMES: Record<string, string> = {
  pipeline: 'fanout, whole local pipeline',
  fanout: 'fanout bundle, in-process',
  'fanout-sdk': 'fanout bundle with the plain SDK client, in-process',
  sample: 'AWS chat sample (Scan + Promise.all)',
  sequential: 'sequential awaits',
};

export function header(r: RunInfo, command = r.mode === 'quick' ? 'make bench-quick' : 'make bench'): string {
  const m = r.machine;
  return [
    `Run: \`${command}\` on ${r.date} at commit \`${r.commit}\`, ${num(r.seconds)} s.`,
    `Machine: ${m.cpu}, ${m.cores} cores, ${num(m.memoryGb, 1)} GB, ${m.os}, Node ${m.node}; load average ${num(m.loadStart, 1)} at the start, ${num(m.loadEnd, 1)} at the end${m.stolenPercent === undefined ? '' : `, ${num(m.stolenPercent, 1)} % of the CPU time stolen by the hypervisor during the run`} (the cores are shared: other work slows every figure).`,
  ].join('\n');
}

export function targetsTable(list: readonly Target[]): string {
  return table(
    ['target', 'measured', 'bound', 'verdict'],
    list.map((t) => {
      const v = judge(t);
      const digits = t.unit === 'µs' || t.unit === 'ms' || t.unit === 'KiB' ? 0 : 2;
      return [
        t.name,
        `${num(t.measured, digits)}${t.unit ? ` ${t.unit}` : ''}`,
        `${t.kind === 'max' ? '≤' : '≥'} ${num(t.bound, digits)}${t.unit ? ` ${t.unit}` : ''}`,
        v.text,
      ];
    }),
  );
}

export function deliveryTable(r: BenchResults): string {
  return table(
    [
      'system',
      'N',
      'injected',
      'concurrency',
      'time to last frame',
      'delivered',
      'lost',
      'duplicated',
      'deliveries/s',
      'limit',
      'share of limit',
      'CPU / delivery',
      'dead-lettered',
      'calls throttled',
    ],
    r.delivery.map((d) => [
      `${SYSTEM_NAMES[d.system] ?? d.system}${d.run ? ` (run ${d.run.index} of ${d.run.of})` : ''}`,
      num(d.n),
      `${d.latencyMs} ms${d.throttle ? `, throttle ${num(d.throttle)}/s` : ''}`,
      concurrencyCell(d),
      `${num(d.seconds, 2)} s`,
      num(d.delivered),
      num(d.missing),
      num(d.duplicates),
      num(d.rate),
      d.limit ? `${num(d.limit)}/s` : '—',
      num(d.ratio, 2),
      d.cpuMicrosPerDelivery === undefined ? '—' : `${num(d.cpuMicrosPerDelivery)} µs`,
      d.deadLettered === undefined ? '—' : num(d.deadLettered),
      d.throttledCalls === undefined ? '—' : num(d.throttledCalls),
    ]),
  );
}

/**
 * The lean `@connections` path against the plain SDK client, from the rows where both ran (same
 * bundle composition, bench/fanout-sdk): CPU per delivery without latency, share of the limit with it.
 */
export function leanPathNote(r: Pick<BenchResults, 'delivery'>): string {
  const pairs = r.delivery.flatMap((sdk) => {
    if (sdk.system !== 'fanout-sdk') return [];
    const runs = r.delivery.filter(
      (d) =>
        d.system === 'fanout' &&
        d.n === sdk.n &&
        d.latencyMs === sdk.latencyMs &&
        d.throttle === sdk.throttle &&
        d.concurrency === sdk.concurrency &&
        d.pageSize === sdk.pageSize,
    );
    // Several runs of the lean path: its median one, by the figure compared.
    const lean = medianBy(runs, (d) => (sdk.latencyMs === 0 ? d.cpuMicrosPerDelivery : d.ratio) ?? 0);
    return lean ? [{ lean, sdk }] : [];
  });
  const parts = pairs.flatMap(({ lean, sdk }) => {
    const at = `N=${num(sdk.n)}, ${sdk.latencyMs} ms, concurrency ${num(sdk.concurrency)}`;
    if (sdk.latencyMs === 0 && lean.cpuMicrosPerDelivery && sdk.cpuMicrosPerDelivery) {
      const times = sdk.cpuMicrosPerDelivery / lean.cpuMicrosPerDelivery;
      return [
        `at ${at} the SDK client spends ${num(sdk.cpuMicrosPerDelivery)} µs per delivery, ${num(times, 2)} × the lean path's ${num(lean.cpuMicrosPerDelivery)} µs`,
      ];
    }
    if (lean.ratio !== undefined && sdk.ratio !== undefined) {
      return [
        `at ${at} it reaches ${num(sdk.ratio, 2)} of the limit where the lean path reaches ${num(lean.ratio, 2)}`,
      ];
    }
    return [];
  });
  if (parts.length === 0) return '';
  return `The plain SDK client against the lean signed path (the same function built with \`ApiGatewayManagementApiClient\` instead, bench/fanout-sdk): ${parts.join('; ')}.`;
}

/** A paragraph and the blank line after it, or nothing for an empty one. */
const paragraph = (text: string): string[] => (text ? [text, ''] : []);

/**
 * Concurrency, and the invocations that posted with it: at once for the pipeline, one after another
 * for an in-process run (its page messages come back to it in turn).
 */
function concurrencyCell(d: DeliveryRow): string {
  if (d.parallel && d.parallel > 1) return `${num(d.concurrency)} × ${d.parallel} invocations`;
  if (d.invocations === undefined || d.system === 'sample' || d.system === 'sequential')
    return num(d.concurrency);
  const page = d.pageSize ? `, pages of ${num(d.pageSize)}` : '';
  const turns = d.invocations === 1 ? '1 invocation' : `${d.invocations} invocations in turn`;
  return `${num(d.concurrency)} (${turns}${page})`;
}

export function latencyTable(r: Pick<BenchResults, 'latency'>): string {
  return table(
    ['subscribers', 'events/s', 'events', 'frames', 'lost', 'duplicated', 'p50', 'p95', 'p99', 'max'],
    r.latency.map((l) => [
      num(l.audience),
      num(l.perSecond, 1),
      num(l.events),
      num(l.frames),
      num(l.missing),
      num(l.duplicates),
      `${num(l.p50)} ms`,
      `${num(l.p95)} ms`,
      `${num(l.p99)} ms`,
      `${num(l.max)} ms`,
    ]),
  );
}

/** What each stage is, and whose time it is: emulated AWS behaviour or fanout's own work. */
export const STAGE_NOTES: Record<Stage, { what: string; whose: string }> = {
  enqueued: {
    what: 'PutEvents → message in the SQS queue',
    whose: 'emulated AWS: the rule matches and sends to SQS off the PutEvents path',
  },
  received: {
    what: '→ received by the event source mapping',
    whose:
      "emulated AWS: a long poll answers as a message arrives; a wait for a busy batch slot is the fan-out falling behind (fanout's own)",
  },
  invoked: {
    what: '→ fan-out invocation starts',
    whose: 'emulated AWS: batching window 0 (functions.json), a warm environment',
  },
  answered: {
    what: '→ post answered by the gateway',
    whose: "fanout's own: audience read, history write, signing and posting (no latency injected)",
  },
  arrived: {
    what: '→ frame at the client',
    whose: "emulated AWS: the gateway's socket write, done before it answers the post",
  },
};

/** One table per latency row that has a stage split: p50/p99 from PutEvents and since the stage before. */
export function stageTables(r: Pick<BenchResults, 'latency'>): string {
  return r.latency
    .filter((l) => l.stages && l.stages.length > 0)
    .map((l) =>
      [
        `${num(l.audience)} subscribers at ${num(l.perSecond, 1)} events/s:`,
        '',
        table(
          ['stage', 'p50', 'p99', 'own p50', 'own p99', 'measured', 'whose time'],
          (l.stages ?? []).map((s) => [
            STAGE_NOTES[s.stage].what,
            `${num(s.p50)} ms`,
            `${num(s.p99)} ms`,
            `${num(s.ownP50, 1)} ms`,
            `${num(s.ownP99, 1)} ms`,
            num(s.count),
            STAGE_NOTES[s.stage].whose,
          ]),
        ),
      ].join('\n'),
    )
    .join('\n\n');
}

export const STAGE_NOTE =
  'Per stage: the time from PutEvents (p50, p99) and from the stage before for the same item (own: the same event; for a frame, its own post), over events for the first three stages and over posts and frames for the last two. The timestamps come from hooks of the local components (PipelineTrace in local/dev/platform.ts) and the client farm, all on one clock.';

export function largeTable(r: BenchResults): string {
  const four = r.large.filter((l) => l.invocations === 4).map((l) => [l.n, l.seconds] as const);
  const fit = four.length >= 2 ? linearFit(four) : undefined;
  return [
    table(
      [
        'subscribers',
        'parallel invocations',
        'concurrency each',
        'injected',
        'time to full delivery',
        'delivered',
        'lost',
        'duplicated',
        'batches',
        'deliveries/s',
        'limit',
        'share',
      ],
      r.large.map((l) => [
        num(l.n),
        num(l.invocations),
        num(l.concurrency),
        `${l.latencyMs} ms`,
        `${num(l.seconds, 2)} s`,
        num(l.delivered),
        num(l.missing),
        num(l.duplicates),
        num(l.batches),
        num(l.rate),
        `${num(l.limit)}/s`,
        num(l.rate / l.limit, 2),
      ]),
    ),
    fit
      ? `\nSlope at 4 invocations: ${num(fit.slope * 1e6, 1)} s per million subscribers (R² ${num(fit.r2, 3)}, intercept ${num(fit.intercept, 2)} s).`
      : '',
  ].join('\n');
}

export function coldStartTable(r: BenchResults): string {
  const minimal = r.coldStart.find((c) => c.name.startsWith('minimal'));
  return table(
    ['bundle', 'zip', 'module load (median of fresh processes)', 'over minimal'],
    r.coldStart.map((c) => [
      c.name,
      `${num(c.zipBytes / 1024)} KiB`,
      `${num(c.loadMs, 1)} ms`,
      minimal ? `${num(c.loadMs / minimal.loadMs, 2)}×` : '—',
    ]),
  );
}

export function throughputChart(r: BenchResults): string | undefined {
  const rows = r.delivery.filter((d) => !d.throttle);
  const n = Math.min(...rows.map((d) => d.n));
  const systems = [...new Set(rows.map((d) => d.system))];
  const series = systems
    .map((system) => ({
      name: SYSTEM_NAMES[system] ?? system,
      points: rows
        .filter((d) => d.system === system && d.n === n && d.concurrency !== 64)
        .map((d) => [d.latencyMs, d.rate] as const),
    }))
    .filter((s) => s.points.length > 0);
  if (series.length === 0) return undefined;
  const spec: ChartSpec = {
    title: `Throughput against injected latency (N = ${num(n)})`,
    xLabel: 'latency injected per @connections call (ms)',
    yLabel: 'deliveries per second',
    series,
  };
  return lineChart(spec);
}

export function audienceChart(r: BenchResults): string | undefined {
  if (r.large.length === 0) return undefined;
  const series = [...new Set(r.large.map((l) => l.invocations))].sort().map((k) => ({
    name: `${k} parallel invocations`,
    points: r.large.filter((l) => l.invocations === k).map((l) => [l.n, l.seconds] as const),
  }));
  return lineChart({
    title: 'Delivery time against audience size (20 ms per call)',
    xLabel: 'subscribers on one topic',
    yLabel: 'seconds to full delivery',
    series,
  });
}

export const EMULATION_NOTE = [
  'What part of the latency is emulated AWS behaviour: the poller long-polls SQS, and a long poll answers as soon as a message is there (AWS pages "Setting-up long polling in Amazon SQS", "Using the appropriate polling mode in Amazon SQS");',
  'it invokes as soon as a receive returns records (MaximumBatchingWindowInSeconds 0, the SQS default, as functions.json sets: Lambda API "EventSourceMapping", MaximumBatchingWindowInSeconds), with at most `maximum_concurrency` invocations at once ("ScalingConfig"; capped at 4 locally, for 2 cores);',
  'EventBridge delivers to SQS off the PutEvents path without a delay; the injected `@connections` latency stands for the round trip to API Gateway. Everything else in the figures — reading the',
  "audience, writing the history, building and signing posts, page and retry messages — is fanout's own work, on a shared 2-core machine where AWS would give each invocation its own vCPU share;",
  'the local stand-ins (gateway, IAM guard, dynalite, fauxqs, the client farm) use the same 2 cores, so on a loaded machine every stage waits for CPU, and a stage that waits for a free batch slot shows the fan-out falling behind, not an AWS delay.',
].join(' ');

export function renderMarkdown(r: BenchResults): string {
  const list = targets(r);
  return [
    '# Benchmark results',
    '',
    header(r),
    '',
    '## Targets (issue 9)',
    '',
    targetsTable(list),
    '',
    '## Delivery throughput: one event to N subscribers (real sockets)',
    '',
    "Time runs from PutEvents (pipeline) or the start of the delivering process's run (the others) to the last frame at the clients. CPU is the delivering process's own `process.cpuUsage()` during the run (each system runs in a child process of its own: Node 20 has no thread CPU clock). Each child first delivers one untimed event to " +
      String(WARM_UP.audience) +
      " subscribers, with no latency or throttle, so its code is compiled and its connections are open, as in a Lambda environment that served an earlier event; neither its time nor its CPU is counted. The pipeline's function runs in a worker thread of the platform process, whose CPU is not separable, so it shows none. The limit is concurrency over the injected latency, times the invocations posting at once: the pipeline hands every audience page past the first to another invocation, so it runs min(pages, the poller's maximum concurrency) of them (shown beside its concurrency). Lost and duplicated frames are counted per client; calls throttled are the posts the account's token bucket answered 429 (each a request the delivering function made and waited on, retried at its paced slot or after a backoff). A system that ran a case more than once has a row per run (run i of n); a target on that case reads the median run, and counts the losses of all. Subscriptions are written as the store writes them; connections are opened through the real `$connect` route.",
    '',
    deliveryTable(r),
    '',
    ...paragraph(leanPathNote(r)),
    '![throughput against latency](throughput.svg)',
    '',
    '## End-to-end latency: PutEvents to frame',
    '',
    latencyTable(r),
    '',
    EMULATION_NOTE,
    '',
    '### Where the time goes',
    '',
    STAGE_NOTE,
    '',
    stageTables(r),
    '',
    '## Large audiences (socket-less counting connections, the whole pipeline)',
    '',
    largeTable(r),
    '',
    '![delivery time against audience size](audience.svg)',
    '',
    '## Cold start',
    '',
    'Module load is the time a fresh Node process takes to import the bundle, as a Lambda init does; the median of several rounds, each loading every bundle once in turn, so that a slow spell of the shared machine slows them alike. The fan-out function built with the plain SDK `@connections` client (bench/fanout-sdk) is loaded beside it, to show what the lean signed path changes at load.',
    '',
    coldStartTable(r),
    '',
  ].join('\n');
}

/** `--only latency`: the latency section alone, with its run's header. */
export function renderLatencyMarkdown(r: LatencyResults): string {
  return [
    '# End-to-end latency: PutEvents to frame',
    '',
    header(r, `tsx bench/main.ts --only latency${r.mode === 'quick' ? ' --quick' : ''}`),
    '',
    latencyTable(r),
    '',
    EMULATION_NOTE,
    '',
    '## Where the time goes',
    '',
    STAGE_NOTE,
    '',
    stageTables(r),
    '',
  ].join('\n');
}

/** The README's excerpt: the targets and the chart, every figure from the same run. */
export function renderReadme(r: BenchResults): string {
  return [
    header(r),
    '',
    targetsTable(targets(r)),
    '',
    ...paragraph(leanPathNote(r)),
    '![throughput against latency](bench/results/throughput.svg)',
    '',
    'All tables: [bench/results/latest.md](bench/results/latest.md).',
  ].join('\n');
}
