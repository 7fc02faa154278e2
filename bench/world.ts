/**
 * The benchmark's world: the whole local platform (local/dev/platform.ts: gateway, dynalite,
 * fauxqs, EventBridge, the built bundles in the Lambda runner), the client farm, and the rows that
 * make clients an audience. Subscriptions are written straight into the table with the store's own
 * row builders (shared/store/dynamodb-rows.ts), as `subscribe` leaves them: the benchmark measures
 * delivery, and 10,000 subscribe calls through the route would only slow its set-up.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { build } from 'esbuild';
import { localClients } from '../local/dev/clients.js';
import { type LocalPlatform, type LocalPlatformOptions, startLocalPlatform } from '../local/dev/platform.js';
import { functionEnvironment } from '../local/dev/settings.js';
import { createActiveTable } from '../local/dynamodb/tables.js';
import { createQueueWithDlq } from '../local/sqs/queues.js';
import { rowExpiry } from '../shared/domain/limits.js';
import { type FanoutOptions, optionsFromEnvironment } from '../shared/fanout/options.js';
import { type Item, topicItem } from '../shared/store/dynamodb-rows.js';
import { Child } from './lib/child.js';
import {
  type DelivererReply,
  type DelivererRequest,
  type DelivererResult,
  type DelivererRun,
  type System,
  WARM_UP,
} from './lib/deliverer-protocol.js';
import type { FarmReply, FarmRequest, FrameReport } from './lib/farm-protocol.js';
import { StageRecorder } from './lib/stages.js';

export const ROOT = join(__dirname, '..');

export type Farm = Child<FarmRequest, FarmReply>;

export interface World {
  platform: LocalPlatform;
  /** The pipeline's timestamps, while the latency scenario records them (bench/lib/stages.ts). */
  stages: StageRecorder;
  dynamodb: DynamoDBClient;
  eventBridge: EventBridgeClient;
  farm: Farm | undefined;
  /** Connection ids of the farm's clients, in client order. */
  clientIds: string[];
  close(): Promise<void>;
}

export async function startWorld(options: Omit<LocalPlatformOptions, 'rootDir'> = {}): Promise<World> {
  const stages = new StageRecorder();
  const platform = await startLocalPlatform({
    rootDir: ROOT,
    trace: stages.trace,
    gatewayPort: 0,
    dashboardPort: false,
    // Function logs are dropped: printing them would cost the deliverer's thread more than the work.
    logSink: () => {},
    pollerLog: (level, message) => {
      if (level === 'error') process.stderr.write(`[poller] ${message}\n`);
    },
    ttlSweepIntervalMs: false,
    ...options,
    overrides: {
      // Thousands of handshakes at once: the stage's default burst would refuse most of them.
      stage_throttling_burst_limit: 20_000,
      stage_throttling_rate_limit: 20_000,
      ...options.overrides,
    },
  });
  const aws = localClients(platform.config);
  const { dynamodb, eventBridge } = aws;
  const world: World = {
    platform,
    stages,
    dynamodb,
    eventBridge,
    farm: undefined,
    clientIds: [],
    close: async () => {
      if (world.farm) {
        await world.farm.request({ type: 'close' }).catch(() => undefined);
        await world.farm.stop();
      }
      aws.destroy();
      await platform.close();
    },
  };
  return world;
}

/** Opens `count` real sockets through the gateway ($connect runs the real authorizer and connect functions). */
/** The fan-out options the platform's function runs with (its settings hold every one, default or override). */
export function pipelineOptions(world: World): Pick<FanoutOptions, 'concurrency' | 'pageSize'> {
  return optionsFromEnvironment((name) => {
    const value = world.platform.settings.settings[name];
    if (value === undefined) throw new Error(`the platform's settings have no ${name}`);
    return value;
  });
}

