/**
 * `fanout dlq list|show|redrive` with the SQS client mocked: what each command asks SQS, what it
 * prints, and every way it refuses. The integration test (test/integration/platform-dlq.test.ts)
 * runs the same commands against the local platform's real queues.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '@fanout/cli';
import { DETAIL_ATTRIBUTE, REASON_ATTRIBUTE } from '../../../sdk/cli/src/dlq-letters';
import { summarize, summaryLine } from '../../../sdk/cli/src/dlq-summary';
import { regionOfQueueUrl, resolveTarget } from '../../../sdk/cli/src/dlq-target';
import * as platformQueue from '../../../shared/queue/queue-sqs';

const sqs = mockClient(SQSClient);

const LOCAL_DLQ = 'http://127.0.0.1:9/000000000000/fanout-local-dlq';
const LOCAL_QUEUE = 'http://127.0.0.1:9/000000000000/fanout-local';
const AWS_DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/prod-fanout-dlq';
const AWS_QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/prod-fanout';
const AWS_EVENTS_DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/prod-events-dlq';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) },
    out,
    err,
    text: () => out.join('\n'),
  };
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'fanout-cli-dlq-'));

function localConfigFile(): string {
  const file = join(tempDir(), 'local.json');
  writeFileSync(
    file,
    JSON.stringify({
      region: 'us-east-1',
      websocketUrl: 'ws://127.0.0.1:9/local',
      managementEndpoint: 'http://127.0.0.1:9/local',
      eventBridgeEndpoint: 'http://127.0.0.1:9/',
      sqsEndpoint: 'http://127.0.0.1:9/',
      dynamodbEndpoint: 'http://127.0.0.1:9/',
      eventBusName: 'fanout-local',
      tableName: 'fanout-local-connections',
      queueUrl: LOCAL_QUEUE,
      dlqUrl: LOCAL_DLQ,
      jwtSecret: 'cli-test-secret-0123456789abcdef0123',
      token: 'npx fanout token',
    }),
  );
  return file;
}

const envelope = (id: string, topics: string[]) =>
  JSON.stringify({
    version: '0',
    id,
    'detail-type': 'Notification',
    source: 'tests',
    account: '000000000000',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { topics, data: { big: 'x' } },
  });

const retryBody = (eventId: string, connectionIds: string[]) =>
  JSON.stringify({
    kind: 'fanout.retry',
    attempt: 1,
    event: {
      id: eventId,
      source: 's',
      detailType: 'd',
      time: 't',
      topics: ['demo/a'],
      users: [],
      data: 1,
    },
    targets: [{ source: 0, connectionIds }],
  });

let handles = 0;
function letter(
  id: string,
  body: string,
  attributes: Record<string, string> = {},
  extra: { sent?: number; receives?: number } = {},
): Message {
  handles += 1;
  return {
    MessageId: id,
    ReceiptHandle: `${id}-handle-${handles}`,
    Body: body,
    Attributes: {
      SentTimestamp: String(extra.sent ?? Date.UTC(2026, 0, 2, 3, 4, 5)),
      ApproximateReceiveCount: String(extra.receives ?? 1),
    },
    MessageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
    ),
  };
}

const tooLarge = () =>
  letter('m-large', envelope('ev-large', ['demo/big']), {
    [REASON_ATTRIBUTE]: 'payload_too_large',
    [DETAIL_ATTRIBUTE]: 'frame for source 0 is 140000 bytes, over 131072',
  });
const malformed = () =>
  letter('m-bad', '{"kind":"fanout.page"}', {
    [REASON_ATTRIBUTE]: 'malformed',
    [DETAIL_ATTRIBUTE]: 'invalid work message: event: expected object',
  });
const fromRedrivePolicy = () =>
  letter('m-queue', envelope('ev-queue', ['demo/q']), {}, { sent: Date.UTC(2026, 0, 1), receives: 6 });

/** The DLQ holds these letters: one receive returns them, the next finds none. */
function dlqHolds(...messages: Message[]): void {
  sqs
    .on(GetQueueAttributesCommand)
    .resolves({ Attributes: { ApproximateNumberOfMessages: String(messages.length) } });
  sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({});
  sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'sent' });
  sqs.on(DeleteMessageCommand).resolves({});
}

/** Receipt handles given back with ChangeMessageVisibility 0 (made visible again). */
function released(): string[] {
  return sqs.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => {
      expect(entry.VisibilityTimeout).toBe(0);
      return entry.ReceiptHandle ?? '';
    }),
  );
}

const deleted = () =>
  sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle ?? '');
const sentBodies = () =>
  sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageBody ?? '');

beforeEach(() => sqs.reset());

