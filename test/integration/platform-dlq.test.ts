/**
 * `fanout dlq` against the local platform: real dead letters made by the real fan-out function (an
 * event too large to deliver, a malformed work message), read and redriven by the CLI with the
 * real SQS client against the local SQS, and handled again by the platform once redriven.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { main } from '@fanout/cli';
import { MAX_MESSAGE_BYTES } from '@fanout/protocol';
import type { LetterView } from '../../sdk/cli/src/dlq';
import { manifest } from '../../shared/deployment/manifest';
import { killAll, runFanout } from '../support/cli';
import { type PlatformClient, type PlatformHarness, startHarness, waitUntil } from '../support/platform';

interface Listing {
  approximateCount: number;
  letters: LetterView[];
}

let h: PlatformHarness;
let workDir: string;
let configFile: string;
let alice: PlatformClient;

beforeAll(async () => {
  h = await startHarness();
  workDir = mkdtempSync(join(tmpdir(), 'fanout-dlq-'));
  mkdirSync(join(workDir, '.fanout'));
  configFile = join(workDir, '.fanout/local.json');
  writeFileSync(configFile, JSON.stringify(h.config));
  alice = await h.connect('alice', ['demo/*']);
  await h.subscribe(alice, ['demo/*']);
}, 60_000);

afterAll(async () => {
  await killAll();
  await h?.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** `fanout dlq ...` in this process, on the harness's platform. */
