/**
 * `fanout inspect` and the snapshot behind it (sdk/cli/src/inspect.ts) with the AWS clients mocked:
 * which bounded reads it makes, how invocations are read from the fan-out's log lines, how a part
 * that fails is reported with its code while the rest is shown, and the command's refusals. The
 * browser test (test/e2e/dashboard.test.ts) and test/integration/platform-inspect.test.ts run it
 * against the local platform.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '@fanout/cli';
import {
  awsTelemetry,
  type InspectorTarget,
  inspect,
  type LogLine,
  redriveLetters,
  renderSnapshot,
  SCAN_MAX_PAGES,
  SCAN_PAGE_LIMIT,
  summarizeInvocations,
} from '../../../sdk/cli/src/inspect';

const dynamodb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
const cloudWatch = mockClient(CloudWatchClient);
const logs = mockClient(CloudWatchLogsClient);

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/prod-fanout';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/prod-fanout-dlq';
const NOW = Date.parse('2026-12-02T10:00:00Z');

beforeEach(() => {
  dynamodb.reset();
  sqs.reset();
  cloudWatch.reset();
  logs.reset();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const line = (message: string, logStream = 's1', timestamp = NOW): LogLine => ({
  message,
  logStream,
  timestamp,
});
const emf = (metrics: Record<string, number | number[]>) =>
  JSON.stringify({ _aws: { Timestamp: NOW, CloudWatchMetrics: [] }, service: 'fanout', ...metrics });

function target(telemetry: Partial<InspectorTarget['telemetry']> = {}): InspectorTarget {
  return {
    mode: 'aws',
    tableName: 'prod-connections',
    queueUrl: QUEUE,
    dlqUrl: DLQ,
    dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
    sqs: new SQSClient({ region: 'eu-west-1' }),
    telemetry: {
      oldestMessageAgeSeconds: async () => 42,
      fanoutLogLines: async () => [],
      ...telemetry,
    },
  };
}

const meta = (id: string, userId: string, connectedAt: number, subscriptions: string[]) => ({
  pk: { S: `CONN#${id}` },
  userId: { S: userId },
  sourceIp: { S: '203.0.113.7' },
  connectedAt: { N: String(connectedAt) },
  subscriptions: { L: subscriptions.map((S) => ({ S })) },
});

describe('summarizeInvocations', () => {
  it('adds up each invocation’s figures between START and REPORT, newest first', () => {
    const views = summarizeInvocations([
      line('START RequestId: a Version: $LATEST', 's1', NOW),
      line('{"level":"INFO","message":"delivered","audience":2}', 's1'),
      line(emf({ AudienceSize: [2, 3], Delivered: [2, 1], Pruned: 1, Throttled: 1, Retried: 1 }), 's1'),
      line('{"level":"INFO","message":"delivered","audience":3}', 's1'),
      line('REPORT RequestId: a\tDuration: 12.50 ms\tBilled Duration: 13 ms', 's1'),
      line('START RequestId: b Version: $LATEST', 's1', NOW + 1000),
      line('{"level":"WARN","message":"dead-lettering a malformed record"}', 's1'),
      line('{"level":"INFO","message":"dropping an expired event"}', 's1'),
      line('REPORT RequestId: b\tDuration: 3.00 ms\tBilled Duration: 3 ms', 's1'),
    ]);
    expect(views).toEqual([
      expect.objectContaining({ requestId: 'b', durationMs: 3, records: 2, audience: 0 }),
      {
        requestId: 'a',
        startedAt: new Date(NOW).toISOString(),
        durationMs: 12.5,
        records: 2,
        audience: 5,
        delivered: 3,
        pruned: 1,
        throttled: 1,
        retried: 1,
        failed: 0,
        error: null,
      },
    ]);
  });

  it('keeps concurrent invocations apart by log stream', () => {
    const views = summarizeInvocations([
      line('START RequestId: a Version: $LATEST', 'env-1', NOW),
      line('START RequestId: b Version: $LATEST', 'env-2', NOW + 1),
      line(emf({ Delivered: 7 }), 'env-2'),
      line(emf({ Delivered: 1, Failed: 2 }), 'env-1'),
      line('REPORT RequestId: a\tDuration: 5.00 ms', 'env-1'),
      line('REPORT RequestId: b\tDuration: 6.00 ms', 'env-2'),
    ]);
    expect(views.map((v) => [v.requestId, v.delivered, v.failed])).toEqual([
      ['b', 7, 0],
      ['a', 1, 2],
    ]);
  });

  it('shows an invocation still running without a duration, and a timed-out one with its status', () => {
    const views = summarizeInvocations([
      line('START RequestId: t Version: $LATEST', 's1', NOW),
      line('REPORT RequestId: t\tDuration: 60000.00 ms\tStatus: timeout', 's1'),
      line('START RequestId: r Version: $LATEST', 's2', NOW + 5),
      line(
        `2026-12-02T10:00:00.000Z\tr\tERROR\t${JSON.stringify({ errorType: 'TypeError', errorMessage: 'x' })}`,
        's2',
      ),
    ]);
    expect(views.map((v) => [v.requestId, v.durationMs, v.error])).toEqual([
      ['r', null, 'TypeError'],
      ['t', 60000, 'timeout'],
    ]);
  });

  it('ignores lines outside an invocation and lines that are not JSON', () => {
    expect(
      summarizeInvocations([
        line(emf({ Delivered: 1 })),
        line('INIT_START Runtime Version: nodejs:22'),
        line('START RequestId: a Version: $LATEST'),
        line('plain text from a library'),
        line('{not json'),
        line('REPORT RequestId: a\tDuration: 1.00 ms'),
      ]),
    ).toEqual([expect.objectContaining({ requestId: 'a', delivered: 0, records: 0, error: null })]);
  });
});

describe('inspect', () => {
  it('reads connections with a bounded scan of META rows and counts each pattern in its index', async () => {
    dynamodb.on(ScanCommand).resolves({
      Items: [
        meta('b', 'bob', NOW - 90_000, ['orders/*']),
        meta('a', 'alice', NOW - 5000, ['orders/*', 'demo/*']),
      ],
    });
    dynamodb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: 'TOPIC#orders/*' } } })
      .resolves({ Count: 2 })
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: 'TOPIC#demo/*' } } })
      .resolves({ Count: 1 });
    sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: {
        ApproximateNumberOfMessages: '3',
        ApproximateNumberOfMessagesNotVisible: '1',
        ApproximateNumberOfMessagesDelayed: '0',
      },
    });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: DLQ })
      .resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
    const snapshot = await inspect(target(), NOW);
    expect(snapshot.problems).toEqual([]);
    expect(snapshot.connections).toEqual({
      count: 2,
      truncated: false,
      items: [
        {
          connectionId: 'b',
          userId: 'bob',
          connectedAt: new Date(NOW - 90_000).toISOString(),
          ageSeconds: 90,
          sourceIp: '203.0.113.7',
          subscriptions: ['orders/*'],
        },
        expect.objectContaining({ connectionId: 'a', ageSeconds: 5, subscriptions: ['demo/*', 'orders/*'] }),
      ],
    });
    expect(snapshot.patterns).toEqual([
      { pattern: 'demo/*', subscribers: 1, atLeast: false },
      { pattern: 'orders/*', subscribers: 2, atLeast: false },
    ]);
    expect(snapshot.queue).toEqual({ url: QUEUE, visible: 3, inFlight: 1, delayed: 0, oldestAgeSeconds: 42 });
    // An empty DLQ is not received from, and has no oldest message.
    expect(snapshot.dlq).toMatchObject({ visible: 0, letters: [], complete: true, oldestAgeSeconds: null });
    expect(sqs).not.toHaveReceivedCommand(ReceiveMessageCommand);
    expect(dynamodb).toHaveReceivedCommandWith(ScanCommand, {
      TableName: 'prod-connections',
      Limit: SCAN_PAGE_LIMIT,
      FilterExpression: 'sk = :meta AND begins_with(pk, :conn)',
    });
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, {
      Select: 'COUNT',
      KeyConditionExpression: 'pk = :pk',
    });
  });

  it('stops scanning after its page limit and says the count is a lower bound', async () => {
    dynamodb
      .on(ScanCommand)
      .resolves({ Items: [meta('x', 'u', NOW, [])], LastEvaluatedKey: { pk: { S: 'k' } } });
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    const snapshot = await inspect(target(), NOW);
    expect(dynamodb).toHaveReceivedCommandTimes(ScanCommand, SCAN_MAX_PAGES);
    expect(snapshot.connections).toMatchObject({ count: SCAN_MAX_PAGES, truncated: true });
    expect(renderSnapshot(snapshot)).toContain(
      `connections: ${SCAN_MAX_PAGES} (at least: the scan stopped at its limit)`,
    );
  });

  it('reports each part that fails with its code and still shows the others', async () => {
    dynamodb.on(ScanCommand).rejects(new Error('connect ECONNREFUSED'));
    sqs
      .on(GetQueueAttributesCommand)
      .rejects(Object.assign(new Error('no such queue'), { name: 'QueueDoesNotExist' }));
    const snapshot = await inspect(
      target({
        fanoutLogLines: async () => [
          line('START RequestId: a Version: $LATEST'),
          line('REPORT RequestId: a\tDuration: 2.00 ms'),
        ],
      }),
      NOW,
    );
    expect(snapshot.problems.map((p) => [p.part, p.code])).toEqual([
      ['connections', 'table_unreachable'],
      ['queue', 'queue_unreachable'],
      ['dlq', 'dlq_unreachable'],
    ]);
    expect(snapshot.problems[0]?.message).toContain('ECONNREFUSED');
    expect(snapshot.invocations).toHaveLength(1);
  });

  it('reports telemetry it cannot read as telemetry_unavailable', async () => {
    dynamodb.on(ScanCommand).resolves({ Items: [] });
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    const snapshot = await inspect(
      target({
        fanoutLogLines: async () => {
          throw new Error('AccessDeniedException: logs:FilterLogEvents');
        },
      }),
      NOW,
    );
    expect(snapshot.problems).toEqual([
      {
        part: 'invocations',
        code: 'telemetry_unavailable',
        message: 'Error: AccessDeniedException: logs:FilterLogEvents',
      },
    ]);
  });

  it('lists dead letters with their reason, and releases them at once', async () => {
    dynamodb.on(ScanCommand).resolves({ Items: [] });
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'm1',
            ReceiptHandle: 'h1',
            Body: 'not json',
            Attributes: { SentTimestamp: String(NOW - 1000), ApproximateReceiveCount: '1' },
            MessageAttributes: { 'fanout.reason': { DataType: 'String', StringValue: 'malformed' } },
          },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Failed: [] });
    const snapshot = await inspect(target(), NOW);
    expect(snapshot.dlq.letters).toEqual([
      {
        messageId: 'm1',
        sentAt: new Date(NOW - 1000).toISOString(),
        receiveCount: 1,
        reason: 'malformed',
        detail: null,
        summary: expect.stringContaining('not json'),
      },
    ]);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityBatchCommand, {
      Entries: [{ Id: 'l0', ReceiptHandle: 'h1', VisibilityTimeout: 0 }],
    });
    expect(renderSnapshot(snapshot).join('\n')).toMatch(/m1 +\S+ +malformed/);
  });
});

describe('redriveLetters', () => {
  const letter = { MessageId: 'm1', ReceiptHandle: 'h1', Body: '{"e":1}' };

  it('sends the letter to the fan-out queue, then deletes it from the DLQ', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [letter] })
      .resolves({ Messages: [] });
    sqs.on(SendMessageCommand).resolves({ MessageId: 'new' });
    sqs.on(DeleteMessageCommand).resolves({});
    await expect(redriveLetters(target(), ['m1'])).resolves.toEqual(['m1']);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE, MessageBody: '{"e":1}' });
    expect(sqs).toHaveReceivedCommandWith(DeleteMessageCommand, { QueueUrl: DLQ, ReceiptHandle: 'h1' });
  });

  it('refuses with letter_not_found when the letter is not on the DLQ', async () => {
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
    await expect(redriveLetters(target(), ['gone'])).rejects.toMatchObject({ code: 'letter_not_found' });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('fails with redrive_failed and keeps the letter when the fan-out queue refuses it', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [letter] })
      .resolves({ Messages: [] });
    sqs.on(SendMessageCommand).rejects(new Error('throttled'));
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Failed: [] });
    await expect(redriveLetters(target(), ['m1'])).rejects.toMatchObject({
      code: 'redrive_failed',
      message: expect.stringContaining('moved 0 of 1'),
    });
    expect(sqs).not.toHaveReceivedCommand(DeleteMessageCommand);
  });
});

describe('awsTelemetry', () => {
  const telemetry = () =>
    awsTelemetry({
      cloudWatch: new CloudWatchClient({ region: 'eu-west-1' }),
      logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
      logGroupName: '/aws/lambda/prod-fanout',
    });

  it('takes the oldest message age from the latest CloudWatch datapoint of the queue', async () => {
    cloudWatch.on(GetMetricStatisticsCommand).resolves({
      Datapoints: [
        { Timestamp: new Date(NOW - 120_000), Maximum: 300 },
        { Timestamp: new Date(NOW - 60_000), Maximum: 12 },
      ],
    });
    await expect(telemetry().oldestMessageAgeSeconds(QUEUE)).resolves.toBe(12);
    expect(cloudWatch).toHaveReceivedCommandWith(GetMetricStatisticsCommand, {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: 'prod-fanout' }],
    });
  });

  it('has no age when CloudWatch has no datapoint', async () => {
    cloudWatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
    await expect(telemetry().oldestMessageAgeSeconds(QUEUE)).resolves.toBeNull();
  });

  it('reads the log group page by page up to the limit, oldest first', async () => {
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({
        events: [{ message: 'b\n', timestamp: 2, logStreamName: 's' }],
        nextToken: 't',
      })
      .resolvesOnce({ events: [{ message: 'a', timestamp: 1, logStreamName: 's' }], nextToken: 'u' })
      .resolves({ events: [{ message: 'never read', timestamp: 3, logStreamName: 's' }] });
    await expect(telemetry().fanoutLogLines(2)).resolves.toEqual([
      { message: 'a', timestamp: 1, logStream: 's' },
      { message: 'b', timestamp: 2, logStream: 's' },
    ]);
    expect(logs).toHaveReceivedCommandTimes(FilterLogEventsCommand, 2);
    expect(logs).toHaveReceivedCommandWith(FilterLogEventsCommand, {
      logGroupName: '/aws/lambda/prod-fanout',
      limit: 2,
    });
  });
});

describe('fanout inspect', () => {
  const tempDir = () => mkdtempSync(join(tmpdir(), 'fanout-inspect-'));

  it('prints its help with --help', async () => {
    const { io, out } = capture();
    await expect(main(['inspect', '--help'], io)).resolves.toBe(0);
    expect(out.join('\n')).toContain('fanout inspect [--json]');
  });

  it('refuses an unknown option with exit 2', async () => {
    const { io, err } = capture();
    await expect(main(['inspect', '--nope'], io)).resolves.toBe(2);
    expect(err.join('\n')).toContain("Unknown option '--nope'");
  });

  it('refuses without a local platform, naming config_not_found', async () => {
    const { io, err } = capture();
    await expect(main(['inspect', '--config', join(tempDir(), 'none.json')], io)).resolves.toBe(1);
    expect(err[0]).toMatch(/^fanout inspect: config_not_found: .*none\.json does not exist/);
  });

  it('refuses a local.json that is not JSON, naming config_invalid', async () => {
    const file = join(tempDir(), 'local.json');
    writeFileSync(file, '{"region":');
    const { io, err } = capture();
    await expect(main(['inspect', '--config', file], io)).resolves.toBe(1);
    expect(err[0]).toMatch(/^fanout inspect: config_invalid: .*local\.json is not JSON/);
  });

  it('needs --terraform-dir with --aws', async () => {
    const { io, err } = capture();
    await expect(main(['inspect', '--aws'], io)).resolves.toBe(2);
    expect(err[0]).toContain('--terraform-dir DIR');
  });

  it('refuses a stack without the outputs it reads, naming the output', async () => {
    const dir = tempDir();
    const file = join(dir, 'terraform');
    const outputs = { table_name: { value: 'prod-connections' }, fanout_queue_url: { value: QUEUE } };
    writeFileSync(file, `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(outputs)}\nJSON\n`);
    chmodSync(file, 0o755);
    const { io, err } = capture();
    const env = { PATH: `${dir}:${process.env.PATH ?? ''}` };
    await expect(main(['inspect', '--aws', '--terraform-dir', '/stack'], io, env)).resolves.toBe(1);
    expect(err[0]).toBe(
      'fanout inspect: terraform_output_missing: the stack in /stack has no output log_group_names.fanout (has it been applied?)',
    );
  });

  it('reads the stack of --terraform-dir through DynamoDB, SQS, CloudWatch and CloudWatch Logs', async () => {
    const dir = tempDir();
    const file = join(dir, 'terraform');
    const outputs = {
      table_name: { value: 'prod-connections' },
      fanout_queue_url: { value: QUEUE },
      fanout_dlq_url: { value: DLQ },
      log_group_names: { value: { fanout: '/aws/lambda/prod-fanout' } },
      region: { value: 'eu-west-1' },
    };
    writeFileSync(file, `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(outputs)}\nJSON\n`);
    chmodSync(file, 0o755);
    dynamodb.on(ScanCommand).resolves({ Items: [meta('a', 'alice', Date.now(), ['demo/*'])] });
    dynamodb.on(QueryCommand).resolves({ Count: 1 });
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
    logs.on(FilterLogEventsCommand).resolves({
      events: [
        { message: 'START RequestId: r1 Version: 7', timestamp: NOW, logStreamName: 's' },
        { message: emf({ AudienceSize: 1, Delivered: 1 }), timestamp: NOW, logStreamName: 's' },
        { message: 'REPORT RequestId: r1\tDuration: 8.00 ms', timestamp: NOW, logStreamName: 's' },
      ],
    });
    const { io, out, err } = capture();
    const env = {
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    };
    await expect(main(['inspect', '--aws', '--terraform-dir', '/stack', '--json'], io, env)).resolves.toBe(0);
    expect(err).toEqual([]);
    const snapshot = JSON.parse(out.join('\n'));
    expect(snapshot).toMatchObject({
      mode: 'aws',
      tableName: 'prod-connections',
      connections: { count: 1 },
      patterns: [{ pattern: 'demo/*', subscribers: 1 }],
      invocations: [{ requestId: 'r1', audience: 1, delivered: 1, durationMs: 8 }],
    });
    expect(dynamodb).toHaveReceivedCommandWith(ScanCommand, { TableName: 'prod-connections' });
  });
});