export async function openClients(world: World, count: number): Promise<number> {
  world.farm ??= new Child<FarmRequest, FarmReply>('bench/farm.ts');
  const reply = await world.farm.request({
    type: 'open',
    url: world.platform.config.websocketUrl,
    secret: world.platform.config.jwtSecret,
    count,
    topics: ['bench/*'],
    parallel: 32,
  });
  if (reply.type !== 'opened') throw new Error(`farm: ${JSON.stringify(reply)}`);
  // Client i connected as user b<i>; the connect function wrote that in the connection's META row.
  const bySub = new Map<string, string>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await world.dynamodb.send(
      new ScanCommand({ TableName: world.platform.config.tableName, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      const pk = item.pk?.S ?? '';
      if (item.sk?.S === 'META' && pk.startsWith('CONN#') && item.userId?.S)
        bySub.set(item.userId.S, pk.slice(5));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  world.clientIds = Array.from({ length: reply.total }, (_, i) => {
    const id = bySub.get(`b${i}`);
    if (!id) throw new Error(`client b${i} has no connection row`);
    return id;
  });
  return reply.ms;
}

/** Writes items 25 per BatchWriteItem, 8 requests at once. */
export async function writeItems(dynamodb: DynamoDBClient, table: string, items: Item[]): Promise<void> {
  const documents = DynamoDBDocumentClient.from(dynamodb);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const chunk = items.slice(next, next + 25);
      next += 25;
      let requests = chunk.map((item) => ({ PutRequest: { Item: item } }));
      while (requests.length > 0) {
        const out = await documents.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        requests = (out.UnprocessedItems?.[table] ?? []).flatMap((r) =>
          r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Seeds the warm-up topic and chat table with the first WARM_UP.audience clients. */
export async function seedWarmUp(world: World): Promise<void> {
  const ids = world.clientIds.slice(0, WARM_UP.audience);
  await seedTopic(world, WARM_UP.topic, ids);
  await seedChatTable(world, WARM_UP.chatTable, ids);
}

/** Subscribes `connectionIds` to `topic` (exact pattern): the topic index rows `subscribe` writes. */
export async function seedTopic(
  world: World,
  topic: string,
  connectionIds: readonly string[],
): Promise<void> {
  // Opened a minute ago: past the connecting grace, so the fan-out treats them as settled connections.
  const connectedAt = Date.now() - 60_000;
  const items = connectionIds.map((connectionId) =>
    topicItem(
      { connectionId, connectedAt, subscriptions: [topic], rev: 1, expiresAt: rowExpiry(connectedAt) },
      topic,
      connectedAt,
    ),
  );
  await writeItems(world.dynamodb, world.platform.config.tableName, items);
}

/** The sample's table: one row per connection, keyed by connectionId, for the baselines to Scan. */
export async function seedChatTable(
  world: World,
  table: string,
  connectionIds: readonly string[],
): Promise<void> {
  await createActiveTable(world.dynamodb, {
    TableName: table,
    AttributeDefinitions: [{ AttributeName: 'connectionId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  await writeItems(
    world.dynamodb,
    table,
    connectionIds.map((connectionId) => ({ connectionId })),
  );
}

/** The EventBridge event as the rule hands it to SQS: what the fan-out's records carry. */
export function eventBridgeEvent(
  topic: string,
  data: Record<string, unknown>,
  region: string,
): { id: string; body: string } {
  const id = randomUUID();
  const body = JSON.stringify({
    version: '0',
    id,
    'detail-type': 'BenchEvent',
    source: 'bench',
    account: '000000000000',
    time: new Date().toISOString(),
    region,
    resources: [],
    detail: { topics: [topic], data },
  });
  return { id, body };
}

/** PutEvents through the real SDK; resolves with the event id. */
export async function putEvent(world: World, topic: string, data: Record<string, unknown>): Promise<string> {
  const out = await world.eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: world.platform.config.eventBusName,
          Source: 'bench',
          DetailType: 'BenchEvent',
          Detail: JSON.stringify({ topics: [topic], data }),
        },
      ],
    }),
  );
  const id = out.Entries?.[0]?.EventId;
  if (!id || out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
  return id;
}

export async function reports(world: World, eventIds: string[], audience: number): Promise<FrameReport[]> {
  if (!world.farm) throw new Error('no clients are open');
  const reply = await world.farm.request({ type: 'report', eventIds, audience });
  if (reply.type !== 'reports') throw new Error(`farm: ${JSON.stringify(reply)}`);
  return reply.reports;
}

/** Waits until the first `audience` clients all have the event or nothing arrived for `quietMs`. */
export async function awaitFrames(
  world: World,
  eventId: string,
  audience: number,
  quietMs = 3_000,
  maxMs = 300_000,
): Promise<FrameReport> {
  const started = Date.now();
  let last: FrameReport | undefined;
  let lastChange = Date.now();
  for (;;) {
    const [report] = await reports(world, [eventId], audience);
    if (!report) throw new Error('farm sent no report');
    if (report.received >= audience) return report;
    if (!last || report.received !== last.received) lastChange = Date.now();
    last = report;
    if (Date.now() - lastChange > quietMs || Date.now() - started > maxMs) return report;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let queueSerial = 0;
let delivererBundle: Promise<string> | undefined;

/**
 * bench/deliverer.ts bundled to plain ESM (its packages left to node_modules), once per run: the
 * delivering child then runs on plain node, as a function does on Lambda, without tsx's loader hooks
 * (which answer every lazy require synchronously on another thread and would count as its CPU).
 */
function deliverer(): Promise<string> {
  delivererBundle ??= build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'bench', 'deliverer.ts')],
    outfile: join(ROOT, 'bench', '.build', 'deliverer.mjs'),
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
  }).then(() => 'bench/.build/deliverer.mjs');
  return delivererBundle;
}

/**
 * Runs one system in a child of its own (bench/deliverer.ts) and returns what it measured. With
 * `warm`, the child first delivers `warm.run` untimed, then `warm.beforeRun` is called (to inject
 * the case's faults, which the warm-up must not meet), then the timed run starts.
 */
export async function runDeliverer(
  world: World,
  system: System,
  run: { body: string; frame: string; chatTable: string; settings?: Record<string, number> },
  extraEnv: Record<string, string> = {},
  warm?: { run: Omit<DelivererRun, 'type'>; beforeRun: () => void },
): Promise<DelivererResult> {
  const { platform } = world;
  let env: Record<string, string> = {
    BENCH_SYSTEM: system,
    AWS_REGION: platform.config.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: platform.config.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: platform.config.sqsEndpoint,
    MANAGEMENT_ENDPOINT: platform.config.managementEndpoint,
  };
  if (system === 'fanout') {
    // A queue of its own, so its page and retry messages come back to it, not to the platform's function.
    queueSerial += 1;
    const queues = await createQueueWithDlq(platform.sqs, {
      name: `bench-inproc-${queueSerial}`,
      visibilityTimeoutSeconds: 360,
    });
    const settings = { ...platform.settings, settings: { ...platform.settings.settings, ...run.settings } };
    env = {
      ...env,
      POWERTOOLS_METRICS_NAMESPACE: 'fanout',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      ...functionEnvironment('fanout', settings, {
        table_name: platform.config.tableName,
        fanout_queue_url: queues.queueUrl,
        fanout_dlq_url: queues.dlqUrl,
        management_endpoint: platform.config.managementEndpoint,
        auth_jwt_secret: undefined,
        auth_jwt_secret_parameter: undefined,
        auth_jwt_secret_version: undefined,
        auth_jwks_url: undefined,
        auth_issuer: undefined,
        auth_audience: undefined,
      }),
    };
  }
  // BENCH_CPU_PROF=<dir>: each deliverer writes a V8 CPU profile there (node --cpu-prof), to find hot spots.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = new Child<DelivererRequest, DelivererReply>(
    await deliverer(),
    { ...env, ...extraEnv },
    profile,
    {
      quiet: true,
    },
  );
  try {
    const loaded = await child.request({ type: 'load', ...(warm ? { warmUp: warm.run } : {}) });
    if (loaded.type !== 'loaded') throw new Error(`deliverer: ${JSON.stringify(loaded)}`);
    warm?.beforeRun();
    const result = await child.request({ type: 'run', ...run });
    if (result.type !== 'result') throw new Error(`deliverer: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await child.stop();
  }
}