describe('fanout dlq list', () => {
  it('lists every letter with its id, sent time, receive count, reason and a summary of its body', async () => {
    dlqHolds(tooLarge(), malformed(), fromRedrivePolicy());
    const { io, out, err } = capture();
    expect(await main(['dlq', 'list', '--config', localConfigFile()], io, {})).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toBe(`3 letter(s) on the fan-out DLQ ${LOCAL_DLQ}`);
    expect(out[1]).toMatch(/^ID\s+SENT\s+RECEIVES\s+REASON\s+SUMMARY$/);
    // Oldest first: the letter the queue moved was sent a day earlier.
    expect(out[2]).toMatch(
      /^m-queue\s+2026-01-01T00:00:00Z\s+6\s+redriven by the queue\s+event ev-queue topics demo\/q$/,
    );
    expect(out[3]).toMatch(
      /^m-large\s+2026-01-02T03:04:05Z\s+1\s+payload_too_large\s+event ev-large topics demo\/big$/,
    );
    expect(out[4]).toMatch(/^m-bad\s+\S+\s+1\s+malformed\s+page of event \(no id\)$/);
  });

  it('leaves the letters on the queue: it receives them with a short hold and makes them visible again', async () => {
    const letters = [tooLarge(), malformed()];
    dlqHolds(...letters);
    expect(await main(['dlq', 'list', '--config', localConfigFile()], capture().io, {})).toBe(0);
    expect(sqs).toHaveReceivedCommandWith(ReceiveMessageCommand, {
      QueueUrl: LOCAL_DLQ,
      VisibilityTimeout: 30,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    });
    expect(released().sort()).toEqual(letters.map((l) => l.ReceiptHandle).sort());
    expect(sqs).not.toHaveReceivedCommand(DeleteMessageCommand);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('prints the letters as JSON with --json, a missing reason as null', async () => {
    dlqHolds(tooLarge(), fromRedrivePolicy());
    const { io, out } = capture();
    expect(await main(['dlq', 'list', '--json', '--config', localConfigFile()], io, {})).toBe(0);
    const listed = JSON.parse(out.join('\n'));
    expect(listed).toMatchObject({ dlq: 'fanout', dlqUrl: LOCAL_DLQ, approximateCount: 2, complete: true });
    expect(listed.letters).toEqual([
      expect.objectContaining({ messageId: 'm-queue', reason: null, detail: null, receiveCount: 6 }),
      {
        messageId: 'm-large',
        sentAt: '2026-01-02T03:04:05Z',
        receiveCount: 1,
        reason: 'payload_too_large',
        detail: 'frame for source 0 is 140000 bytes, over 131072',
        summary: {
          kind: 'event',
          eventId: 'ev-large',
          detailType: 'Notification',
          topics: ['demo/big'],
          users: [],
          text: 'event ev-large topics demo/big',
        },
      },
    ]);
  });

  it('says so when the queue is empty', async () => {
    dlqHolds();
    const { io, out } = capture();
    expect(await main(['dlq', 'list', '--config', localConfigFile()], io, {})).toBe(0);
    expect(out).toEqual([`no letters on the fan-out DLQ ${LOCAL_DLQ}`]);
  });

  it('stops at --limit letters and says that more are waiting', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '40' } });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [tooLarge(), malformed()] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    const { io, out } = capture();
    expect(await main(['dlq', 'list', '--limit', '2', '--config', localConfigFile()], io, {})).toBe(0);
    expect(sqs).toHaveReceivedCommandTimes(ReceiveMessageCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(ReceiveMessageCommand, { MaxNumberOfMessages: 2 });
    expect(out.at(-1)).toBe('showing the first 2 of about 40: --limit N shows more');
  });

  it('lists a letter received twice in one scan once, and releases it with its newest receipt handle', async () => {
    const first = tooLarge();
    const again = tooLarge();
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [first] })
      .resolvesOnce({ Messages: [again, malformed()] })
      .resolves({});
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    const { io, out } = capture();
    expect(await main(['dlq', 'list', '--json', '--config', localConfigFile()], io, {})).toBe(0);
    const ids = JSON.parse(out.join('\n')).letters.map((l: { messageId: string }) => l.messageId);
    expect(ids.sort()).toEqual(['m-bad', 'm-large']);
    expect(released()).toContain(again.ReceiptHandle);
    expect(released()).not.toContain(first.ReceiptHandle);
  });

  it('releases letters 10 at a time, as ChangeMessageVisibilityBatch takes them', async () => {
    const many = Array.from({ length: 12 }, (_, i) => letter(`m${i}`, envelope(`ev${i}`, ['t/x'])));
    dlqHolds(...many);
    expect(await main(['dlq', 'list', '--config', localConfigFile()], capture().io, {})).toBe(0);
    const batches = sqs.commandCalls(ChangeMessageVisibilityBatchCommand);
    expect(batches.map((call) => call.args[0].input.Entries?.length)).toEqual([10, 2]);
    expect(released()).toHaveLength(12);
  });

  it('warns, without failing, about letters it could not make visible again', async () => {
    dlqHolds(tooLarge(), malformed(), fromRedrivePolicy());
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({
      Failed: [
        { Id: 'l0', Code: 'ReceiptHandleIsInvalid', SenderFault: true },
        // Its hold already ended: it is visible again, nothing to warn about.
        { Id: 'l1', Code: 'MessageNotInflight', SenderFault: true },
      ],
    });
    const { io, err } = capture();
    expect(await main(['dlq', 'list', '--config', localConfigFile()], io, {})).toBe(0);
    expect(err).toEqual([
      'fanout dlq: could not make 1 letter(s) visible again; SQS shows them again within 30 s',
    ]);
  });

  it('warns about every held letter when making them visible again fails outright', async () => {
    dlqHolds(tooLarge(), malformed());
    sqs.on(ChangeMessageVisibilityBatchCommand).rejects(new Error('socket hang up'));
    const { io, err } = capture();
    expect(await main(['dlq', 'list', '--config', localConfigFile()], io, {})).toBe(0);
    expect(err[0]).toContain('could not make 2 letter(s) visible again');
  });

  it('refuses letter ids and options of other subcommands', async () => {
    const ids = capture();
    expect(await main(['dlq', 'list', 'm-1', '--config', localConfigFile()], ids.io, {})).toBe(2);
    expect(ids.err[0]).toContain('fanout dlq: unexpected_argument: dlq list takes no arguments, got m-1');
    const all = capture();
    expect(await main(['dlq', 'list', '--all'], all.io, {})).toBe(2);
    expect(all.err[0]).toContain("fanout dlq: unknown_option: Unknown option '--all'");
  });

  it.each(['0', '-3', 'ten', '2.5'])('refuses --limit %s as a usage error', async (limit) => {
    const { io, err } = capture();
    expect(await main(['dlq', 'list', `--limit=${limit}`, '--config', localConfigFile()], io, {})).toBe(2);
    expect(err[0]).toContain('--limit must be a whole number of letters, at least 1');
    expect(sqs).not.toHaveReceivedAnyCommand();
  });
});

