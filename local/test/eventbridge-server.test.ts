import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeEventBusCommand,
  EventBridgeClient,
  ListRulesCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type LocalEventBridge, startEventBridge } from '../eventbridge/server.js';

/**
 * The local EventBridge between the real SDK clients and fauxqs (the local SQS), both in this
 * process on ephemeral loopback ports: what a publisher sends is what the fan-out queue receives.
 */

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const BUS = 'fanout-test';
const NARROW_BUS = 'narrow-test';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const rulePattern = readFileSync(
  join(__dirname, '../../terraform/modules/fanout/event-pattern.json'),
  'utf8',
);
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Fauxqs = Awaited<ReturnType<typeof import('fauxqs').startFauxqs>>;

let fauxqs: Fauxqs;
let sqs: SQSClient;
let queueUrl: string;
let bus: LocalEventBridge;
let events: EventBridgeClient;
const logs: Array<{ level: string; message: string }> = [];

/** fauxqs is ESM-only; under jest it needs to be transformed (see the jest config this suite runs with). */
async function startSqs(): Promise<Fauxqs> {
  try {
    const { startFauxqs } = await import('fauxqs');
    return await startFauxqs({ port: 0, logger: false });
  } catch (error) {
    throw new Error(
      'Could not load fauxqs (ESM only). jest.config.cjs needs transformIgnorePatterns ' +
        "['/node_modules/(?!(jose|fauxqs)/)'] and moduleNameMapper { '^fauxqs$': " +
        `'<rootDir>/node_modules/fauxqs/dist/app.js' }. Cause: ${String(error)}`,
    );
  }
}

/** The fan-out queue and its DLQ, with the redrive policy the Terraform gives them. */
async function createQueues(): Promise<string> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'fanout-dlq' }));
  const dlqAttributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'fanout',
      Attributes: {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes?.QueueArn,
          maxReceiveCount: 5,
        }),
      },
    }),
  );
  if (!main.QueueUrl) throw new Error('CreateQueue returned no QueueUrl');
  return main.QueueUrl;
}

beforeAll(async () => {
  fauxqs = await startSqs();
  sqs = new SQSClient({ endpoint: fauxqs.address, region: REGION, credentials });
  queueUrl = await createQueues();
  bus = await startEventBridge({
    region: REGION,
    accountId: ACCOUNT,
    buses: [
      {
        name: BUS,
        rules: [
          { name: 'fanout', pattern: rulePattern, targets: [{ type: 'sqs', queueUrl, sqsClient: sqs }] },
        ],
      },
      {
        // fanout's own rule takes every event on its bus; this one shows an event a rule leaves alone.
        name: NARROW_BUS,
        rules: [
          {
            name: 'orders-only',
            pattern: { source: ['orders'] },
            targets: [{ type: 'sqs', queueUrl, sqsClient: sqs }],
          },
        ],
      },
    ],
    now: () => new Date('2026-11-24T10:00:00.250Z'),
    log: (entry) => logs.push(entry),
  });
  events = new EventBridgeClient({ endpoint: bus.endpoint, region: REGION, credentials });
});

afterAll(async () => {
  events?.destroy();
  await bus?.close();
  sqs?.destroy();
  await fauxqs?.stop();
});

// Deliveries run after PutEvents answers: let the previous test's settle before emptying the queues.
beforeEach(async () => {
  await bus.idle();
  fauxqs.reset();
});

function entry(detail: unknown, overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry {
  return {
    EventBusName: BUS,
    Source: 'orders',
    DetailType: 'OrderUpdated',
    Detail: JSON.stringify(detail),
    ...overrides,
  };
}

/** Waits until deliveries settle, then drains the queue. */
async function receiveAll(): Promise<Message[]> {
  await bus.idle();
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
  }
}

