import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  costMarkdown,
  DEFAULT_DASHBOARDS,
  DEFAULT_DELIVERY,
  measuredDelivery,
  readPrices,
} from '../../bench/cost/main';
import { atRestCost, dashboardCost, deliveryCost, type PriceTable, total } from '../../bench/cost/model';
import { countAlarms, countCustomMetrics, stackFigures } from '../../bench/cost/stack';
import type { BenchResults } from '../../bench/lib/results';

/** Round prices, so the expected figures can be worked out on paper. */
const PRICES: PriceTable = {
  region: 'us-east-1',
  taken: 'test',
  prices: {
    apiGatewayWebSocketMessage: { usd: 1, per: 1_000_000, unit: '', source: '' },
    apiGatewayConnectionMinute: { usd: 0.25, per: 1_000_000, unit: '', source: '' },
    lambdaRequest: { usd: 0.2, per: 1_000_000, unit: '', source: '' },
    lambdaGbSecondX86: { usd: 0.00001, per: 1, unit: '', source: '' },
    sqsRequest: { usd: 0.4, per: 1_000_000, unit: '', source: '' },
    eventBridgeCustomEvent: { usd: 1, per: 1_000_000, unit: '', source: '' },
    dynamodbWriteRequestUnit: { usd: 0.5, per: 1_000_000, unit: '', source: '' },
    dynamodbReadRequestUnit: { usd: 0.1, per: 1_000_000, unit: '', source: '' },
    cloudWatchAlarm: { usd: 0.1, per: 1, unit: '', source: '' },
    cloudWatchCustomMetric: { usd: 0.3, per: 1, unit: '', source: '' },
  },
};

const STACK = { alarms: 10, customMetrics: 20, queuePollers: 5, pollWaitSeconds: 20 };

const FIGURES = {
  audience: 2000,
  frameBytes: 40_000,
  eventBytes: 100_000,
  lambdaMsPerDelivery: 1,
  memoryMb: 1024,
  pageSize: 1000,
  audienceRowBytes: 100,
  sourcesPerEvent: 3,
  historyBodyWrites: 2,
  historyPointers: 1,
};

