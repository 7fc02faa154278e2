/**
 * One delivering system in a process of its own, so that `process.cpuUsage()` is its CPU alone
 * (Node 20 has no per-thread CPU clock). BENCH_SYSTEM says which:
 * - `fanout`: the built bundle dist/fanout/index.mjs, its handler called with SQS events as the event
 *   source mapping would, here draining its own queue (page and retry messages) until it is empty;
 * - `sample`: the AWS sample simple-websockets-chat-app `sendmessage` algorithm, written by us with SDK
 *   v3: Scan the connections table, then an unbounded Promise.all of PostToConnection (410: delete);
 * - `sequential`: the same Scan, then one awaited PostToConnection after another.
 * The environment carries what a deployed function gets (functions.json), with local endpoints.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  type AttributeValue,
  DeleteItemCommand,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DelivererReply, DelivererRequest, DelivererResult, System } from './lib/deliverer-protocol.js';

const system = process.env.BENCH_SYSTEM as System;
const region = process.env.AWS_REGION ?? 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const now = (): number => performance.timeOrigin + performance.now();

type Handler = (
  event: { Records: object[] },
  context: object,
) => Promise<{ batchItemFailures?: { itemIdentifier: string }[] }>;
let handler: Handler | undefined;

async function load(): Promise<void> {
  if (system !== 'fanout') return;
  // The benchmark starts this process in the repository's root. BENCH_FANOUT_BUNDLE names another
  // build of the function (bench/cpu.ts compares two builds in one run).
  const bundle = process.env.BENCH_FANOUT_BUNDLE || join(process.cwd(), 'dist', 'fanout', 'index.mjs');
  const mod = (await import(pathToFileURL(bundle).href)) as { handler: Handler };
  handler = mod.handler;
}

function lambdaContext(timeoutMs: number): object {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName: 'fanout-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:fanout-bench`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/fanout-bench',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

const record = (body: string, messageId: string, receiptHandle = '') => ({
  messageId,
  receiptHandle,
  body,
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:${region}:000000000000:bench`,
  awsRegion: region,
});

/** The bundle handles the event, then every page and retry message it queued, as a poller would. */
async function runFanout(
  body: string,
): Promise<Omit<DelivererResult, 'type' | 'startedAt' | 'endedAt' | 'cpuMicros'>> {
  if (!handler) throw new Error('the fan-out bundle is not loaded');
  const queueUrl = process.env.QUEUE_URL ?? '';
  const dlqUrl = process.env.DLQ_URL ?? '';
  const sqs = new SQSClient({ region, credentials, endpoint: process.env.AWS_ENDPOINT_URL_SQS ?? '' });
  const timeoutMs = 60_000;
  let invocations = 1;
  await handler({ Records: [record(body, randomUUID())] }, lambdaContext(timeoutMs));
  const depth = async (
    url: string,
    names: (
      | 'ApproximateNumberOfMessages'
      | 'ApproximateNumberOfMessagesNotVisible'
      | 'ApproximateNumberOfMessagesDelayed'
    )[],
  ) => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }),
    );
    return names.reduce((sum, name) => sum + Number(Attributes[name] ?? 0), 0);
  };
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) {
      const left = await depth(queueUrl, [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ]);
      if (left === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    invocations++;
    const records = Messages.map((m) => record(m.Body ?? '', m.MessageId ?? '', m.ReceiptHandle ?? ''));
    const response = await handler({ Records: records }, lambdaContext(timeoutMs));
    const failed = new Set((response.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    const done = records.filter((r) => !failed.has(r.messageId));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((r, i) => ({ Id: `m${i}`, ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
  }
  const deadLettered = await depth(dlqUrl, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ]);
  sqs.destroy();
  return { failed: 0, invocations, deadLettered };
}

/** The sample's connection list: a Scan of the whole table, projected to the id. */
async function scanConnections(dynamodb: DynamoDBClient, table: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: table, ProjectionExpression: 'connectionId', ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) if (item.connectionId?.S) ids.push(item.connectionId.S);
    start = page.LastEvaluatedKey;
  } while (start);
  return ids;
}

async function runChat(
  frame: string,
  table: string,
): Promise<Omit<DelivererResult, 'type' | 'startedAt' | 'endedAt' | 'cpuMicros'>> {
  const dynamodb = new DynamoDBClient({
    region,
    credentials,
    endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '',
  });
  const api = new ApiGatewayManagementApiClient({
    region,
    credentials,
    endpoint: process.env.MANAGEMENT_ENDPOINT ?? '',
  });
  let failed = 0;
  const data = Buffer.from(frame);
  const post = async (connectionId: string): Promise<void> => {
    try {
      await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
    } catch (err) {
      if (err instanceof GoneException) {
        await dynamodb.send(
          new DeleteItemCommand({ TableName: table, Key: { connectionId: { S: connectionId } } }),
        );
      } else {
        failed++;
        throw err;
      }
    }
  };
  const ids = await scanConnections(dynamodb, table);
  if (system === 'sample') {
    // The sample answers 500 on the first failure; the posts already started still run to their end.
    await Promise.allSettled(ids.map(post));
  } else {
    for (const id of ids) await post(id).catch(() => undefined);
  }
  dynamodb.destroy();
  api.destroy();
  return { failed, invocations: 1, deadLettered: 0 };
}

async function handle(request: DelivererRequest): Promise<DelivererReply> {
  if (request.type === 'load') {
    await load();
    // A warm environment: its code compiled, its connections open, as after an earlier event.
    const { warmUp } = request;
    if (warmUp) {
      if (system === 'fanout') await runFanout(warmUp.body);
      else await runChat(warmUp.frame, warmUp.chatTable);
    }
    return { type: 'loaded' };
  }
  const startedAt = now();
  const cpuBefore = process.cpuUsage();
  const outcome =
    system === 'fanout' ? await runFanout(request.body) : await runChat(request.frame, request.chatTable);
  const { user, system: kernel } = process.cpuUsage(cpuBefore);
  return {
    type: 'result',
    startedAt,
    endedAt: now(),
    cpuMicros: user + kernel,
    systemMicros: kernel,
    ...outcome,
  };
}

process.on('message', (message: { seq: number; request: DelivererRequest }) => {
  handle(message.request).then(
    (reply) => process.send?.({ seq: message.seq, reply }),
    (err: unknown) => process.send?.({ seq: message.seq, reply: { type: 'error', message: String(err) } }),
  );
});
process.on('disconnect', () => process.exit(0));
