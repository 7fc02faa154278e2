import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { WorkMessage } from '../../../shared/domain/envelope';
import { chunkEntries, MAX_BATCH_BYTES, SqsWorkQueue } from '../../../shared/queue/queue-sqs';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-dlq';

const page = (source: number, data: unknown = null): WorkMessage => ({
  kind: 'fanout.page',
  event: { id: 'e', source: 's', detailType: 'd', time: 't', topics: ['a'], users: [], data },
  source,
});

describe('SqsWorkQueue', () => {
  const sqs = mockClient(SQSClient);
  const sleeps: number[] = [];
  const queue = new SqsWorkQueue(new SQSClient({ region: 'eu-west-1' }), {
    queueUrl: QUEUE_URL,
    deadLetterQueueUrl: DLQ_URL,
    maxAttempts: 3,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  beforeEach(() => {
    sqs.reset();
    sleeps.length = 0;
  });

  it('sends work messages as JSON in batches of 10', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const messages = Array.from({ length: 25 }, (_, i) => page(i));
    await queue.send(messages);

    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
    const batches = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(batches.map((b) => b.Entries?.length)).toEqual([10, 10, 5]);
    expect(batches.every((b) => b.QueueUrl === QUEUE_URL)).toBe(true);
    const bodies = batches.flatMap((b) => b.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? ''));
    expect(bodies).toEqual(messages);
    for (const batch of batches)
      expect(new Set(batch.Entries?.map((e) => e.Id)).size).toBe(batch.Entries?.length);
  });

  it('splits a batch further when its messages would exceed 256 KiB together', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    await queue.send([
      page(0, 'x'.repeat(100_000)),
      page(1, 'x'.repeat(100_000)),
      page(2, 'x'.repeat(100_000)),
    ]);
    const sizes = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries?.length);
    expect(sizes).toEqual([2, 1]);
  });

  it('retries only the entries SQS failed, with backoff', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: 'm1', Code: 'InternalError', SenderFault: false }] })
      .resolves({});
    await queue.send([page(0), page(1), page(2)]);

    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Entries).toEqual([{ Id: 'm1', MessageBody: JSON.stringify(page(1)) }]);
    expect(sleeps).toEqual([50]);
  });

  it('throws when entries keep failing, naming them', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Failed: [{ Id: 'm0', Code: 'ServiceUnavailable', SenderFault: false }] });
    await expect(queue.send([page(0)])).rejects.toThrow(
      /1 entries still failing after 3 attempt\(s\): m0: ServiceUnavailable/,
    );
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
    expect(sleeps).toEqual([50, 100]);
  });

  it('does not retry a sender fault', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: 'm0', Code: 'InvalidParameterValue', SenderFault: true, Message: 'bad' }],
    });
    await expect(queue.send([page(0)])).rejects.toThrow('InvalidParameterValue (bad)');
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });

  it('propagates an SQS outage', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('connect ECONNREFUSED'));
    await expect(queue.send([page(0)])).rejects.toThrow('ECONNREFUSED');
  });

  it('dead-letters the original body unchanged, with the reason and detail as attributes', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    await queue.deadLetter([
      { body: '{not json', reason: 'malformed', detail: 'body is not JSON' },
      { body: '{"id":"e"}', reason: 'payload_too_large' },
    ]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: DLQ_URL,
      Entries: [
        {
          Id: 'd0',
          MessageBody: '{not json',
          MessageAttributes: {
            'fanout.reason': { DataType: 'String', StringValue: 'malformed' },
            'fanout.detail': { DataType: 'String', StringValue: 'body is not JSON' },
          },
        },
        {
          Id: 'd1',
          MessageBody: '{"id":"e"}',
          MessageAttributes: { 'fanout.reason': { DataType: 'String', StringValue: 'payload_too_large' } },
        },
      ],
    });
  });

  it('sends nothing for an empty list', async () => {
    await queue.send([]);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });
});

describe('chunkEntries', () => {
  it('never puts more than 256 KiB or 10 entries in one chunk', () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({
      Id: `m${i}`,
      MessageBody: 'y'.repeat(i * 2000),
    }));
    const chunks = chunkEntries(entries);
    expect(chunks.flat()).toEqual(entries);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(10);
      expect(chunk.reduce((n, e) => n + e.MessageBody.length, 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    }
  });
});