describe('fanout dlq show', () => {
  it('prints one letter in full: its reason, attributes and the body pretty-printed', async () => {
    const wanted = tooLarge();
    dlqHolds(malformed(), wanted);
    const { io, out } = capture();
    expect(await main(['dlq', 'show', 'm-large', '--config', localConfigFile()], io, {})).toBe(0);
    const text = out.join('\n');
    expect(out[0]).toMatch(/^letter\s+m-large$/);
    expect(text).toMatch(/\nreason\s+payload_too_large\n/);
    expect(text).toMatch(/\ndetail\s+frame for source 0 is 140000 bytes, over 131072\n/);
    expect(text).toContain(
      '\nattributes\n  fanout.detail: frame for source 0 is 140000 bytes, over 131072\n  fanout.reason: payload_too_large\n',
    );
    expect(text).toContain(`\nbody\n${JSON.stringify(JSON.parse(wanted.Body ?? ''), null, 2)}`);
    expect(released().sort()).toEqual([wanted.ReceiptHandle, expect.any(String)].sort());
    expect(sqs).not.toHaveReceivedCommand(DeleteMessageCommand);
  });

  it('prints a body that is not JSON as it is, and a letter without attributes as such', async () => {
    dlqHolds(letter('m-raw', 'not json {'));
    const { io, out } = capture();
    expect(await main(['dlq', 'show', 'm-raw', '--config', localConfigFile()], io, {})).toBe(0);
    expect(out.slice(-3)).toEqual(['attributes (none)', 'body', 'not json {']);
    expect(out.join('\n')).toMatch(/\nsummary\s+not JSON: "not json \{"/);
  });

  it('prints the letter as JSON with --json, the body parsed', async () => {
    dlqHolds(malformed());
    const { io, out } = capture();
    expect(await main(['dlq', 'show', 'm-bad', '--json', '--config', localConfigFile()], io, {})).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      messageId: 'm-bad',
      reason: 'malformed',
      attributes: { 'fanout.reason': 'malformed' },
      body: { kind: 'fanout.page' },
    });
  });

  it('stops receiving once it has found the letter', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [malformed()] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    expect(await main(['dlq', 'show', 'm-bad', '--config', localConfigFile()], capture().io, {})).toBe(0);
    expect(sqs).toHaveReceivedCommandTimes(ReceiveMessageCommand, 1);
  });

  it('refuses an id that is not on the queue with letter_not_found, and releases what it held', async () => {
    const other = tooLarge();
    dlqHolds(other);
    const { io, err } = capture();
    expect(await main(['dlq', 'show', 'm-nope', '--config', localConfigFile()], io, {})).toBe(1);
    expect(err[0]).toBe(
      `fanout dlq: letter_not_found: no letter m-nope on ${LOCAL_DLQ}: it holds 1 letter(s); \`fanout dlq list\` shows their ids`,
    );
    expect(released()).toEqual([other.ReceiptHandle]);
  });

  it('says how far it looked when --limit stopped it before the id', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '9' } });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [tooLarge()] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    const { io, err } = capture();
    const args = ['dlq', 'show', 'm-nope', '--limit', '1', '--config', localConfigFile()];
    expect(await main(args, io, {})).toBe(1);
    expect(err[0]).toContain('among the first 1 of about 9 (--limit N looks further)');
  });

  it('needs exactly one id', async () => {
    const none = capture();
    expect(await main(['dlq', 'show', '--config', localConfigFile()], none.io, {})).toBe(2);
    expect(none.err[0]).toBe(
      'fanout dlq: missing_argument: dlq show needs ID (the ID column of `fanout dlq list`)',
    );
    const two = capture();
    expect(await main(['dlq', 'show', 'a', 'b', '--config', localConfigFile()], two.io, {})).toBe(2);
    expect(two.err[0]).toBe('fanout dlq: unexpected_argument: dlq show takes one ID, got 2: a b');
  });
});

