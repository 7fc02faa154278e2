import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { type AttributeValue, DynamoDBClient, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Output } from './commands.js';
import { DeadLetterQueue, sendToQueue, sqsFailure } from './dlq-letters.js';
import { letterReason, reasonText, summarize, summaryLine } from './dlq-summary.js';
import { CommandError, UsageError } from './errors.js';
import type {
  ConnectionView,
  InspectSnapshot,
  InvocationView,
  PatternView,
  QueueView,
} from './inspect-snapshot.js';
import { localPlatform } from './local-config.js';
import { stringOutput, terraformOutputs } from './terraform.js';

/**
 * The operator's view of a running platform: connections, patterns, the fan-out queue, the DLQ and
 * the recent fan-out invocations. `fanout inspect` prints it; the local dev server's inspector page
 * gets the same snapshot from the same code (local/dev/inspector.ts).
 *
 * The table and the queues are read through their AWS APIs both locally and on AWS (the local
 * stand-ins speak them). What only CloudWatch knows on AWS (a queue's oldest message age, the
 * function's log lines) comes through the `Telemetry` port: CloudWatch and CloudWatch Logs on AWS,
 * the local SQS's inspection endpoint and the dev server's log buffer locally.
 *
 * Every read is bounded: connections come from a Scan of META rows with a page limit and a page
 * count limit (there is no index of all connections: docs/architecture.md, "Data model"), each
 * pattern's subscribers from a COUNT Query of its TOPIC# partition, capped.
 */

/** One line a function logged: its text, when, and the log stream (execution environment) it came from. */
export interface LogLine {
  message: string;
  /** Epoch ms. */
  timestamp: number;
  logStream: string;
}

/** What only the platform's telemetry knows: CloudWatch on AWS, local stand-ins in `fanout dev`. */
export interface Telemetry {
  /** Age in seconds of the oldest message on the queue; null when it is empty or nothing is known. */
  oldestMessageAgeSeconds(queueUrl: string): Promise<number | null>;
  /** The fan-out function's log lines of the last minutes, oldest first, at most `limit`. */
  fanoutLogLines(limit: number): Promise<LogLine[]>;
}

export type {
  ConnectionView,
  InspectSnapshot,
  InvocationView,
  LetterView,
  PatternView,
  QueueView,
} from './inspect-snapshot.js';

export interface InspectorTarget {
  mode: 'local' | 'aws';
  tableName: string;
  queueUrl: string;
  dlqUrl: string;
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  telemetry: Telemetry;
}

/** Items a Scan page evaluates, and pages at most: 5,000 rows looked at in all. */
export const SCAN_PAGE_LIMIT = 1000;
export const SCAN_MAX_PAGES = 5;
/** A pattern's subscribers are counted up to this. */
export const SUBSCRIBER_COUNT_LIMIT = 10_000;
/** Letters the inspector looks at. */
export const LETTER_LIMIT = 50;
/** Log lines read for the invocations, and invocations shown. */
export const LOG_LINE_LIMIT = 2000;
export const INVOCATION_LIMIT = 20;

/** Stable codes of what the inspector can fail with. */
export type InspectErrorCode =
  | 'table_unreachable'
  | 'queue_unreachable'
  | 'dlq_unreachable'
  | 'telemetry_unavailable'
  | 'no_target'
  | 'letter_not_found'
  | 'redrive_failed';

