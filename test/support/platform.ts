/**
 * Helpers for tests that drive the whole local platform (local/dev/platform.ts) from outside, as users
 * do: real `ws` clients with signed tokens, and the real AWS SDK clients pointed at the loopback
 * endpoints of `platform.config` (EventBridge PutEvents, `@connections`, DynamoDB, SQS).
 */
import { resolve } from 'node:path';
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PlatformEndpoints as LocalConfig } from '@fanout/protocol';
import { signToken } from '@fanout/publisher';
import WebSocket, { type RawData } from 'ws';
import { localClients } from '../../local/dev/clients';
import {
  type FunctionName,
  type LocalPlatform,
  type LocalPlatformOptions,
  startLocalPlatform,
} from '../../local/dev/platform';
import type { LogEntry } from '../../local/lambda/runner';
import { waitUntil } from '../../local/test/support/wait';
import { handshake } from '../../local/test/support/ws-client';
import { isHistoryRow } from '../../shared/store/history-dynamodb';

export { waitUntil };

export const ROOT_DIR = resolve(__dirname, '../..');

/** A parsed JSON frame from the server. */
export type Frame = Record<string, unknown>;

export interface Row {
  pk: string;
  sk: string;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** A WebSocket client of the platform, with every frame it received kept in order. */
export interface PlatformClient {
  /** The API Gateway connection id the gateway gave this socket. */
  connectionId: string;
  sub: string;
  ws: WebSocket;
  /** Every text message received, as sent. */
  texts: string[];
  /** The same messages, parsed (non-JSON messages are left out). */
  frames: Frame[];
  /** Event frames only (`type: "event"`). */
  events(): Frame[];
  closed: Promise<CloseInfo>;
  isClosed(): boolean;
  send(frame: object | string): Promise<void>;
  /** Sends `{ id: <fresh>, ...frame }` and resolves with the reply carrying that id. */
  request(frame: Record<string, unknown>, timeoutMs?: number): Promise<Frame>;
  /** Resolves with the first frame (received so far or later) that matches. */
  waitFor(predicate: (frame: Frame) => boolean, what: string, timeoutMs?: number): Promise<Frame>;
  /** Normal close (1000 with a close frame); resolves once the socket is closed. */
  close(): Promise<CloseInfo>;
}

export interface TokenInput {
  sub?: string;
  topics?: string[];
  expiresInSeconds?: number;
  /** Defaults to the platform's secret; another one gives a token with a bad signature. */
  secret?: string;
}

export interface PublishInput {
  detail: Record<string, unknown>;
  source?: string;
  detailType?: string;
  time?: Date;
}

export interface PlatformHarness {
  platform: LocalPlatform;
  config: LocalConfig;
  /** Every function log line (Lambda platform lines included), in order. */
  logs: LogEntry[];
  /** The SQS event source mapping's own lines. */
  pollerLogs: string[];
  dynamodb: DynamoDBClient;
  eventBridge: EventBridgeClient;
  management: ApiGatewayManagementApiClient;
  sqs: SQSClient;
  token(input: TokenInput): Promise<string>;
  /** `ws` URL with `?token=` when a token is given. */
  url(token?: string): string;
  /** Opens a client for `sub` allowed `topics`; rejects with the HTTP status if the handshake is refused. */
  connect(sub: string, topics: string[]): Promise<PlatformClient>;
  /** Subscribes and checks the `subscribed` reply. */
  subscribe(client: PlatformClient, topics: string[]): Promise<Frame>;
  /** PutEvents through the real SDK; resolves with the EventIds, in entry order. */
  publish(...entries: PublishInput[]): Promise<string[]>;
  /** Every row of the table whose pk or sk names the connection (a test-only scan). */
  rowsOf(connectionId: string): Promise<Row[]>;
  /** Every row of the table (a test-only scan). */
  allRows(): Promise<Row[]>;
  /** Every row of the connection index: all but history rows, which expire by TTL and belong to no connection. */
  connectionRows(): Promise<Row[]>;
  /** JSON log lines of one function (`fanout`, `subscribe`, …). */
  jsonLogs(fn: FunctionName): Frame[];
  /** Lambda `START` lines of one function: one per invocation. */
  invocations(fn: FunctionName): number;
  /**
   * Calls one route got, whichever backend serves the routes: its function's invocations, or the
   * `fanout backend` process's `call` lines (one per call it served, none for a refused one).
   */
  routeCalls(routeKey: RouteKey): number;
  /** The JSON lines of the `fanout backend` process ([] on the Lambda routes). */
  backendLogs(): Frame[];
  /** Messages waiting or in flight on a queue (ApproximateNumberOfMessages + NotVisible). */
  queueDepth(queueUrl: string): Promise<number>;
  /** Receives from the dead-letter queue until `count` messages arrived (they stay invisible for a while). */
  receiveDeadLetters(count: number, timeoutMs?: number): Promise<{ body: string; attributes: Frame }[]>;
  /** The last log lines, for failure messages. */
  recentLogs(lines?: number): string;
  /** Closes every client this harness opened that is still open, and waits for their rows to go. */
  closeClients(): Promise<void>;
  close(): Promise<void>;
}

export type RouteKey = '$connect' | '$disconnect' | '$default' | 'subscribe' | 'unsubscribe';

/** The routes both backends serve, and the function that serves each on the Lambda routes. */
export const ROUTE_FUNCTION: Readonly<Record<RouteKey, FunctionName>> = {
  $connect: 'connect',
  $disconnect: 'disconnect',
  $default: 'default',
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
};

export type HarnessOptions = Omit<LocalPlatformOptions, 'rootDir' | 'logSink' | 'pollerLog'>;

export async function startHarness(options: HarnessOptions = {}): Promise<PlatformHarness> {
  const logs: LogEntry[] = [];
  const pollerLogs: string[] = [];
  const platform = await startLocalPlatform({
    rootDir: ROOT_DIR,
    gatewayPort: 0,
    dashboardPort: false,
    logSink: (entry) => logs.push(entry),
    pollerLog: (level, message, fields) =>
      pollerLogs.push(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
    ...options,
  });
  const { config } = platform;
  const aws = localClients(config);
  const { dynamodb, eventBridge, management, sqs } = aws;
  const clients: PlatformClient[] = [];
  let requestCounter = 0;
  // Connections are opened one at a time so the new connection id is the one the gateway just added.
  let connecting: Promise<unknown> = Promise.resolve();

  const token = (input: TokenInput): Promise<string> =>
    signToken({
      secret: input.secret ?? config.jwtSecret,
      ...(input.sub ? { sub: input.sub } : {}),
      ...(input.topics ? { topics: input.topics } : {}),
      ...(input.expiresInSeconds !== undefined ? { expiresInSeconds: input.expiresInSeconds } : {}),
    });
  const url = (tokenText?: string): string =>
    tokenText === undefined ? config.websocketUrl : `${config.websocketUrl}?token=${tokenText}`;

  const open = async (sub: string, topics: string[]): Promise<PlatformClient> => {
    const before = new Set(platform.gateway.connections());
    const ws = new WebSocket(url(await token({ sub, topics })));
    const texts: string[] = [];
    const frames: Frame[] = [];
    let closedInfo: CloseInfo | undefined;
    ws.on('message', (data: RawData) => {
      const text = rawText(data);
      texts.push(text);
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) frames.push(parsed as Frame);
      } catch {
        // not JSON: kept in `texts` only
      }
    });
    const closed = new Promise<CloseInfo>((done) =>
      ws.on('close', (code, reason) => {
        closedInfo = { code, reason: reason.toString('utf8') };
        done(closedInfo);
      }),
    );
    ws.on('error', () => {}); // surfaced through the open promise or `closed`
    await handshake(ws);
    // The gateway registers the connection before it writes the 101, so it is listed by now.
    const added = platform.gateway.connections().filter((id) => !before.has(id));
    const connectionId = added[0];
    if (added.length !== 1 || connectionId === undefined) {
      ws.terminate();
      throw new Error(`expected one new connection, the gateway lists ${added.length}`);
    }

    const waitFor = (predicate: (frame: Frame) => boolean, what: string, timeoutMs = 10_000) =>
      waitUntil(() => frames.find(predicate), `${what} on ${connectionId}`, timeoutMs, 10);
    const send = (frame: object | string): Promise<void> =>
      new Promise((sent, failed) =>
        ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame), (err) =>
          err ? failed(err) : sent(),
        ),
      );
    const client: PlatformClient = {
      connectionId,
      sub,
      ws,
      texts,
      frames,
      events: () => frames.filter((frame) => frame.type === 'event'),
      closed,
      isClosed: () => closedInfo !== undefined,
      send,
      request: async (frame, timeoutMs = 10_000) => {
        requestCounter += 1;
        const id = `r${requestCounter}`;
        await send({ ...frame, id });
        return waitFor((reply) => reply.id === id && reply.type !== 'event', `the reply to ${id}`, timeoutMs);
      },
      waitFor,
      close: async () => {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
        return closed;
      },
    };
    clients.push(client);
    return client;
  };

  const scan = async (): Promise<Row[]> => {
    const rows: Row[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamodb.send(
        new ScanCommand({ TableName: config.tableName, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const item of page.Items ?? []) rows.push({ pk: item.pk?.S ?? '', sk: item.sk?.S ?? '' });
      start = page.LastEvaluatedKey;
    } while (start);
    return rows.sort((a, b) => `${a.pk} ${a.sk}`.localeCompare(`${b.pk} ${b.sk}`));
  };
  const rowsOf = async (connectionId: string): Promise<Row[]> =>
    (await scan()).filter((row) => row.pk.includes(connectionId) || row.sk.includes(connectionId));

  const functionLines = (fn: FunctionName): LogEntry[] =>
    logs.filter((entry) => entry.functionName === platform.functions[fn]?.name);
  const parsedLines = (entries: LogEntry[]): Frame[] =>
    entries.flatMap((entry) => {
      if (entry.stream === 'platform') return [];
      try {
        const parsed: unknown = JSON.parse(entry.line);
        return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? [parsed as Frame] : [];
      } catch {
        return [];
      }
    });
  // The backend process writes its lines under this name (local/dev/platform.ts).
  const backendName = `${options.name ?? 'fanout-local'}-backend`;
  const backendLogs = (): Frame[] => parsedLines(logs.filter((entry) => entry.functionName === backendName));
  const invocations = (fn: FunctionName): number =>
    functionLines(fn).filter((entry) => entry.stream === 'platform' && entry.line.startsWith('START '))
      .length;

  const harness: PlatformHarness = {
    platform,
    config,
    logs,
    pollerLogs,
    dynamodb,
    eventBridge,
    management,
    sqs,
    token,
    url,
    connect: (sub, topics) => {
      const next = connecting.then(() => open(sub, topics));
      connecting = next.catch(() => undefined);
      return next;
    },
    subscribe: async (client, topics) => {
      const reply = await client.request({ action: 'subscribe', topics });
      if (reply.type !== 'subscribed')
        throw new Error(`subscribe ${topics.join(',')}: ${JSON.stringify(reply)}`);
      return reply;
    },
    publish: async (...entries) => {
      const request: PutEventsRequestEntry[] = entries.map((entry) => ({
        EventBusName: config.eventBusName,
        Source: entry.source ?? 'tests',
        DetailType: entry.detailType ?? 'TestEvent',
        Detail: JSON.stringify(entry.detail),
        ...(entry.time ? { Time: entry.time } : {}),
      }));
      const output = await eventBridge.send(new PutEventsCommand({ Entries: request }));
      if (output.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(output.Entries)}`);
      return (output.Entries ?? []).map((entry) => {
        if (!entry.EventId) throw new Error(`PutEvents returned no EventId: ${JSON.stringify(entry)}`);
        return entry.EventId;
      });
    },
    rowsOf,
    allRows: scan,
    connectionRows: async () => (await scan()).filter((row) => !isHistoryRow(row.pk)),
    jsonLogs: (fn) => parsedLines(functionLines(fn)),
    invocations,
    routeCalls: (routeKey) =>
      platform.backend
        ? backendLogs().filter((line) => line.message === 'call' && line.routeKey === routeKey).length
        : invocations(ROUTE_FUNCTION[routeKey]),
    backendLogs,
    queueDepth: async (queueUrl) => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    },
    receiveDeadLetters: async (count, timeoutMs = 15_000) => {
      const received: { body: string; attributes: Frame }[] = [];
      await waitUntil(
        async () => {
          const output = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: config.dlqUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
              MessageAttributeNames: ['All'],
              VisibilityTimeout: 60,
            }),
          );
          for (const message of output.Messages ?? []) {
            const attributes: Frame = {};
            for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
              attributes[name] = value.StringValue;
            }
            received.push({ body: message.Body ?? '', attributes });
          }
          return received.length >= count;
        },
        `${count} message(s) on the dead-letter queue`,
        timeoutMs,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nrecent logs:\n${harness.recentLogs()}`);
      });
      return received;
    },
    recentLogs: (lines = 40) =>
      [
        ...logs.slice(-lines).map((entry) => `[${entry.functionName}] ${entry.line}`),
        ...pollerLogs.slice(-10).map((line) => `[poller] ${line}`),
      ].join('\n'),
    closeClients: async () => {
      // One at a time, each checked for its rows (platform-churn.test.ts closes many at once).
      for (const client of clients.splice(0)) {
        if (client.isClosed()) continue;
        await client.close();
        await waitUntil(
          async () => !(await scan()).some((row) => mentions(row, client.connectionId)),
          `the rows of ${client.connectionId} to be removed after its close`,
        );
      }
    },
    close: async () => {
      for (const client of clients.splice(0)) client.ws.terminate();
      await platform.close();
      aws.destroy();
    },
  };
  return harness;
}

const mentions = (row: Row, connectionId: string): boolean =>
  row.pk.includes(connectionId) || row.sk.includes(connectionId);

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