describe('fanout dlq redrive', () => {
  it('sends each chosen letter to the fan-out queue, then deletes it from the DLQ, and releases the rest', async () => {
    const [large, bad, queued] = [tooLarge(), malformed(), fromRedrivePolicy()];
    dlqHolds(large, bad, queued);
    const order: string[] = [];
    sqs.on(SendMessageCommand).callsFake((input: { MessageBody: string }) => {
      order.push(`send ${JSON.parse(input.MessageBody).id}`);
      return { MessageId: 'new' };
    });
    sqs.on(DeleteMessageCommand).callsFake((input: { ReceiptHandle: string }) => {
      order.push(`delete ${input.ReceiptHandle}`);
      return {};
    });
    const { io, out } = capture();
    const args = ['dlq', 'redrive', 'm-queue', 'm-large', '--config', localConfigFile()];
    expect(await main(args, io, {})).toBe(0);
    expect(order).toEqual([
      'send ev-large',
      `delete ${large.ReceiptHandle}`,
      'send ev-queue',
      `delete ${queued.ReceiptHandle}`,
    ]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: LOCAL_QUEUE,
      MessageBody: large.Body ?? '',
    });
    // Only the body goes back: the reason attributes describe the failure, not the message.
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes).toBeUndefined();
    expect(sqs).toHaveReceivedCommandWith(DeleteMessageCommand, { QueueUrl: LOCAL_DLQ });
    expect(released()).toEqual([bad.ReceiptHandle]);
    expect(out).toEqual([
      `redriving 2 letter(s) from ${LOCAL_DLQ} to ${LOCAL_QUEUE}`,
      '  1/2 m-large (payload_too_large) moved',
      '  2/2 m-queue (redriven by the queue) moved',
      `redrove 2 letter(s) to ${LOCAL_QUEUE}`,
    ]);
  });

  it('moves only the letters with the reason given by --reason', async () => {
    const large = tooLarge();
    dlqHolds(large, malformed(), fromRedrivePolicy());
    const { io, out } = capture();
    const args = ['dlq', 'redrive', '--reason', 'payload_too_large', '--config', localConfigFile()];
    expect(await main(args, io, {})).toBe(0);
    expect(sentBodies()).toEqual([large.Body]);
    expect(deleted()).toEqual([large.ReceiptHandle]);
    expect(out.at(-1)).toContain('redrove 1 letter(s)');
  });

  it('takes --reason none for the letters the queue moved, which carry no reason', async () => {
    const queued = fromRedrivePolicy();
    dlqHolds(tooLarge(), queued);
    const args = ['dlq', 'redrive', '--all', '--reason', 'none', '--config', localConfigFile()];
    expect(await main(args, capture().io, {})).toBe(0);
    expect(deleted()).toEqual([queued.ReceiptHandle]);
  });

  it('moves every letter with --all', async () => {
    dlqHolds(tooLarge(), malformed(), fromRedrivePolicy());
    const { io, out } = capture();
    expect(await main(['dlq', 'redrive', '--all', '--config', localConfigFile()], io, {})).toBe(0);
    expect(sentBodies()).toHaveLength(3);
    expect(deleted()).toHaveLength(3);
    expect(released()).toEqual([]);
    expect(out.at(-1)).toBe(`redrove 3 letter(s) to ${LOCAL_QUEUE}; 0 other letter(s) stay on the DLQ`);
  });

  it('says when --limit kept it from looking at every letter', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [tooLarge()] });
    sqs.on(SendMessageCommand).resolves({});
    sqs.on(DeleteMessageCommand).resolves({});
    const { io, out } = capture();
    const args = ['dlq', 'redrive', '--all', '--limit', '1', '--config', localConfigFile()];
    expect(await main(args, io, {})).toBe(0);
    expect(out.at(-1)).toContain('stay on the DLQ, and any past the first 1 (--limit)');
  });

  it('moves nothing and succeeds when no letter matches', async () => {
    dlqHolds(malformed());
    const { io, out } = capture();
    const args = ['dlq', 'redrive', '--reason', 'delivery_failed', '--config', localConfigFile()];
    expect(await main(args, io, {})).toBe(0);
    expect(out).toEqual([
      `nothing to redrive: no letter with reason delivery_failed among the 1 on ${LOCAL_DLQ}`,
    ]);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('refuses ids that are not on the queue with letter_not_found, and moves none of the others', async () => {
    dlqHolds(tooLarge(), malformed());
    const { io, err } = capture();
    const args = ['dlq', 'redrive', 'm-large', 'm-gone', 'm-lost', '--config', localConfigFile()];
    expect(await main(args, io, {})).toBe(1);
    expect(err[0]).toMatch(/^fanout dlq: letter_not_found: no letter m-gone, m-lost on /);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(sqs).not.toHaveReceivedCommand(DeleteMessageCommand);
    expect(released()).toHaveLength(2);
  });

  it('stops at a letter it cannot send, which stays on the DLQ, with redrive_send_failed', async () => {
    const [large, bad] = [tooLarge(), malformed()];
    dlqHolds(large, bad);
    sqs
      .on(SendMessageCommand)
      .resolvesOnce({})
      .rejects(
        Object.assign(new Error('Access to the resource is denied'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        }),
      );
    const { io, err } = capture();
    expect(await main(['dlq', 'redrive', '--all', '--config', localConfigFile()], io, {})).toBe(1);
    expect(err[0]).toContain('fanout dlq: redrive_send_failed: moved 1 of 2; m-bad stays on the DLQ');
    expect(err[0]).toContain('AccessDenied');
    expect(deleted()).toEqual([large.ReceiptHandle]);
    expect(released()).toEqual([bad.ReceiptHandle]);
  });

  it('stops at a letter it sent but cannot delete, with redrive_delete_failed', async () => {
    dlqHolds(tooLarge(), malformed());
    sqs.on(DeleteMessageCommand).rejects(new Error('connect ECONNREFUSED 127.0.0.1:9'));
    const { io, err } = capture();
    expect(await main(['dlq', 'redrive', '--all', '--config', localConfigFile()], io, {})).toBe(1);
    expect(err[0]).toContain(
      'fanout dlq: redrive_delete_failed: moved 0 of 2; m-large was sent to the fan-out queue but is still on the DLQ',
    );
    expect(sentBodies()).toHaveLength(1);
    expect(released()).toHaveLength(2);
  });

  it('checks that the fan-out queue answers before it touches a letter', async () => {
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: LOCAL_QUEUE })
      .rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
    const { io, err } = capture();
    expect(await main(['dlq', 'redrive', '--all', '--config', localConfigFile()], io, {})).toBe(1);
    expect(err[0]).toBe(
      `fanout dlq: queue_unreachable: cannot reach the fan-out queue at ${LOCAL_QUEUE}: connect ECONNREFUSED 127.0.0.1:9`,
    );
    expect(sqs).not.toHaveReceivedCommand(ReceiveMessageCommand);
  });

  it('refuses with no_queue_url when only the DLQ is known', async () => {
    const { io, err } = capture();
    expect(await main(['dlq', 'redrive', '--all', '--aws', '--dlq-url', AWS_DLQ], io, {})).toBe(1);
    expect(err[0]).toContain('fanout dlq: no_queue_url: no fan-out queue to redrive to: pass --queue-url');
    expect(sqs).not.toHaveReceivedAnyCommand();
  });

  it('needs letter ids, --all or --reason, and not ids with them', async () => {
    const none = capture();
    expect(await main(['dlq', 'redrive', '--config', localConfigFile()], none.io, {})).toBe(2);
    expect(none.err[0]).toContain('dlq redrive needs letter ids, --all, or --reason R');
    const both = capture();
    expect(await main(['dlq', 'redrive', 'm-1', '--all', '--config', localConfigFile()], both.io, {})).toBe(
      2,
    );
    expect(both.err[0]).toContain('takes letter ids or --all/--reason, not both');
    expect(sqs).not.toHaveReceivedAnyCommand();
  });
});