export class InspectError extends Error {
  override readonly name = 'InspectError';
  constructor(
    readonly code: InspectErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const PARTS = ['connections', 'patterns', 'queue', 'dlq', 'invocations'];

/** Reads the whole snapshot; a part that fails is reported in `problems`, not thrown. */
export async function inspect(target: InspectorTarget, now = Date.now()): Promise<InspectSnapshot> {
  const problems: InspectSnapshot['problems'] = [];
  const attempt = async <T>(part: string, code: InspectErrorCode, fallback: T, read: () => Promise<T>) => {
    try {
      return await read();
    } catch (err) {
      const failure = err instanceof InspectError ? err : new InspectError(code, messageOf(err));
      problems.push({ part, code: failure.code, message: failure.message });
      return fallback;
    }
  };
  const emptyQueue = (url: string): QueueView => ({
    url,
    visible: 0,
    inFlight: 0,
    delayed: 0,
    oldestAgeSeconds: null,
  });
  const [connections, queue, dlq, invocations] = await Promise.all([
    attempt('connections', 'table_unreachable', { count: 0, truncated: false, items: [] }, () =>
      readConnections(target, now),
    ),
    attempt('queue', 'queue_unreachable', emptyQueue(target.queueUrl), () =>
      readQueue(target, target.queueUrl),
    ),
    attempt('dlq', 'dlq_unreachable', { ...emptyQueue(target.dlqUrl), letters: [], complete: true }, () =>
      readDlq(target),
    ),
    attempt('invocations', 'telemetry_unavailable', [], async () =>
      summarizeInvocations(await target.telemetry.fanoutLogLines(LOG_LINE_LIMIT)).slice(0, INVOCATION_LIMIT),
    ),
  ]);
  const patterns = await attempt('patterns', 'table_unreachable', [], () =>
    countPatterns(target, connections.items),
  );
  // The parts are read at once; their problems are listed in the order the parts are shown.
  problems.sort((a, b) => PARTS.indexOf(a.part) - PARTS.indexOf(b.part));
  return {
    mode: target.mode,
    takenAt: new Date(now).toISOString(),
    tableName: target.tableName,
    connections,
    patterns,
    queue,
    dlq,
    invocations,
    problems,
  };
}

async function readConnections(
  target: InspectorTarget,
  now: number,
): Promise<InspectSnapshot['connections']> {
  const items: ConnectionView[] = [];
  let start: Record<string, AttributeValue> | undefined;
  let pages = 0;
  do {
    const page = await target.dynamodb.send(
      new ScanCommand({
        TableName: target.tableName,
        Limit: SCAN_PAGE_LIMIT,
        FilterExpression: 'sk = :meta AND begins_with(pk, :conn)',
        ProjectionExpression: 'pk, userId, sourceIp, connectedAt, subscriptions',
        ExpressionAttributeValues: { ':meta': { S: 'META' }, ':conn': { S: 'CONN#' } },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    pages += 1;
    for (const item of page.Items ?? []) items.push(connectionView(item, now));
    start = page.LastEvaluatedKey;
  } while (start && pages < SCAN_MAX_PAGES);
  items.sort((a, b) => (a.connectedAt ?? '').localeCompare(b.connectedAt ?? ''));
  return { count: items.length, truncated: start !== undefined, items };
}

function connectionView(item: Record<string, AttributeValue>, now: number): ConnectionView {
  const connectedAt = Number(item.connectedAt?.N);
  const known = Number.isFinite(connectedAt) && connectedAt > 0;
  const subscriptions = (item.subscriptions?.L ?? []).flatMap((entry) => (entry.S ? [entry.S] : []));
  return {
    connectionId: (item.pk?.S ?? '').replace(/^CONN#/, ''),
    userId: item.userId?.S ?? null,
    connectedAt: known ? new Date(connectedAt).toISOString() : null,
    ageSeconds: known ? Math.max(0, Math.round((now - connectedAt) / 1000)) : null,
    sourceIp: item.sourceIp?.S ?? null,
    subscriptions: subscriptions.sort(),
  };
}

/** Subscriber counts of every pattern a connection holds, from the index the fan-out reads. */
async function countPatterns(target: InspectorTarget, connections: ConnectionView[]): Promise<PatternView[]> {
  const patterns = [...new Set(connections.flatMap((c) => c.subscriptions))].sort();
  return Promise.all(
    patterns.map(async (pattern) => {
      let count = 0;
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await target.dynamodb.send(
          new QueryCommand({
            TableName: target.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: `TOPIC#${pattern}` } },
            Select: 'COUNT',
            Limit: SUBSCRIBER_COUNT_LIMIT - count,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        count += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start && count < SUBSCRIBER_COUNT_LIMIT);
      return { pattern, subscribers: count, atLeast: start !== undefined };
    }),
  );
}

async function readQueue(target: InspectorTarget, url: string): Promise<QueueView> {
  const { Attributes = {} } = await target.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const visible = Number(Attributes.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  const delayed = Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
  const oldestAgeSeconds =
    visible + inFlight + delayed === 0 ? null : await target.telemetry.oldestMessageAgeSeconds(url);
  return { url, visible, inFlight, delayed, oldestAgeSeconds };
}

/**
 * The DLQ's depth and its first letters, read as `fanout dlq list` reads them (received with a
 * short hold, then released at once): the only way SQS shows a message's body and attributes.
 */
async function readDlq(target: InspectorTarget): Promise<InspectSnapshot['dlq']> {
  const depth = await readQueue(target, target.dlqUrl);
  if (depth.visible === 0) return { ...depth, letters: [], complete: depth.inFlight + depth.delayed === 0 };
  const dlq = new DeadLetterQueue(target.sqs, target.dlqUrl);
  try {
    const { letters, complete } = await dlq.scan(LETTER_LIMIT);
    return {
      ...depth,
      complete,
      letters: letters.map((letter) => {
        const { reason, detail } = letterReason('fanout', letter);
        return {
          messageId: letter.messageId,
          sentAt: letter.sentAt?.toISOString() ?? null,
          receiveCount: letter.receiveCount ?? null,
          reason: reasonText('fanout', reason),
          detail: detail ?? null,
          summary: summaryLine(summarize(letter.body)),
        };
      }),
    };
  } finally {
    await dlq.release();
  }
}

/**
 * Sends the named letters back to the fan-out queue, then deletes them from the DLQ: what
 * `fanout dlq redrive ID...` does, with the same code. Resolves with the ids moved.
 */
export async function redriveLetters(target: InspectorTarget, ids: readonly string[]): Promise<string[]> {
  const wanted = new Set(ids);
  const dlq = new DeadLetterQueue(target.sqs, target.dlqUrl);
  try {
    const { letters } = await dlq.scan(
      Math.max(LETTER_LIMIT, ids.length),
      (found) => found.filter((l) => wanted.has(l.messageId)).length === wanted.size,
    );
    const selected = letters.filter((letter) => wanted.has(letter.messageId));
    const missing = ids.filter((id) => !selected.some((letter) => letter.messageId === id));
    if (missing.length > 0) {
      throw new InspectError('letter_not_found', `no letter ${missing.join(', ')} on ${target.dlqUrl}`);
    }
    const moved: string[] = [];
    for (const letter of selected) {
      try {
        // Send, then delete: interrupted in between, the letter is on both queues (at-least-once).
        await sendToQueue(target.sqs, target.queueUrl, letter);
        await dlq.delete(letter);
      } catch (err) {
        const why = sqsFailure(err, 'queue', target.queueUrl).message;
        throw new InspectError('redrive_failed', `moved ${moved.length} of ${selected.length}: ${why}`);
      }
      moved.push(letter.messageId);
    }
    return moved;
  } finally {
    await dlq.release();
  }
}

/** The engine's last line for a record, whatever became of it (shared/fanout/engine.ts). */
const RECORD_DONE = new Set([
  'delivered',
  'dead-lettering a malformed record',
  'dropping an expired event',
  'dead-lettered an event too large to deliver',
]);

const FIGURES = {
  AudienceSize: 'audience',
  Delivered: 'delivered',
  Pruned: 'pruned',
  Throttled: 'throttled',
  Retried: 'retried',
  Failed: 'failed',
} as const;

/**
 * Invocations of the fan-out function from its log lines, newest first: START opens one, REPORT
 * closes it with its duration; between them, the EMF lines (Powertools flushes them after each
 * invocation) give the figures, and the engine's last line for each record counts it. Lines are grouped by log
 * stream, since an environment runs one invocation at a time while several environments run at once.
 */
export function summarizeInvocations(lines: readonly LogLine[]): InvocationView[] {
  const open = new Map<string, InvocationView>();
  const done: InvocationView[] = [];
  for (const { message, timestamp, logStream } of lines) {
    const start = /^START RequestId: (\S+)/.exec(message);
    if (start?.[1]) {
      open.set(logStream, {
        requestId: start[1],
        startedAt: new Date(timestamp).toISOString(),
        durationMs: null,
        records: 0,
        audience: 0,
        delivered: 0,
        pruned: 0,
        throttled: 0,
        retried: 0,
        failed: 0,
        error: null,
      });
      continue;
    }
    const current = open.get(logStream);
    if (!current) continue;
    const report = /^REPORT RequestId: (\S+)\s+Duration: ([\d.]+) ms/.exec(message);
    if (report) {
      current.durationMs = Number(report[2]);
      const status = /Status: (\w+)/.exec(message);
      if (status?.[1] && status[1] !== 'success') current.error ??= status[1];
      open.delete(logStream);
      done.push(current);
      continue;
    }
    const json = parseObject(message.replace(/^\S+\t\S+\t\w+\t/, ''));
    if (!json) continue;
    if ('_aws' in json) {
      for (const [metric, field] of Object.entries(FIGURES)) current[field] += sum(json[metric]);
    } else if (typeof json.message === 'string' && RECORD_DONE.has(json.message)) {
      current.records += 1;
    } else if (json.level === 'ERROR' || json.errorType !== undefined) {
      current.error ??= String(json.errorType ?? json.message ?? 'error');
    }
  }
  // Still running: shown too, without a duration.
  done.push(...open.values());
  return done.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

function sum(value: unknown): number {
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.reduce<number>((total, v) => total + sum(v), 0);
  return 0;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

// ---------------------------------------------------------------------------------------------
// Telemetry: locally and on AWS.

/**
 * The local SQS (fauxqs) shows a queue's messages without receiving them at `/_fauxqs/queues/NAME`
 * on its endpoint: the oldest one's SentTimestamp is what CloudWatch's ApproximateAgeOfOldestMessage
 * reports on AWS.
 */
export async function localOldestMessageAge(
  sqsEndpoint: string,
  queueUrl: string,
  now = Date.now(),
): Promise<number | null> {
  const name = queueUrl.split('/').pop() ?? '';
  const response = await fetch(`${sqsEndpoint}/_fauxqs/queues/${encodeURIComponent(name)}`, {
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new InspectError('telemetry_unavailable', `the local SQS has no queue ${name}`);
  const body = (await response.json()) as {
    messages?: {
      ready?: { sentTimestamp?: number }[];
      delayed?: { sentTimestamp?: number }[];
      inflight?: { message?: { sentTimestamp?: number } }[];
    };
  };
  const sent = [
    ...(body.messages?.ready ?? []).map((m) => m.sentTimestamp),
    ...(body.messages?.delayed ?? []).map((m) => m.sentTimestamp),
    ...(body.messages?.inflight ?? []).map((m) => m.message?.sentTimestamp),
  ].filter((t): t is number => typeof t === 'number');
  if (sent.length === 0) return null;
  return Math.max(0, Math.round((now - Math.min(...sent)) / 1000));
}

/** `fanout dev`'s log buffer of the fan-out function, as its dashboard server serves it. */
export async function localFanoutLogLines(dashboardUrl: string, limit: number): Promise<LogLine[]> {
  const response = await fetch(new URL(`api/fanout-logs?limit=${limit}`, dashboardUrl), {
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) {
    throw new InspectError('telemetry_unavailable', `${dashboardUrl} answered ${response.status}`);
  }
  const body = (await response.json()) as { lines?: LogLine[] };
  return body.lines ?? [];
}

/** How far back the AWS telemetry looks. */
const WINDOW_MS = 15 * 60_000;

/** CloudWatch: the queue's ApproximateAgeOfOldestMessage; CloudWatch Logs: the fan-out's log group. */
export function awsTelemetry(clients: {
  cloudWatch: CloudWatchClient;
  logs: CloudWatchLogsClient;
  logGroupName: string;
}): Telemetry {
  return {
    oldestMessageAgeSeconds: async (queueUrl) => {
      const now = Date.now();
      const { Datapoints = [] } = await clients.cloudWatch.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: queueUrl.split('/').pop() ?? '' }],
          StartTime: new Date(now - WINDOW_MS),
          EndTime: new Date(now),
          Period: 60,
          Statistics: ['Maximum'],
        }),
      );
      const latest = [...Datapoints].sort(
        (a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0),
      )[0];
      return latest?.Maximum ?? null;
    },
    fanoutLogLines: async (limit) => {
      const lines: LogLine[] = [];
      let nextToken: string | undefined;
      do {
        const page = await clients.logs.send(
          new FilterLogEventsCommand({
            logGroupName: clients.logGroupName,
            startTime: Date.now() - WINDOW_MS,
            limit: Math.min(10_000, limit - lines.length),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        for (const event of page.events ?? []) {
          lines.push({
            message: (event.message ?? '').trimEnd(),
            timestamp: event.timestamp ?? 0,
            logStream: event.logStreamName ?? '',
          });
        }
        nextToken = page.nextToken;
      } while (nextToken && lines.length < limit);
      return lines.sort((a, b) => a.timestamp - b.timestamp);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The command.

/** The options of `fanout inspect` (spec.ts lists them, and the help). */
export interface InspectOptions {
  json: boolean;
  aws: boolean;
  config?: string | undefined;
  terraformDir?: string | undefined;
  region?: string | undefined;
}

/** `fanout inspect [options]`: prints the snapshot; exit 1 when a part could not be read. */
export async function inspectCommand(
  options: InspectOptions,
  env: NodeJS.ProcessEnv,
  io: Output,
): Promise<number> {
  const { target, close } = await resolveInspectTarget(
    {
      aws: options.aws,
      ...(options.config ? { config: options.config } : {}),
      ...(options.terraformDir ? { terraformDir: options.terraformDir } : {}),
      ...(options.region ? { region: options.region } : {}),
    },
    env,
  );
  try {
    const snapshot = await inspect(target);
    if (options.json) io.out(JSON.stringify(snapshot, null, 2));
    else for (const line of renderSnapshot(snapshot)) io.out(line);
    for (const problem of snapshot.problems) {
      io.err(`fanout inspect: ${problem.code}: ${problem.part}: ${problem.message}`);
    }
    return snapshot.problems.length > 0 ? 1 : 0;
  } finally {
    close();
  }
}

export interface InspectWhere {
  aws: boolean;
  config?: string;
  terraformDir?: string;
  region?: string;
}

/** The clients of a snapshot: the local platform of .fanout/local.json, or the Terraform stack. */
export async function resolveInspectTarget(
  where: InspectWhere,
  env: NodeJS.ProcessEnv,
): Promise<{ target: InspectorTarget; close(): void }> {
  if (!where.aws) {
    // The same reading as every local command: config_invalid, and config_stale for a file left by
    // a platform that is gone.
    const local = localPlatform(where.config, { required: false });
    if (!local) {
      throw new CommandError(
        'config_not_found',
        `${where.config ?? '.fanout/local.json'} does not exist: start \`fanout dev\`, or use --aws --terraform-dir DIR`,
      );
    }
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const base = { region: local.region, credentials, requestHandler: { connectionTimeout: 5_000 } };
    const dynamodb = new DynamoDBClient({ ...base, endpoint: local.dynamodbEndpoint });
    const sqs = new SQSClient({ ...base, endpoint: local.sqsEndpoint });
    const { dashboardUrl } = local;
    return {
      target: {
        mode: 'local',
        tableName: local.tableName,
        queueUrl: local.queueUrl,
        dlqUrl: local.dlqUrl,
        dynamodb,
        sqs,
        telemetry: {
          oldestMessageAgeSeconds: (url) => localOldestMessageAge(local.sqsEndpoint, url),
          fanoutLogLines: async (limit) => {
            if (!dashboardUrl) {
              throw new InspectError(
                'telemetry_unavailable',
                'the local platform runs without its dashboard server (--no-dashboard), which keeps the function logs',
              );
            }
            return localFanoutLogLines(dashboardUrl, limit);
          },
        },
      },
      close: () => {
        dynamodb.destroy();
        sqs.destroy();
      },
    };
  }
  if (!where.terraformDir) {
    throw new UsageError(
      'missing_option',
      'inspect --aws needs --terraform-dir DIR (the stack whose outputs name the resources)',
    );
  }
  const outputs = await terraformOutputs(where.terraformDir, env);
  const need = (name: string): string => {
    const value = stringOutput(outputs, name);
    if (!value) {
      throw new CommandError(
        'terraform_output_missing',
        `the stack in ${where.terraformDir} has no output ${name} (has it been applied?)`,
      );
    }
    return value;
  };
  const groups = outputs.get('log_group_names');
  const logGroupName =
    groups && typeof groups === 'object' && 'fanout' in groups && typeof groups.fanout === 'string'
      ? groups.fanout
      : undefined;
  if (!logGroupName) {
    throw new CommandError(
      'terraform_output_missing',
      `the stack in ${where.terraformDir} has no output log_group_names.fanout (has it been applied?)`,
    );
  }
  const region = where.region ?? stringOutput(outputs, 'region');
  const base = { ...(region ? { region } : {}), requestHandler: { connectionTimeout: 5_000 } };
  const dynamodb = new DynamoDBClient(base);
  const sqs = new SQSClient(base);
  const cloudWatch = new CloudWatchClient(base);
  const logs = new CloudWatchLogsClient(base);
  return {
    target: {
      mode: 'aws',
      tableName: need('table_name'),
      queueUrl: need('fanout_queue_url'),
      dlqUrl: need('fanout_dlq_url'),
      dynamodb,
      sqs,
      telemetry: awsTelemetry({ cloudWatch, logs, logGroupName }),
    },
    close: () => {
      for (const client of [dynamodb, sqs, cloudWatch, logs]) client.destroy();
    },
  };
}

/** The snapshot as text: one block per part. */
export function renderSnapshot(s: InspectSnapshot): string[] {
  const age = (seconds: number | null) => (seconds === null ? '-' : duration(seconds));
  const lines: string[] = [
    `fanout inspect (${s.mode}) at ${s.takenAt}, table ${s.tableName}`,
    '',
    `connections: ${s.connections.count}${s.connections.truncated ? ' (at least: the scan stopped at its limit)' : ''}`,
  ];
  if (s.connections.items.length > 0) {
    lines.push(
      ...table([
        ['ID', 'USER', 'AGE', 'SOURCE', 'SUBSCRIPTIONS'],
        ...s.connections.items.map((c) => [
          c.connectionId,
          c.userId ?? '-',
          age(c.ageSeconds),
          c.sourceIp ?? '-',
          c.subscriptions.join(',') || '-',
        ]),
      ]).map((line) => `  ${line}`),
    );
  }
  lines.push('', `patterns: ${s.patterns.length}`);
  for (const p of s.patterns)
    lines.push(`  ${p.pattern}  ${p.atLeast ? '≥' : ''}${p.subscribers} subscriber(s)`);
  const depth = (q: QueueView) =>
    `${q.visible} waiting, ${q.inFlight} in flight, ${q.delayed} delayed; oldest ${age(q.oldestAgeSeconds)}`;
  lines.push('', `fan-out queue: ${depth(s.queue)}`, `  ${s.queue.url}`);
  lines.push('', `DLQ: ${depth(s.dlq)}`, `  ${s.dlq.url}`);
  if (s.dlq.letters.length > 0) {
    lines.push(
      ...table([
        ['ID', 'SENT', 'REASON', 'SUMMARY'],
        ...s.dlq.letters.map((l) => [l.messageId, l.sentAt ?? '-', l.reason, l.summary]),
      ]).map((line) => `  ${line}`),
    );
    lines.push('  redrive: fanout dlq redrive ID... (or the inspector page)');
  }
  lines.push('', `recent fan-out invocations: ${s.invocations.length}`);
  if (s.invocations.length > 0) {
    lines.push(
      ...table([
        [
          'STARTED',
          'DURATION',
          'RECORDS',
          'AUDIENCE',
          'DELIVERED',
          'PRUNED',
          'THROTTLED',
          'RETRIED',
          'FAILED',
          'ERROR',
        ],
        ...s.invocations.map((i) => [
          i.startedAt,
          i.durationMs === null ? 'running' : `${i.durationMs.toFixed(0)} ms`,
          String(i.records),
          String(i.audience),
          String(i.delivered),
          String(i.pruned),
          String(i.throttled),
          String(i.retried),
          String(i.failed),
          i.error ?? '-',
        ]),
      ]).map((line) => `  ${line}`),
    );
  }
  return lines;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
  );
}
