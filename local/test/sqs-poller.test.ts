import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type LambdaFunction, type LogEntry, loadFunction } from '../lambda/runner.js';
import {
  interpretBatchResponse,
  type Poller,
  type PollerOptions,
  type SqsEvent,
  startPoller,
} from '../sqs/poller.js';
import {
  createQueueWithDlq,
  type LocalSqsServer,
  localSqsClient,
  type QueueWithDlq,
  startFauxqs,
} from '../sqs/queues.js';
import { waitUntil } from './support/wait';

let server: LocalSqsServer;
let sqs: SQSClient;
const pollers: Poller[] = [];
const functions: LambdaFunction[] = [];
let queueCounter = 0;

beforeAll(async () => {
  server = await startFauxqs();
  sqs = localSqsClient(server.endpoint, server.region);
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

afterAll(async () => {
  await Promise.all(functions.map((fn) => fn.close()));
  sqs.destroy();
  await server.stop();
});

const quiet: PollerOptions['log'] = () => undefined;

async function newQueues(visibilityTimeoutSeconds: number, maxReceiveCount: number): Promise<QueueWithDlq> {
  queueCounter += 1;
  return createQueueWithDlq(sqs, {
    name: `poller-test-${queueCounter}`,
    visibilityTimeoutSeconds,
    maxReceiveCount,
  });
}

async function poll(
  queues: QueueWithDlq,
  fn: PollerOptions['fn'],
  options: Partial<PollerOptions> = {},
): Promise<Poller> {
  const poller = await startPoller({
    sqs,
    queueUrl: queues.queueUrl,
    queueArn: queues.queueArn,
    region: server.region,
    fn,
    functionTimeoutMs: 1000,
    log: quiet,
    ...options,
  });
  pollers.push(poller);
  return poller;
}

/** A stand-in function that records every event and answers with `respond`. */
function recorder(respond: (event: SqsEvent, call: number) => unknown = () => ({ batchItemFailures: [] })) {
  const events: { event: SqsEvent; at: number }[] = [];
  return {
    events,
    fn: {
      invoke: async (event: unknown): Promise<unknown> => {
        const sqsEvent = event as SqsEvent;
        events.push({ event: sqsEvent, at: Date.now() });
        return respond(sqsEvent, events.length);
      },
    },
  };
}

async function sendBodies(queueUrl: string, bodies: string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies
          .slice(start, start + 10)
          .map((body, index) => ({ Id: `m${start + index}`, MessageBody: body })),
      }),
    );
  }
}