describe('fanout dlq failures', () => {
  const network = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  const service = (name: string, message: string, httpStatusCode: number) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

  it.each([
    ['dlq_unreachable', network, `cannot reach the dead-letter queue at ${LOCAL_DLQ}: connect ECONNREFUSED`],
    [
      'dlq_not_found',
      service('QueueDoesNotExist', 'The specified queue does not exist.', 400),
      `the dead-letter queue ${LOCAL_DLQ} does not exist`,
    ],
    [
      'dlq_not_found',
      service('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.', 400),
      'does not exist',
    ],
    [
      'dlq_request_failed',
      service('AccessDenied', 'not authorized to perform sqs:GetQueueAttributes', 403),
      'refused the request: AccessDenied: not authorized',
    ],
    [
      'no_credentials',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      'no AWS credentials',
    ],
    ['no_region', new Error('Region is missing'), 'pass --region or set AWS_REGION'],
  ])('reports %s when SQS fails that way', async (code, failure, message) => {
    sqs.on(GetQueueAttributesCommand).rejects(failure);
    const { io, err } = capture();
    expect(await main(['dlq', 'list', '--config', localConfigFile()], io, {})).toBe(1);
    expect(err[0]).toContain(`fanout dlq: ${code}: `);
    expect(err[0]).toContain(message);
    expect(sqs).not.toHaveReceivedCommand(ReceiveMessageCommand);
  });

  it('reports dlq_unreachable when a receive fails halfway, and releases the letters received before', async () => {
    const first = tooLarge();
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [first] })
      .rejects(network);
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    const { io, err } = capture();
    expect(await main(['dlq', 'list', '--config', localConfigFile()], io, {})).toBe(1);
    expect(err[0]).toContain('fanout dlq: dlq_unreachable: ');
    expect(released()).toEqual([first.ReceiptHandle]);
  });

  it('refuses a --config file that does not exist with config_not_found', async () => {
    const { io, err } = capture();
    expect(await main(['dlq', 'list', '--config', '/nonexistent/local.json'], io, {})).toBe(1);
    expect(err[0]).toBe(
      'fanout dlq: config_not_found: /nonexistent/local.json does not exist (`fanout dev` writes it)',
    );
  });

  it('refuses a config file that is not JSON, or not an endpoints file, with config_invalid', async () => {
    const notJson = join(tempDir(), 'local.json');
    writeFileSync(notJson, '{ nope');
    const first = capture();
    expect(await main(['dlq', 'list', '--config', notJson], first.io, {})).toBe(1);
    expect(first.err[0]).toContain(`fanout dlq: config_invalid: ${notJson} is not JSON`);
    const partial = join(tempDir(), 'local.json');
    writeFileSync(partial, JSON.stringify({ region: 'us-east-1' }));
    const second = capture();
    expect(await main(['dlq', 'list', '--config', partial], second.io, {})).toBe(1);
    expect(second.err[0]).toContain('config_invalid: ');
    expect(second.err[0]).toContain('has no "websocketUrl"');
  });

  it('refuses with no_dlq_url when neither a local platform nor a URL names the DLQ', async () => {
    const { io, err } = capture();
    expect(await main(['dlq', 'list', '--aws'], io, {})).toBe(1);
    expect(err[0]).toContain('fanout dlq: no_dlq_url: no dead-letter queue: pass --dlq-url');
  });

  it('refuses --events locally with no_events_dlq: the local platform has no events DLQ', async () => {
    const { io, err } = capture();
    expect(await main(['dlq', 'list', '--events', '--config', localConfigFile()], io, {})).toBe(1);
    expect(err[0]).toContain('fanout dlq: no_events_dlq: the local platform has no events DLQ');
  });

  it('refuses unknown and missing dlq subcommands as usage errors', async () => {
    const unknown = capture();
    expect(await main(['dlq', 'purge'], unknown.io, {})).toBe(2);
    expect(unknown.err[0]).toContain('unknown dlq subcommand "purge" (use list, show, redrive)');
    const missing = capture();
    expect(await main(['dlq'], missing.io, {})).toBe(2);
    expect(missing.err[0]).toContain('dlq needs a subcommand: list, show, redrive');
  });
});