async function dlq(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  const code = await main(['dlq', ...args, '--config', configFile], io, {});
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function listing(): Promise<Listing> {
  const { code, out, err } = await dlq('list', '--json');
  if (code !== 0) throw new Error(`dlq list failed: ${err}`);
  return JSON.parse(out) as Listing;
}

/** Waits until the DLQ lists letters that `ready` accepts. */
function listed(ready: (letters: LetterView[]) => boolean, what: string): Promise<LetterView[]> {
  return waitUntil(
    async () => {
      const { letters } = await listing();
      return ready(letters) ? letters : undefined;
    },
    what,
    15_000,
    250,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nrecent logs:\n${h.recentLogs()}`);
  });
}

/** An EventBridge event as the rule puts it on the fan-out queue. */
function envelope(id: string, topic: string): string {
  return JSON.stringify({
    version: '0',
    id,
    'detail-type': 'TestEvent',
    source: 'tests',
    account: '000000000000',
    time: new Date().toISOString(),
    region: h.config.region,
    resources: [],
    detail: { topics: [topic], data: { stranded: true } },
  });
}

it('lists real dead letters with their reasons, shows one, and redrives them to be handled again', async () => {
  // Too large to deliver once the platform adds its fields (over 128 KB), though PutEvents takes it.
  const [bigId] = await h.publish({
    detail: { topics: ['demo/big'], data: 'x'.repeat(MAX_MESSAGE_BYTES - 100) },
  });
  // A work message that does not parse, straight onto the fan-out queue.
  await h.sqs.send(
    new SendMessageCommand({ QueueUrl: h.config.queueUrl, MessageBody: '{"kind":"fanout.page","event":{}}' }),
  );
  // What the queue's redrive policy leaves on the DLQ (the body, no reason): a record the function
  // failed on too often. platform-redelivery.test.ts makes one for real; here it is put there.
  await h.sqs.send(
    new SendMessageCommand({
      QueueUrl: h.config.dlqUrl,
      MessageBody: envelope('ev-stranded', 'demo/stranded'),
    }),
  );

  const letters = await listed((l) => l.length === 3, 'three letters on the DLQ');
  const byEvent = (id: string | undefined) => letters.find((l) => l.summary.eventId === id);
  const big = byEvent(bigId);
  const bad = letters.find((l) => l.summary.kind === 'page');
  const stranded = byEvent('ev-stranded');
  expect(big).toMatchObject({
    reason: 'payload_too_large',
    detail: expect.stringMatching(/^frame for source \d+ is \d+ bytes, over 131072$/),
    summary: { kind: 'event', topics: ['demo/big'], text: `event ${bigId} topics demo/big` },
  });
  expect(bad).toMatchObject({ reason: 'malformed', detail: expect.stringContaining('invalid work message') });
  expect(stranded).toMatchObject({ reason: null, summary: { kind: 'event', topics: ['demo/stranded'] } });
  expect(big?.sentAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(big?.receiveCount).toBeGreaterThanOrEqual(1);

  // Listing took nothing away, and made every letter visible again at once: another list, well
  // within the 30 s hold, sees all three.
  expect(await h.queueDepth(h.config.dlqUrl)).toBe(3);
  const table = await dlq('list');
  expect(table.code).toBe(0);
  expect(table.out).toContain(`3 letter(s) on the fan-out DLQ ${h.config.dlqUrl}`);
  expect(table.out).toMatch(
    new RegExp(`${stranded?.messageId}\\s+\\S+\\s+\\d+\\s+redriven by the queue\\s+event ev-stranded`),
  );
  expect(table.out).toMatch(
    new RegExp(`${big?.messageId}\\s+\\S+\\s+\\d+\\s+payload_too_large\\s+event ${bigId}`),
  );

  const shown = await dlq('show', big?.messageId ?? '');
  expect(shown.code).toBe(0);
  expect(shown.out).toMatch(/\nreason\s+payload_too_large\n/);
  expect(shown.out).toContain('\n  fanout.reason: payload_too_large\n');
  expect(shown.out).toContain(
    `\nbody\n{\n  "version": "0",\n  "id": "${bigId}",\n  "detail-type": "TestEvent",`,
  );

  // Its cause gone (it was never the event's fault), the stranded event is delivered once redriven.
  const moved = await dlq('redrive', stranded?.messageId ?? '');
  expect(moved).toMatchObject({ code: 0, err: '' });
  expect(moved.out).toContain(`1/1 ${stranded?.messageId} (redriven by the queue) moved`);
  const frame = await alice.waitFor(
    (f) => f.type === 'event' && f.id === 'ev-stranded',
    'the redriven event',
  );
  expect(frame).toMatchObject({ topic: 'demo/stranded', subscription: 'demo/*', data: { stranded: true } });

  // The too-large event is handled again and comes back with the same reason, as a new letter.
  const again = await dlq('redrive', '--reason', 'payload_too_large');
  expect(again.code).toBe(0);
  expect(again.out).toContain(
    `redrove 1 letter(s) to ${h.config.queueUrl}; 1 other letter(s) stay on the DLQ`,
  );
  const back = await listed(
    (l) => l.length === 2 && l.some((x) => x.summary.eventId === bigId && x.messageId !== big?.messageId),
    'the redriven event back on the DLQ',
  );
  expect(back.find((l) => l.summary.eventId === bigId)?.reason).toBe('payload_too_large');
  expect(back.find((l) => l.messageId === bad?.messageId)?.reason).toBe('malformed');

  const unknown = await dlq('show', 'no-such-letter');
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain('fanout dlq: letter_not_found: no letter no-such-letter on');
}, 60_000);

it('runs as `fanout dlq list` from the directory holding .fanout/local.json', async () => {
  const run = runFanout(['dlq', 'list'], {
    cwd: workDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '1',
    },
  });
  // The whole of stderr shows in a failure's diff.
  expect({ exit: await run.exit(), stderr: run.stderr() }).toMatchObject({ exit: 0 });
  const stdout = run.stdout();
  expect(stdout).toMatch(new RegExp(`^\\d+ letter\\(s\\) on the fan-out DLQ ${h.config.dlqUrl}\\n`));
  expect(stdout).toContain('payload_too_large');
}, 30_000);

it('refuses with dlq_unreachable when the local SQS is not there', async () => {
  const gone = join(workDir, 'gone.json');
  // Port 9 (discard) has no listener on loopback: connections are refused at once.
  const dead = 'http://127.0.0.1:9';
  writeFileSync(
    gone,
    JSON.stringify({ ...h.config, sqsEndpoint: dead, dlqUrl: `${dead}/000000000000/fanout-local-dlq` }),
  );
  const err: string[] = [];
  const code = await main(['dlq', 'list', '--config', gone], { out: () => {}, err: (l) => err.push(l) }, {});
  expect(code).toBe(1);
  expect(err[0]).toMatch(
    /^fanout dlq: dlq_unreachable: cannot reach the dead-letter queue at http:\/\/127\.0\.0\.1:9\//,
  );
});

it('dead-letters with its reason, rather than loses, an event whose PutEvents entry is near the 256 KB limit', async () => {
  // The queues take what functions.json sets (1 MiB), as the module sets it on AWS.
  for (const queueUrl of [h.config.queueUrl, h.config.dlqUrl]) {
    const { Attributes } = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] }),
    );
    expect(Attributes?.MaximumMessageSize).toBe(String(manifest.fanout_queue.max_message_size.default));
  }
  // The entry fits PutEvents (256 KB in all); the event the rule puts on the queue does not fit the
  // provider's default 262,144 bytes once EventBridge wraps it in its envelope.
  const [nearId] = await h.publish({
    detail: { topics: ['demo/near-limit'], data: 'y'.repeat(256 * 1024 - 120) },
  });
  const letters = await listed(
    (l) => l.some((x) => x.summary.eventId === nearId),
    'the near-limit event on the DLQ',
  );
  const letter = letters.find((x) => x.summary.eventId === nearId);
  expect(letter).toMatchObject({
    reason: 'payload_too_large',
    summary: { kind: 'event', topics: ['demo/near-limit'] },
  });
  const { Messages } = await h.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: h.config.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
  );
  const body = Messages?.find((m) => m.MessageId === letter?.messageId)?.Body ?? '';
  expect(Buffer.byteLength(body)).toBeGreaterThan(262_144);
}, 60_000);