describe('the cost model', () => {
  it('prices a million deliveries as worked out by hand', () => {
    // 1,000,000 deliveries to audiences of 2,000: 500 events, 1,000 pages.
    const lines = deliveryCost(PRICES, FIGURES, 1_000_000);
    // 40,000-byte frames are two 32 KB messages: 2,000,000 messages at $1/M.
    expect(lines['API Gateway']).toBeCloseTo(2, 10);
    // 1,000 invocations at $0.2/M = $0.0002; 1,000,000 ms at 1 GB = 1,000 GB-s at $0.00001 = $0.01.
    expect(lines.Lambda).toBeCloseTo(0.0102, 10);
    // 100,000-byte events are two 64 KB chunks: 1,000 pages × 3 requests × 2 = 6,000 at $0.4/M.
    expect(lines.SQS).toBeCloseTo(0.0024, 10);
    // 500 events × 2 chunks = 1,000 events at $1/M.
    expect(lines.EventBridge).toBeCloseTo(0.001, 10);
    // Reads: 1,000 pages × ceil(100,000 / 4,096) = 25 units, plus 500 events × 2 empty sources × 2 = 2,000:
    // 27,000 at $0.1/M = $0.0027. Writes: 500 × 3 = 1,500 at $0.5/M = $0.00075.
    expect(lines.DynamoDB).toBeCloseTo(0.00345, 10);
    expect(total(lines)).toBeCloseTo(2 + 0.0102 + 0.0024 + 0.001 + 0.00345, 10);
  });

  it('adds connection minutes, pings and route functions for dashboards', () => {
    const dashboards = {
      ...DEFAULT_DASHBOARDS,
      dashboards: 100,
      hoursPerDay: 1,
      daysPerMonth: 1,
      eventsPerHour: 0,
      pingsPerHour: 10,
      connectionsPerDay: 1,
    };
    const lines = dashboardCost(PRICES, dashboards, FIGURES, STACK);
    // 100 hours = 6,000 minutes at $0.25/M; messages: 100 × 2 (subscribe) + 100 × 10 × 2 (pings) = 2,200 at $1/M.
    expect(lines['API Gateway']).toBeCloseTo(0.0015 + 0.0022, 10);
    // 100 connections × 4 invocations at $0.2/M, and 100 × 40 ms × 0.25 GB = 1 GB-s at $0.00001.
    expect(lines.Lambda).toBeCloseTo(0.00008 + 0.00001, 10);
    expect(lines.DynamoDB).toBeCloseTo(100 * 8 * 0.5e-6 + 100 * 3 * 0.1e-6, 12);
    // The month at rest comes with it (below), and 20 custom metrics at $0.3.
    expect(lines.SQS).toBeCloseTo(0.2628, 10);
    expect(lines.CloudWatch).toBeCloseTo(1 + 6, 10);
  });

  it('prices a month at rest as the idle queue polls and the alarms', () => {
    const lines = atRestCost(PRICES, STACK);
    // 5 pollers × 180 twenty-second polls an hour × 730 hours = 657,000 requests at $0.4/M.
    expect(lines.SQS).toBeCloseTo(0.2628, 10);
    // 10 alarms at $0.1 a month; custom metrics cost nothing in a month without publishing.
    expect(lines.CloudWatch).toBeCloseTo(1, 10);
    expect(total(lines)).toBeCloseTo(1.2628, 10);
  });

  it('counts the alarms in alarms.tf and the custom metrics in the code that publishes them', async () => {
    const alarms = await countAlarms();
    const source = readFileSync(join(__dirname, '../../terraform/modules/fanout/alarms.tf'), 'utf8');
    // Each alarm is a `name = {` entry of local.alarms, indented four spaces.
    expect(alarms).toBe(source.match(/^ {4}[a-z-]+ = \{$/gm)?.length);
    expect(alarms).toBeGreaterThanOrEqual(10);
    // The fan-out's Failed and DeliveryLatency, the routes' Connected, Subscribed, RouteErrors, ...
    const metrics = countCustomMetrics();
    expect(metrics).toBeGreaterThanOrEqual(15);
    expect(await stackFigures()).toEqual({
      alarms,
      customMetrics: metrics,
      queuePollers: 5,
      pollWaitSeconds: 20,
    });
  });

  it('counts a metric once per function that publishes it', () => {
    const root = mkdtempSync(join(tmpdir(), 'fanout-cost-'));
    for (const dir of [
      'functions/fanout',
      'functions/subscribe',
      'functions/default',
      'shared/fanout',
      'shared/routes',
    ])
      mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(
      join(root, 'shared/fanout/engine.ts'),
      "m.addMetric('Failed', 'Count', 1); m.addMetric('Failed', 'Count', 2);",
    );
    writeFileSync(
      join(root, 'shared/fanout/deliver.ts'),
      "count(metrics, 'Pruned', n); metrics.addMetric(name, 'Count', value);",
    );
    writeFileSync(join(root, 'shared/routes/error-frames.ts'), "m.addMetric('RouteErrors', 'Count', 1);");
    writeFileSync(
      join(root, 'shared/routes/subscribe.ts'),
      "import { errorFrames } from './error-frames.js';\nm.addMetric(ok ? 'Recovered' : 'RecoveryRefused', 'Count', 1);",
    );
    writeFileSync(join(root, 'shared/routes/default.ts'), "m.addMetric('Pings', 'Count', 1);");
    // fanout: Failed, Pruned; subscribe: Recovered, RecoveryRefused, RouteErrors; default: Pings.
    expect(countCustomMetrics(root)).toBe(6);
  });

  it('takes the fan-out time per delivery from the last results when they have it', () => {
    const results = {
      date: '2026-12-02T00:00:00Z',
      commit: 'abc1234',
      delivery: [{ system: 'fanout', n: 1000, latencyMs: 20, concurrency: 32, rate: 1250 }],
    } as unknown as BenchResults;
    expect(measuredDelivery(results).figures.lambdaMsPerDelivery).toBeCloseTo(0.8, 10);
    expect(measuredDelivery(undefined).figures).toBe(DEFAULT_DELIVERY);
    const markdown = costMarkdown(readPrices(), results, STACK);
    expect(markdown).toContain('commit abc1234');
    expect(markdown).toContain('a month at rest');
    expect(markdown).toContain('10 alarms');
  });

  it('reads a price table whose every price names its AWS page', () => {
    const prices = readPrices();
    expect(prices.region).toBe('us-east-1');
    for (const price of Object.values(prices.prices)) {
      expect(price.source).toMatch(/pricing|Pricing/);
      expect(price.usd).toBeGreaterThan(0);
    }
  });
});