describe('fanout dlq --events', () => {
  const eventsLetter = () =>
    letter('e-1', envelope('ev-lost', ['orders/eu/1']), {
      RULE_ARN: 'arn:aws:events:eu-west-1:123456789012:rule/prod-events/prod-fanout',
      TARGET_ARN: 'arn:aws:sqs:eu-west-1:123456789012:prod-fanout',
      ERROR_CODE: 'NO_PERMISSIONS',
      ERROR_MESSAGE: 'Access denied on sqs:SendMessage',
    });
  const awsArgs = ['--aws', '--events', '--dlq-url', AWS_EVENTS_DLQ, '--queue-url', AWS_QUEUE];

  it("lists the EventBridge target's letters with EventBridge's error code as their reason", async () => {
    dlqHolds(eventsLetter());
    const { io, out } = capture();
    expect(await main(['dlq', 'list', ...awsArgs], io, {})).toBe(0);
    expect(out[0]).toBe(`1 letter(s) on the events DLQ ${AWS_EVENTS_DLQ}`);
    expect(out[2]).toMatch(/^e-1\s+\S+\s+1\s+NO_PERMISSIONS\s+event ev-lost topics orders\/eu\/1$/);
    sqs.reset();
    dlqHolds(eventsLetter());
    const json = capture();
    expect(await main(['dlq', 'show', 'e-1', '--json', ...awsArgs], json.io, {})).toBe(0);
    expect(JSON.parse(json.text())).toMatchObject({
      reason: 'NO_PERMISSIONS',
      detail: 'Access denied on sqs:SendMessage',
      attributes: { RULE_ARN: expect.stringContaining(':rule/'), TARGET_ARN: expect.any(String) },
    });
  });

  it('redrives its events onto the fan-out queue, selected by error code', async () => {
    const lost = eventsLetter();
    dlqHolds(lost);
    const args = ['dlq', 'redrive', '--reason', 'NO_PERMISSIONS', ...awsArgs];
    expect(await main(args, capture().io, {})).toBe(0);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: AWS_QUEUE,
      MessageBody: lost.Body ?? '',
    });
    expect(sqs).toHaveReceivedCommandWith(DeleteMessageCommand, {
      QueueUrl: AWS_EVENTS_DLQ,
      ReceiptHandle: lost.ReceiptHandle ?? '',
    });
  });
});