async function messagesLeft(queueUrl: string): Promise<number> {
  const output = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(output.Attributes?.ApproximateNumberOfMessages) +
    Number(output.Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

describe('SQS event source mapping poller', () => {
  it('delivers a batch as Lambda SQS event records and deletes them after success', async () => {
    const queues = await newQueues(30, 5);
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.queueUrl,
        MessageBody: '{"hello":"world"}',
        MessageAttributes: {
          Kind: { DataType: 'String', StringValue: 'greeting' },
          Count: { DataType: 'Number', StringValue: '3' },
          Blob: { DataType: 'Binary', BinaryValue: Buffer.from('1100') },
        },
      }),
    );
    const plain = await sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'test' }));
    const { events, fn } = recorder();

    const poller = await poll(queues, fn);
    await waitUntil(() => poller.stats().messagesDeleted === 2, 'poller.stats().messagesDeleted === 2', 5000);

    expect(events).toHaveLength(1);
    const records = events[0]?.event.Records ?? [];
    const [withAttributes, withoutAttributes] = records;
    expect(Object.keys(withAttributes ?? {})).toEqual([
      'messageId',
      'receiptHandle',
      'body',
      'attributes',
      'messageAttributes',
      'md5OfBody',
      'md5OfMessageAttributes',
      'eventSource',
      'eventSourceARN',
      'awsRegion',
    ]);
    expect(withAttributes).toEqual({
      messageId: sent.MessageId,
      receiptHandle: expect.any(String),
      body: '{"hello":"world"}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        Kind: { stringValue: 'greeting', stringListValues: [], binaryListValues: [], dataType: 'String' },
        Count: { stringValue: '3', stringListValues: [], binaryListValues: [], dataType: 'Number' },
        Blob: { binaryValue: 'MTEwMA==', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: md5('{"hello":"world"}'),
      md5OfMessageAttributes: sent.MD5OfMessageAttributes,
      eventSource: 'aws:sqs',
      eventSourceARN: queues.queueArn,
      awsRegion: server.region,
    });
    expect(Object.keys(withAttributes?.attributes ?? {})).toEqual([
      'ApproximateReceiveCount',
      'SentTimestamp',
      'SenderId',
      'ApproximateFirstReceiveTimestamp',
    ]);
    expect(withoutAttributes).toMatchObject({
      messageId: plain.MessageId,
      body: 'test',
      messageAttributes: {},
    });
    expect(withoutAttributes?.md5OfBody).toBe('098f6bcd4621d373cade4e832627b4f6');
    expect(withoutAttributes).not.toHaveProperty('md5OfMessageAttributes');
    expect(await messagesLeft(queues.queueUrl)).toBe(0);
  });

  it('never puts more records in a batch than the batch size', async () => {
    const queues = await newQueues(30, 5);
    await sendBodies(
      queues.queueUrl,
      Array.from({ length: 12 }, (_, index) => `message ${index}`),
    );
    const { events, fn } = recorder();

    const poller = await poll(queues, fn, { batchSize: 5, maximumBatchingWindowMs: 300 });
    await waitUntil(
      () => poller.stats().messagesDeleted === 12,
      'poller.stats().messagesDeleted === 12',
      5000,
    );

    expect(events.map(({ event }) => event.Records.length)).toEqual([5, 5, 2]);
  });

  it('tells onReceive of every non-empty receive before the batch is invoked', async () => {
    const queues = await newQueues(30, 5);
    const received: { bodies: string[]; invokes: number }[] = [];
    const { events, fn } = recorder();
    const poller = await poll(queues, fn, {
      onReceive: (messages) =>
        received.push({ bodies: messages.map((m) => m.Body ?? ''), invokes: events.length }),
    });
    await sendBodies(queues.queueUrl, ['first']);
    await waitUntil(() => poller.stats().messagesDeleted === 1, 'first deleted', 5000);
    await sendBodies(queues.queueUrl, ['second']);
    await waitUntil(() => poller.stats().messagesDeleted === 2, 'second deleted', 5000);

    // Empty long polls happened in between (receives > 2), and none of them was reported.
    expect(received).toEqual([
      { bodies: ['first'], invokes: 0 },
      { bodies: ['second'], invokes: 1 },
    ]);
  });

  it('waits for the batching window to gather records that arrive apart', async () => {
    const queues = await newQueues(30, 5);
    const { events, fn } = recorder();
    const poller = await poll(queues, fn, { batchSize: 10, maximumBatchingWindowMs: 1200 });

    const firstSentAt = Date.now();
    await sendBodies(queues.queueUrl, ['first']);
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    await sendBodies(queues.queueUrl, ['second']);
    await waitUntil(() => poller.stats().messagesDeleted === 2, 'poller.stats().messagesDeleted === 2', 5000);

    expect(events).toHaveLength(1);
    expect(events[0]?.event.Records.map((record) => record.body)).toEqual(['first', 'second']);
    expect((events[0]?.at ?? 0) - firstSentAt).toBeGreaterThanOrEqual(1000);
  });

  it('invokes before the batching window ends once the batch is full', async () => {
    const queues = await newQueues(30, 5);
    const { events, fn } = recorder();
    const poller = await poll(queues, fn, { batchSize: 3, maximumBatchingWindowMs: 5000 });

    const sentAt = Date.now();
    await sendBodies(queues.queueUrl, ['a', 'b', 'c']);
    await waitUntil(() => poller.stats().messagesDeleted === 3, 'poller.stats().messagesDeleted === 3', 5000);

    expect(events.map(({ event }) => event.Records.length)).toEqual([3]);
    expect((events[0]?.at ?? 0) - sentAt).toBeLessThan(1000);
  });

  it('cuts a batch before it passes the 6 MB payload limit and starts the next batch with the rest', async () => {
    const queues = await newQueues(30, 5);
    const body = 'x'.repeat(700 * 1024);
    for (let index = 0; index < 10; index += 1) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: `${index}${body}` }));
    }
    const { events, fn } = recorder();

    const poller = await poll(queues, fn, { batchSize: 20, maximumBatchingWindowMs: 1000 });
    await waitUntil(
      () => poller.stats().messagesDeleted === 10,
      'poller.stats().messagesDeleted === 10',
      5000,
    );

    expect(events.map(({ event }) => event.Records.length)).toEqual([8, 2]);
    for (const { event } of events)
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(6 * 1024 * 1024);
  });

  it('redelivers only the records named in batchItemFailures, with ApproximateReceiveCount 2', async () => {
    const queues = await newQueues(1, 5);
    await sendBodies(queues.queueUrl, ['a', 'b', 'c']);
    const { events, fn } = recorder((event, call) => ({
      batchItemFailures:
        call === 1
          ? event.Records.filter((record) => record.body === 'b').map((record) => ({
              itemIdentifier: record.messageId,
            }))
          : [],
    }));

    const poller = await poll(queues, fn);
    await waitUntil(
      () => events.length === 2 && poller.stats().messagesDeleted === 3,
      'events.length === 2 && poller.stats().messagesDeleted === 3',
      5000,
    );

    expect(events[0]?.event.Records.map((record) => record.body)).toEqual(['a', 'b', 'c']);
    expect(
      events[1]?.event.Records.map((record) => [record.body, record.attributes.ApproximateReceiveCount]),
    ).toEqual([['b', '2']]);
    expect(poller.stats()).toMatchObject({ batchesSucceeded: 2, batchesFailed: 0, itemFailures: 1 });
    expect(await messagesLeft(queues.queueUrl)).toBe(0);
    expect(await messagesLeft(queues.dlqUrl)).toBe(0);
  });

  it('leaves a failing batch on the queue until the redrive policy moves it to the DLQ', async () => {
    const queues = await newQueues(1, 2);
    await sendBodies(queues.queueUrl, ['poison']);
    const { events, fn } = recorder(() => {
      throw new Error('always fails');
    });

    const poller = await poll(queues, fn);
    let dead: string[] = [];
    const deadline = Date.now() + 8000;
    while (dead.length === 0 && Date.now() < deadline) {
      const output = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.dlqUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
      );
      dead = (output.Messages ?? []).map((message) => message.Body ?? '');
    }

    expect(dead).toEqual(['poison']);
    expect(events.map(({ event }) => event.Records[0]?.attributes.ApproximateReceiveCount)).toEqual([
      '1',
      '2',
    ]);
    expect(poller.stats()).toMatchObject({ batchesFailed: 2, messagesDeleted: 0 });
  });

  it('runs a bundle through the Lambda runner and honours its partial batch response', async () => {
    const queues = await newQueues(1, 5);
    const lines: LogEntry[] = [];
    const isStart = (entry: LogEntry): boolean => entry.line.startsWith('START RequestId:');
    const started: { bodies: string[]; starts: number }[] = [];
    const fn = loadFunction({
      name: 'sqs-consumer',
      bundlePath: resolve(__dirname, 'fixtures/lambdas/sqs-batch.mjs'),
      timeoutMs: 1000,
      logSink: (entry) => lines.push(entry),
      onInvocationStart: (event) => {
        // Called where START is logged, with the event the poller gave.
        const records = (event as SqsEvent).Records;
        started.push({ bodies: records.map((r) => r.body), starts: lines.filter(isStart).length });
      },
    });
    functions.push(fn);
    await sendBodies(queues.queueUrl, ['ok', 'fail-once']);

    const poller = await poll(queues, fn);
    await waitUntil(() => poller.stats().messagesDeleted === 2, 'poller.stats().messagesDeleted === 2', 5000);

    const seen = lines
      .filter((entry) => entry.stream === 'stdout')
      .map(
        (entry) => JSON.parse(entry.line.split('\t')[3] ?? 'null') as { body: string; receiveCount: string },
      );
    expect(seen).toEqual([
      { body: 'ok', receiveCount: '1' },
      { body: 'fail-once', receiveCount: '1' },
      { body: 'fail-once', receiveCount: '2' },
    ]);
    expect(started.flatMap((s) => s.bodies).sort()).toEqual(['fail-once', 'fail-once', 'ok']);
    // Each call came right after its START line.
    expect(started.map((s) => s.starts)).toEqual(started.map((_, i) => i + 1));
  });

  it('refuses a queue whose visibility timeout is shorter than the function timeout', async () => {
    const queues = await newQueues(1, 5);

    await expect(poll(queues, recorder().fn, { functionTimeoutMs: 3000 })).rejects.toThrow(
      'Queue visibility timeout: 1 seconds is less than Function timeout: 3 seconds',
    );
  });

  it('refuses a maximum concurrency below 2, like ScalingConfig', async () => {
    const queues = await newQueues(30, 5);

    await expect(poll(queues, recorder().fn, { maximumConcurrency: 1 })).rejects.toThrow(RangeError);
  });

  it('says how many batches it keeps in flight at most: the one configured, or 2 by default', async () => {
    const queues = await newQueues(30, 5);

    expect((await poll(queues, recorder().fn, { maximumConcurrency: 7 })).maximumConcurrency).toBe(7);
    expect((await poll(queues, recorder().fn)).maximumConcurrency).toBe(2);
  });

  it('stops promptly while long polling an empty queue', async () => {
    const queues = await newQueues(30, 5);
    const poller = await poll(queues, recorder().fn);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));

    const started = Date.now();
    await poller.stop();

    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe('local SQS queues', () => {
  it('creates the queue with a redrive policy to its DLQ, both addressed on the loopback endpoint', async () => {
    const queues = await createQueueWithDlq(sqs, {
      name: 'layout',
      visibilityTimeoutSeconds: 7,
      maxReceiveCount: 3,
    });
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queues.queueUrl,
        AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'],
      }),
    );

    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(queues).toEqual({
      queueUrl: `${server.endpoint}/000000000000/layout-fanout`,
      queueArn: `arn:aws:sqs:${server.region}:000000000000:layout-fanout`,
      dlqUrl: `${server.endpoint}/000000000000/layout-fanout-dlq`,
      dlqArn: `arn:aws:sqs:${server.region}:000000000000:layout-fanout-dlq`,
    });
    expect(attributes.Attributes?.VisibilityTimeout).toBe('7');
    expect(JSON.parse(attributes.Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: queues.dlqArn,
      maxReceiveCount: 3,
    });
  });

  it('serves a client that has no endpoint configured, because the queue URL is the endpoint', async () => {
    const queues = await createQueueWithDlq(sqs, { name: 'no-endpoint' });
    const silent = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const client = new SQSClient({
      region: server.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger: silent,
    });

    const sent = await client.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'hi' }));
    client.destroy();

    expect(sent.MessageId).toEqual(expect.any(String));
    expect(await messagesLeft(queues.queueUrl)).toBe(1);
  });
});

describe('interpretBatchResponse', () => {
  const ids = new Set(['m1', 'm2']);

  it('treats null, empty and missing failure lists as complete success', () => {
    for (const response of [null, undefined, {}, { batchItemFailures: null }, { batchItemFailures: [] }]) {
      expect(interpretBatchResponse(response, ids)).toEqual({ kind: 'success' });
    }
  });

  it('returns the failed message ids of a valid partial response', () => {
    expect(interpretBatchResponse({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, ids)).toEqual({
      kind: 'partial',
      failedMessageIds: new Set(['m2']),
    });
  });

  it('treats malformed responses and unknown, empty or null identifiers as complete failure', () => {
    for (const response of [
      'not an object',
      { batchItemFailures: 'm1' },
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: null }] },
      { batchItemFailures: [{ ItemIdentifier: 'm1' }] },
      { batchItemFailures: [{ itemIdentifier: 'unknown' }] },
    ]) {
      expect(interpretBatchResponse(response, ids).kind).toBe('invalid');
    }
  });
});
