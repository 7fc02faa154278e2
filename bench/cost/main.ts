/**
 * `make bench-cost`: the cost tables (a month at rest, a million deliveries, a month of dashboards) from the last benchmark results (bench/results/latest.json) or,
 * without them, from the stated defaults; rendered into terraform/README.md between its markers and
 * into bench/results/cost.md. Runs no benchmark.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { integerSetting } from '../../shared/deployment/manifest.js';
import { num, replaceBetween, table } from '../lib/markdown.js';
import type { BenchResults } from '../lib/results.js';
import {
  atRestCost,
  type CostLines,
  type DashboardFigures,
  type DeliveryFigures,
  dashboardCost,
  deliveryCost,
  type PriceTable,
  type Service,
  type StackFigures,
  total,
} from './model.js';
import { stackFigures } from './stack.js';

const ROOT = join(__dirname, '..', '..');

/** Used when no benchmark has run: the fan-out's own settings and a frame like the bench's. */
export const DEFAULT_DELIVERY: DeliveryFigures = {
  audience: 1000,
  frameBytes: 300,
  eventBytes: 600,
  // 32 posts in flight at 20 ms each: 0.625 ms of function time per delivery.
  lambdaMsPerDelivery: 20 / 32,
  memoryMb: 1024,
  pageSize: integerSetting('fanout', 'FANOUT_PAGE_SIZE').default,
  audienceRowBytes: 120,
  sourcesPerEvent: 3,
  historyBodyWrites: 1,
  historyPointers: 1,
};

export const DEFAULT_DASHBOARDS: DashboardFigures = {
  dashboards: 10_000,
  hoursPerDay: 8,
  daysPerMonth: 30,
  eventsPerHour: 60,
  // The client SDK pings every 5 minutes (DEFAULT_PING_INTERVAL_MS).
  pingsPerHour: 12,
  // 8 hours at API Gateway's 2-hour connection limit.
  connectionsPerDay: 4,
  routeMsPerConnection: 40,
  routeMemoryMb: 256,
  routeInvocationsPerConnection: 4,
  writesPerConnection: 8,
  readsPerConnection: 3,
};

/** The delivery figures a run measured: Lambda time per delivery of the in-process fan-out at 20 ms per call. */
export function measuredDelivery(results: BenchResults | undefined): {
  figures: DeliveryFigures;
  from: string;
} {
  const row = results?.delivery.find(
    (d) => d.system === 'fanout' && d.latencyMs === 20 && !d.throttle && d.concurrency !== 64,
  );
  if (!results || !row) return { figures: DEFAULT_DELIVERY, from: 'stated defaults (no benchmark results)' };
  return {
    figures: { ...DEFAULT_DELIVERY, lambdaMsPerDelivery: 1000 / row.rate },
    from: `bench results of ${results.date} (commit ${results.commit}): ${num(1000 / row.rate, 3)} ms of fan-out time per delivery, measured at 20 ms per @connections call, N=${num(row.n)}, concurrency ${row.concurrency}`,
  };
}

const SERVICES: Service[] = ['API Gateway', 'Lambda', 'SQS', 'EventBridge', 'DynamoDB', 'CloudWatch'];

export function costMarkdown(
  prices: PriceTable,
  results: BenchResults | undefined,
  stack: StackFigures,
): string {
  const { figures, from } = measuredDelivery(results);
  const atRest = atRestCost(prices, stack);
  const perMillion = deliveryCost(prices, figures, 1_000_000);
  const dashboards = dashboardCost(prices, DEFAULT_DASHBOARDS, figures, stack);
  const money = (v: number): string => `$${v < 1 ? v.toFixed(4) : v.toFixed(2)}`;
  const row = (lines: CostLines): string[] => [...SERVICES.map((s) => money(lines[s])), money(total(lines))];
  return [
    table(
      ['', ...SERVICES, 'total'],
      [
        ['a month at rest (nothing connected, nothing published)', ...row(atRest)],
        [`per million deliveries (audience ${num(figures.audience)})`, ...row(perMillion)],
        [
          `${num(DEFAULT_DASHBOARDS.dashboards)} dashboards, ${DEFAULT_DASHBOARDS.hoursPerDay} h a day, ${DEFAULT_DASHBOARDS.daysPerMonth} days, ${DEFAULT_DASHBOARDS.eventsPerHour} events an hour each`,
          ...row(dashboards),
        ],
      ],
    ),
    '',
    `API Gateway's WebSocket messages dominate: every posted frame is at least one message, one more per 32 KB, so they are ${num((100 * perMillion['API Gateway']) / total(perMillion), 1)} % of what a million deliveries of ${num(figures.frameBytes)}-byte frames cost (frames over 32 KB cost twice as much); in the month of dashboards, API Gateway (messages and connection minutes) is ${num((100 * dashboards['API Gateway']) / total(dashboards), 1)} %.`,
    '',
    `List prices in ${prices.region} taken ${prices.taken} (bench/cost/prices.json, each with its AWS pricing page), no free tier. At rest: ${stack.alarms} alarms (alarms.tf) and Lambda's ${stack.queuePollers} idle long polls of the fan-out queue, ${stack.pollWaitSeconds} s each; the month of dashboards adds that and the ${stack.customMetrics} custom metrics the functions publish (one per name and function); a million deliveries counts neither. Fan-out duration from ${from}; the other quantities are the model's stated assumptions (bench/cost/main.ts, bench/cost/model.ts, bench/cost/stack.ts). Rendered by \`make bench-cost\`.`,
  ].join('\n');
}

export function readPrices(): PriceTable {
  return JSON.parse(readFileSync(join(ROOT, 'bench', 'cost', 'prices.json'), 'utf8')) as PriceTable;
}

export async function writeCostTables(results: BenchResults | undefined): Promise<void> {
  const markdown = costMarkdown(readPrices(), results, await stackFigures());
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'cost.md'), `# Cost model\n\n${markdown}\n`);
  const readme = join(ROOT, 'terraform', 'README.md');
  writeFileSync(readme, replaceBetween(readFileSync(readme, 'utf8'), 'bench:cost', markdown));
}

if (require.main === module) {
  const latest = join(ROOT, 'bench', 'results', 'latest.json');
  const results = existsSync(latest) ? (JSON.parse(readFileSync(latest, 'utf8')) as BenchResults) : undefined;
  writeCostTables(results).then(
    () => process.stdout.write('cost tables: bench/results/cost.md, terraform/README.md\n'),
    (err: Error) => {
      process.stderr.write(`bench-cost: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