describe('the local EventBridge with an SQS target', () => {
  afterEach(async () => {
    await bus.idle();
    expect(logs.filter((logged) => logged.level === 'warn' || logged.level === 'error')).toEqual([]);
  });

  it('delivers a matching event to the queue as the exact EventBridge envelope', async () => {
    const detail = { topics: ['orders/eu/1234'], data: { status: 'shipped', total: 12.5 } };
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          entry(detail, {
            Time: new Date('2026-11-24T09:59:58.900Z'),
            Resources: ['arn:aws:orders:eu:1:order/1234'],
          }),
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(0);
    const eventId = result.Entries?.[0]?.EventId ?? '';
    expect(eventId).toMatch(UUID_V4);
    const [message, ...others] = await receiveAll();
    expect(others).toEqual([]);
    expect(message?.Body).toBe(
      `{"version":"0","id":"${eventId}","detail-type":"OrderUpdated","source":"orders","account":"${ACCOUNT}",` +
        `"time":"2026-11-24T09:59:58Z","region":"${REGION}","resources":["arn:aws:orders:eu:1:order/1234"],` +
        `"detail":${JSON.stringify(detail)}}`,
    );
    expect(message?.MessageAttributes).toBeUndefined();
  });

  it('stamps an entry without Time with the time of the call and gives it empty resources', async () => {
    const result = await events.send(
      new PutEventsCommand({ Entries: [entry({ users: ['alice'], data: 1 })] }),
    );

    const [message] = await receiveAll();
    expect(JSON.parse(message?.Body ?? '{}')).toMatchObject({
      id: result.Entries?.[0]?.EventId,
      time: '2026-11-24T10:00:00Z',
      resources: [],
    });
  });

  it('accepts an event the rule does not match and delivers nothing', async () => {
    const matchedBefore = bus.stats().matched;
    const result = await events.send(
      new PutEventsCommand({
        Entries: [entry({ topics: ['x'] }, { EventBusName: NARROW_BUS, Source: 'billing' })],
      }),
    );

    expect(result).toMatchObject({
      FailedEntryCount: 0,
      Entries: [{ EventId: expect.stringMatching(UUID_V4) }],
    });
    expect(await receiveAll()).toEqual([]);
    expect(bus.stats().matched).toBe(matchedBefore);
  });

  it('answers a mixed batch entry by entry and delivers the good entries', async () => {
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          entry({ topics: ['a'] }),
          entry({ topics: ['b'] }, { Source: undefined }),
          entry({ topics: ['c'] }),
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries).toEqual([
      { EventId: expect.stringMatching(UUID_V4) },
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
      },
      { EventId: expect.stringMatching(UUID_V4) },
    ]);
    const delivered = (await receiveAll()).map((message) => JSON.parse(message.Body ?? '{}').id).sort();
    expect(delivered).toEqual([result.Entries?.[0]?.EventId, result.Entries?.[2]?.EventId].sort());
  });

  it('fails entries for a bus that does not exist, and takes the bus by ARN', async () => {
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          entry({ topics: ['a'] }, { EventBusName: 'no-such-bus' }),
          entry({ topics: ['a'] }, { EventBusName: undefined }),
          entry({ topics: ['a'] }, { EventBusName: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${BUS}` }),
          entry({ topics: ['a'] }, { EventBusName: `arn:aws:events:eu-west-1:${ACCOUNT}:event-bus/${BUS}` }),
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries).toEqual([
      { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus no-such-bus does not exist.' },
      { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus default does not exist.' },
      { EventId: expect.stringMatching(UUID_V4) },
      expect.objectContaining({ ErrorCode: 'ResourceNotFoundException' }),
    ]);
    expect(await receiveAll()).toHaveLength(1);
  });

  it('fails an entry whose Detail is not a JSON object with MalformedDetail', async () => {
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          entry({ topics: ['a'] }, { Detail: 'not json' }),
          entry({}, { Detail: '["topics"]' }),
          entry({ users: ['u'] }),
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries?.slice(0, 2)).toEqual([
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
    ]);
  });

  it('refuses more than 10 entries with a ValidationException the SDK throws by name', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => entry({ topics: [`t${i}`] }));

    await expect(events.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('less than or equal to 10'),
      $metadata: { httpStatusCode: 400 },
    });
    expect(await receiveAll()).toEqual([]);
  });

  it('refuses the whole request when no entry has Source, DetailType and Detail', async () => {
    const entries = [
      entry({ topics: ['a'] }, { Source: undefined }),
      entry({ topics: ['a'] }, { DetailType: '' }),
    ];

    await expect(events.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('refuses a request whose entries reach 256 KB, as AWS does', async () => {
    const big = entry({ topics: ['a'], data: 'x'.repeat(256 * 1024) });

    await expect(events.send(new PutEventsCommand({ Entries: [big] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
  });

  it('describes its bus and lists the rule with the pattern read from the Terraform', async () => {
    await expect(events.send(new DescribeEventBusCommand({ Name: BUS }))).resolves.toMatchObject({
      Name: BUS,
      Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${BUS}`,
    });
    const { Rules } = await events.send(new ListRulesCommand({ EventBusName: BUS }));
    expect(Rules).toEqual([
      expect.objectContaining({
        Name: 'fanout',
        EventBusName: BUS,
        EventPattern: rulePattern,
        State: 'ENABLED',
      }),
    ]);
    await expect(events.send(new DescribeEventBusCommand({ Name: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('answers an unknown operation with UnknownOperationException', async () => {
    const response = await fetch(bus.endpoint, {
      method: 'POST',
      headers: { 'X-Amz-Target': 'AWSEvents.PutRule', 'Content-Type': 'application/x-amz-json-1.1' },
      body: '{}',
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('target delivery failures', () => {
  it('retries a failing send with backoff until it succeeds, and counts the retries', async () => {
    const bodies: string[] = [];
    let failuresLeft = 2;
    const flakyTarget = {
      type: 'sqs' as const,
      queueUrl: 'memory://flaky',
      send: async (body: string) => {
        if (failuresLeft-- > 0) throw new Error('queue still starting');
        bodies.push(body);
      },
    };
    const flaky = await startEventBridge({
      buses: [
        { name: 'default', rules: [{ name: 'all', pattern: { source: ['s'] }, targets: [flakyTarget] }] },
      ],
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      log: () => {},
    });
    try {
      const client = new EventBridgeClient({ endpoint: flaky.endpoint, region: REGION, credentials });
      await client.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] }));
      client.destroy();
      await flaky.idle();

      expect(bodies).toHaveLength(1);
      expect(flaky.stats()).toMatchObject({
        delivered: 1,
        failedAttempts: 2,
        retried: 2,
        dropped: 0,
        pending: 0,
      });
    } finally {
      await flaky.close();
    }
  });

  it('logs and reports a delivery dropped after its last attempt', async () => {
    const failing: Array<{ level: string; message: string }> = [];
    const lost = await startEventBridge({
      buses: [
        {
          name: 'default',
          rules: [
            {
              name: 'to-missing-queue',
              pattern: { source: ['s'] },
              targets: [{ type: 'sqs', queueUrl: `${queueUrl}-missing`, sqsClient: sqs }],
            },
          ],
        },
      ],
      retry: { maxAttempts: 2, baseDelayMs: 5 },
      log: (logged) => failing.push(logged),
    });
    try {
      const client = new EventBridgeClient({ endpoint: lost.endpoint, region: REGION, credentials });
      const result = await client.send(
        new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] }),
      );
      client.destroy();
      await lost.idle();

      expect(result.FailedEntryCount).toBe(0);
      const stats = lost.stats();
      expect(stats).toMatchObject({ delivered: 0, failedAttempts: 2, dropped: 1 });
      expect(stats.failures.at(-1)).toMatchObject({
        eventId: result.Entries?.[0]?.EventId,
        ruleName: 'to-missing-queue',
        final: true,
        error: expect.stringContaining('QueueDoesNotExist'),
      });
      expect(failing.map((logged) => logged.level)).toEqual(expect.arrayContaining(['warn', 'error']));
    } finally {
      await lost.close();
    }
  });
});
