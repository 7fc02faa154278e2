/**
 * `make bench-cost`: the cost tables from the last benchmark results (bench/results/latest.json) or,
 * without them, from the stated defaults; rendered into terraform/README.md between its markers and
 * into bench/results/cost.md. Runs no benchmark.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { integerSetting } from '../../shared/deployment/manifest.js';
import { num, replaceBetween, table } from '../lib/markdown.js';
import type { BenchResults } from '../lib/results.js';
import {
  type CostLines,
  type DashboardFigures,
  type DeliveryFigures,
  dashboardCost,
  deliveryCost,
  type PriceTable,
  type Service,
  total,
} from './model.js';

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

const SERVICES: Service[] = ['API Gateway', 'Lambda', 'SQS', 'EventBridge', 'DynamoDB'];

export function costMarkdown(prices: PriceTable, results: BenchResults | undefined): string {
  const { figures, from } = measuredDelivery(results);
  const perMillion = deliveryCost(prices, figures, 1_000_000);
  const dashboards = dashboardCost(prices, DEFAULT_DASHBOARDS, figures);
  const money = (v: number): string => `$${v < 1 ? v.toFixed(4) : v.toFixed(2)}`;
  const row = (lines: CostLines): string[] => [...SERVICES.map((s) => money(lines[s])), money(total(lines))];
  return [
    table(
      ['', ...SERVICES, 'total'],
      [
        [`per million deliveries (audience ${num(figures.audience)})`, ...row(perMillion)],
        [
          `${num(DEFAULT_DASHBOARDS.dashboards)} dashboards, ${DEFAULT_DASHBOARDS.hoursPerDay} h a day, ${DEFAULT_DASHBOARDS.daysPerMonth} days, ${DEFAULT_DASHBOARDS.eventsPerHour} events an hour each`,
          ...row(dashboards),
        ],
      ],
    ),
    '',
    `List prices in ${prices.region} taken ${prices.taken} (bench/cost/prices.json, each with its AWS pricing page), no free tier. Fan-out duration from ${from}; the other quantities are the model's stated assumptions (bench/cost/main.ts, bench/cost/model.ts). Rendered by \`make bench-cost\`.`,
  ].join('\n');
}

export function readPrices(): PriceTable {
  return JSON.parse(readFileSync(join(ROOT, 'bench', 'cost', 'prices.json'), 'utf8')) as PriceTable;
}

export function writeCostTables(results: BenchResults | undefined): void {
  const markdown = costMarkdown(readPrices(), results);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'cost.md'), `# Cost model\n\n${markdown}\n`);
  const readme = join(ROOT, 'terraform', 'README.md');
  writeFileSync(readme, replaceBetween(readFileSync(readme, 'utf8'), 'bench:cost', markdown));
}

if (require.main === module) {
  const latest = join(ROOT, 'bench', 'results', 'latest.json');
  const results = existsSync(latest) ? (JSON.parse(readFileSync(latest, 'utf8')) as BenchResults) : undefined;
  writeCostTables(results);
  process.stdout.write('cost tables: bench/results/cost.md, terraform/README.md\n');
}