describe('where fanout dlq works', () => {
  it('uses the local platform of the config file: its queues, its SQS endpoint, no real credentials', async () => {
    const target = await resolveTarget({ config: localConfigFile() }, {});
    expect(target).toMatchObject({
      dlq: 'fanout',
      mode: 'local',
      dlqUrl: LOCAL_DLQ,
      queueUrl: LOCAL_QUEUE,
      client: {
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9/',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      },
    });
  });

  it('uses the AWS configuration with --aws, taking the region from the queue URL', async () => {
    const target = await resolveTarget(
      { aws: true, config: localConfigFile(), dlqUrl: AWS_DLQ, queueUrl: AWS_QUEUE },
      {},
    );
    expect(target).toMatchObject({
      mode: 'aws',
      dlqUrl: AWS_DLQ,
      queueUrl: AWS_QUEUE,
      client: { region: 'eu-west-1' },
    });
    expect(target.client.endpoint).toBeUndefined();
    expect(target.client.credentials).toBeUndefined();
  });

  it('reads the region out of current and legacy SQS queue URLs, and nothing out of others', () => {
    expect(regionOfQueueUrl(AWS_DLQ)).toBe('eu-west-1');
    expect(regionOfQueueUrl('https://sqs.cn-north-1.amazonaws.com.cn/1/q')).toBe('cn-north-1');
    expect(regionOfQueueUrl('https://ap-south-1.queue.amazonaws.com/1/q')).toBe('ap-south-1');
    expect(regionOfQueueUrl(LOCAL_DLQ)).toBeUndefined();
  });

  describe('with --terraform-dir', () => {
    const STACK = '/srv/fanout/terraform';
    const OUTPUTS = {
      fanout_queue_url: { sensitive: false, type: 'string', value: AWS_QUEUE },
      fanout_dlq_url: { sensitive: false, type: 'string', value: AWS_DLQ },
      events_dlq_url: { sensitive: false, type: 'string', value: AWS_EVENTS_DLQ },
      region: { sensitive: false, type: 'string', value: 'eu-west-1' },
      websocket_url: { sensitive: false, type: 'string', value: 'wss://x' },
    };

    /** A `terraform` on PATH that answers `-chdir=STACK output -json -no-color` with `script`. */
    function fakeTerraform(script: string): NodeJS.ProcessEnv {
      const dir = tempDir();
      const file = join(dir, 'terraform');
      writeFileSync(
        file,
        `#!/bin/sh
if [ "$*" != "-chdir=${STACK} output -json -no-color" ]; then echo "unexpected arguments: $*" >&2; exit 64; fi
${script}
`,
      );
      chmodSync(file, 0o755);
      return { PATH: `${dir}:${process.env.PATH ?? ''}` };
    }
    const printing = (json: unknown) => fakeTerraform(`cat <<'JSON'\n${JSON.stringify(json)}\nJSON`);

    it("takes the queues and the region from the stack's outputs", async () => {
      const env = printing(OUTPUTS);
      const target = await resolveTarget({ terraformDir: STACK, config: localConfigFile() }, env);
      expect(target).toMatchObject({
        mode: 'aws',
        dlqUrl: AWS_DLQ,
        queueUrl: AWS_QUEUE,
        client: { region: 'eu-west-1' },
      });
      const events = await resolveTarget({ terraformDir: STACK, events: true }, env);
      expect(events.dlqUrl).toBe(AWS_EVENTS_DLQ);
    });

    it('lets --dlq-url, --queue-url and --region override the outputs', async () => {
      const target = await resolveTarget(
        {
          terraformDir: STACK,
          dlqUrl: 'https://sqs.us-east-2.amazonaws.com/1/d',
          queueUrl: 'q',
          region: 'r',
        },
        printing(OUTPUTS),
      );
      expect(target).toMatchObject({
        dlqUrl: 'https://sqs.us-east-2.amazonaws.com/1/d',
        queueUrl: 'q',
        client: { region: 'r' },
      });
    });

    it('runs a whole command from the outputs', async () => {
      dlqHolds(tooLarge());
      const { io, out } = capture();
      expect(await main(['dlq', 'list', '--terraform-dir', STACK], io, printing(OUTPUTS))).toBe(0);
      expect(out[0]).toBe(`1 letter(s) on the fan-out DLQ ${AWS_DLQ}`);
      expect(sqs).toHaveReceivedCommandWith(ReceiveMessageCommand, { QueueUrl: AWS_DLQ });
    });

    it('refuses with terraform_output_missing when the stack has no such output', async () => {
      const { io, err } = capture();
      expect(await main(['dlq', 'list', '--terraform-dir', STACK], io, printing({}))).toBe(1);
      expect(err[0]).toBe(
        `fanout dlq: terraform_output_missing: the stack in ${STACK} has no output fanout_dlq_url (has it been applied?); pass --dlq-url instead`,
      );
    });

    it('refuses with terraform_failed, quoting terraform, when terraform fails', async () => {
      const env = fakeTerraform(
        `echo '╷' >&2; echo 'Error: Backend initialization required' >&2; echo '╵' >&2; exit 1`,
      );
      const { io, err } = capture();
      expect(await main(['dlq', 'list', '--terraform-dir', STACK], io, env)).toBe(1);
      expect(err[0]).toBe(
        `fanout dlq: terraform_failed: terraform -chdir=${STACK} output -json failed: Error: Backend initialization required`,
      );
    });

    it('refuses with terraform_failed when terraform prints something other than a JSON object', async () => {
      const text = capture();
      expect(
        await main(['dlq', 'list', '--terraform-dir', STACK], text.io, fakeTerraform('echo hello')),
      ).toBe(1);
      expect(text.err[0]).toContain('terraform_failed: ');
      expect(text.err[0]).toContain('did not print JSON');
      const list = capture();
      expect(await main(['dlq', 'list', '--terraform-dir', STACK], list.io, printing([1]))).toBe(1);
      expect(list.err[0]).toContain('did not print an object');
    });

    it('refuses with terraform_not_found when terraform is not installed', async () => {
      const { io, err } = capture();
      expect(await main(['dlq', 'list', '--terraform-dir', STACK], io, { PATH: tempDir() })).toBe(1);
      expect(err[0]).toContain('fanout dlq: terraform_not_found: terraform is not on PATH');
    });
  });
});

describe('fanout help', () => {
  it('names every option of token, publish and dlq', async () => {
    const { io, text } = capture();
    expect(await main(['help'], io, {})).toBe(0);
    const options = {
      token: ['sub', 'topics', 'ttl', 'secret', 'issuer', 'audience', 'config'],
      publish: [
        'topic',
        'user',
        'data',
        'source',
        'detail-type',
        'bus',
        'region',
        'endpoint',
        'expires-in',
        'aws',
      ],
      dlq: [
        'json',
        'limit',
        'events',
        'all',
        'reason',
        'config',
        'aws',
        'terraform-dir',
        'dlq-url',
        'queue-url',
      ],
    };
    const missing = Object.values(options)
      .flat()
      .filter((name) => !text().includes(`--${name} `) && !text().includes(`--${name}]`));
    expect(missing).toEqual([]);
    for (const line of ['fanout dlq list', 'fanout dlq show ID', 'fanout dlq redrive [ID...]']) {
      expect(text()).toContain(line);
    }
  });
});

describe('dead-letter bodies and attributes', () => {
  it('reads the reason from the attributes the platform writes', () => {
    expect(REASON_ATTRIBUTE).toBe(platformQueue.REASON_ATTRIBUTE);
    expect(DETAIL_ATTRIBUTE).toBe(platformQueue.DETAIL_ATTRIBUTE);
  });

  it('summarises each kind of body in one line', () => {
    const line = (body: string) => summaryLine(summarize(body));
    expect(line(envelope('ev-1', ['a/1', 'a/2', 'a/3', 'a/4']))).toBe(
      'event ev-1 topics a/1,a/2,a/3 +1 more',
    );
    expect(line(retryBody('ev-2', ['c1', 'c2']))).toBe(
      'retry of event ev-2 for 2 connection(s) topics demo/a',
    );
    expect(
      line(
        JSON.stringify({
          kind: 'fanout.page',
          source: 0,
          event: { id: 'ev-3', topics: [], users: ['alice'] },
        }),
      ),
    ).toBe('page of event ev-3 users alice');
    expect(line('{"hello":1,"world":2}')).toBe('unrecognised JSON (keys hello,world)');
    expect(line('[1,2]')).toBe('unrecognised JSON (not an object)');
    expect(line(`garbage ${'x'.repeat(100)}`)).toBe(`not JSON: "garbage ${'x'.repeat(32)}"`);
    expect(summarize(retryBody('ev-2', ['c1']))).toMatchObject({ kind: 'retry', attempt: 1, connections: 1 });
  });
});
