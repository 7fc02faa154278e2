import { SQSClient } from '@aws-sdk/client-sqs';
import type { Output } from './commands.js';
import {
  DeadLetterQueue,
  HOLD_SECONDS,
  type Letter,
  queueDepth,
  type Scan,
  sendToQueue,
  sqsFailure,
} from './dlq-letters.js';
import {
  type BodySummary,
  letterReason,
  reasonMatches,
  reasonText,
  summarize,
  summaryLine,
} from './dlq-summary.js';
import { type DlqName, type DlqTarget, resolveTarget, type WhereOptions } from './dlq-target.js';
import { CommandError, UsageError } from './errors.js';

/** Options of `fanout dlq list|show|redrive`, as parsed from the command line. */
export interface DlqOptions extends WhereOptions {
  json?: boolean;
  limit?: string;
  all?: boolean;
  reason?: string;
}

/** Letters a command looks at unless `--limit` says otherwise. */
export const DEFAULT_LIMIT = 1000;

export const DLQ_SUBCOMMANDS = ['list', 'show', 'redrive'] as const;
export type DlqSubcommand = (typeof DLQ_SUBCOMMANDS)[number];

/** A letter as `list --json` and `show --json` print it. */
export interface LetterView {
  messageId: string;
  sentAt: string | null;
  receiveCount: number | null;
  reason: string | null;
  detail: string | null;
  summary: BodySummary & { text: string };
}

/**
 * `fanout dlq <subcommand>`: the fan-out DLQ (or, with `--events`, the EventBridge target's DLQ),
 * locally or on AWS. No command removes a letter except `redrive`, and that only once the letter is
 * on the fan-out queue.
 */
export async function dlqCommand(
  subcommand: DlqSubcommand,
  ids: readonly string[],
  options: DlqOptions,
  env: NodeJS.ProcessEnv,
  io: Output,
): Promise<number> {
  const limit = parseLimit(options.limit);
  checkArguments(subcommand, ids, options);
  const target = await resolveTarget(options, env);
  const client = new SQSClient(target.client);
  try {
    switch (subcommand) {
      case 'list':
        return await list(client, target, limit, options, io);
      case 'show':
        return await show(client, target, ids[0] ?? '', limit, options, io);
      case 'redrive':
        return await redrive(client, target, ids, limit, options, io);
    }
  } finally {
    client.destroy();
  }
}

function checkArguments(subcommand: DlqSubcommand, ids: readonly string[], options: DlqOptions): void {
  // The command table (spec.ts) already holds list to no ids and show to exactly one.
  if (subcommand === 'redrive') {
    const bulk = options.all || options.reason !== undefined;
    if (ids.length > 0 && bulk)
      throw new UsageError('conflicting_options', 'dlq redrive takes letter ids or --all/--reason, not both');
    if (ids.length === 0 && !bulk) {
      throw new UsageError(
        'missing_argument',
        'dlq redrive needs letter ids, --all, or --reason R (see `fanout dlq list`)',
      );
    }
  }
}

/** `--limit N`: a positive whole number. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) {
    throw new UsageError(
      'invalid_value',
      `--limit must be a whole number of letters, at least 1 (got "${value}")`,
    );
  }
  return Number(value);
}

/** Scans the DLQ, runs `work` on what it found, and always releases every held letter. */
async function withScan<T>(
  dlq: DeadLetterQueue,
  io: Output,
  scan: (queue: DeadLetterQueue) => Promise<Scan>,
  work: (found: Scan) => Promise<T>,
): Promise<T> {
  try {
    return await work(await scan(dlq));
  } finally {
    const failed = await dlq.release();
    if (failed > 0) {
      io.err(
        `fanout dlq: could not make ${failed} letter(s) visible again; SQS shows them again within ${HOLD_SECONDS} s`,
      );
    }
  }
}

async function list(
  client: SQSClient,
  target: DlqTarget,
  limit: number,
  options: DlqOptions,
  io: Output,
): Promise<number> {
  const dlq = new DeadLetterQueue(client, target.dlqUrl);
  const waiting = await dlq.count();
  return withScan(
    dlq,
    io,
    (queue) => queue.scan(limit),
    async ({ letters, complete }) => {
      const views = letters.map((letter) => view(target.dlq, letter)).sort(bySentTime);
      if (options.json) {
        const output = {
          dlq: target.dlq,
          dlqUrl: target.dlqUrl,
          approximateCount: waiting,
          complete,
          letters: views,
        };
        io.out(JSON.stringify(output, null, 2));
        return 0;
      }
      if (views.length === 0) {
        io.out(`no letters on ${label(target.dlq)} ${target.dlqUrl}`);
        return 0;
      }
      io.out(`${views.length} letter(s) on ${label(target.dlq)} ${target.dlqUrl}`);
      const rows = views.map((v) => [
        v.messageId,
        v.sentAt ?? '-',
        v.receiveCount === null ? '-' : String(v.receiveCount),
        reasonText(target.dlq, v.reason),
        v.summary.text,
      ]);
      for (const line of table([['ID', 'SENT', 'RECEIVES', 'REASON', 'SUMMARY'], ...rows])) io.out(line);
      if (!complete) {
        io.out(`showing the first ${views.length} of about ${waiting}: --limit N shows more`);
      }
      return 0;
    },
  );
}

async function show(
  client: SQSClient,
  target: DlqTarget,
  id: string,
  limit: number,
  options: DlqOptions,
  io: Output,
): Promise<number> {
  const dlq = new DeadLetterQueue(client, target.dlqUrl);
  const waiting = await dlq.count();
  return withScan(
    dlq,
    io,
    (queue) => queue.scan(limit, (letters) => letters.some((letter) => letter.messageId === id)),
    async (scan) => {
      const letter = scan.letters.find((l) => l.messageId === id);
      if (!letter) throw notFound([id], target, scan, waiting);
      const v = view(target.dlq, letter);
      const body = parsedBody(letter.body);
      if (options.json) {
        const output = { ...v, attributes: letter.attributes, body: body.json ? body.value : letter.body };
        io.out(JSON.stringify(output, null, 2));
        return 0;
      }
      const lines = [
        ['letter', v.messageId],
        ['queue', `${label(target.dlq)} ${target.dlqUrl}`],
        ['sent', v.sentAt ?? '-'],
        ['receives', v.receiveCount === null ? '-' : String(v.receiveCount)],
        ['reason', reasonText(target.dlq, v.reason)],
        ...(v.detail ? [['detail', v.detail]] : []),
        ['summary', v.summary.text],
      ];
      for (const line of table(lines)) io.out(line);
      const names = Object.keys(letter.attributes).sort();
      io.out(names.length === 0 ? 'attributes (none)' : 'attributes');
      for (const name of names) io.out(`  ${name}: ${letter.attributes[name]}`);
      io.out('body');
      io.out(body.json ? JSON.stringify(body.value, null, 2) : letter.body);
      return 0;
    },
  );
}

async function redrive(
  client: SQSClient,
  target: DlqTarget,
  ids: readonly string[],
  limit: number,
  options: DlqOptions,
  io: Output,
): Promise<number> {
  const queueUrl = target.queueUrl;
  if (!queueUrl) {
    throw new CommandError(
      'no_queue_url',
      'no fan-out queue to redrive to: pass --queue-url (the Terraform output fanout_queue_url) or --terraform-dir DIR',
    );
  }
  // Both queues answer before any letter is touched.
  await queueDepth(client, queueUrl, 'queue');
  const dlq = new DeadLetterQueue(client, target.dlqUrl);
  const waiting = await dlq.count();
  const wanted = new Set(ids);
  // The whole selection is read before anything moves, so a letter that comes straight back (the
  // cause is not fixed yet) is not picked up again by the same run.
  const scan = (queue: DeadLetterQueue) =>
    wanted.size > 0
      ? queue.scan(limit, (letters) => letters.filter((l) => wanted.has(l.messageId)).length === wanted.size)
      : queue.scan(limit);
  return withScan(dlq, io, scan, async (found) => {
    const selected =
      wanted.size > 0
        ? found.letters.filter((letter) => wanted.has(letter.messageId))
        : found.letters.filter(
            (letter) =>
              options.reason === undefined ||
              reasonMatches(options.reason, letterReason(target.dlq, letter).reason),
          );
    if (wanted.size > 0) {
      const missing = ids.filter((id) => !selected.some((letter) => letter.messageId === id));
      if (missing.length > 0) throw notFound(missing, target, found, waiting);
    }
    if (selected.length === 0) {
      const which = options.reason === undefined ? '' : ` with reason ${options.reason}`;
      io.out(`nothing to redrive: no letter${which} among the ${found.letters.length} on ${target.dlqUrl}`);
      return 0;
    }
    io.out(`redriving ${selected.length} letter(s) from ${target.dlqUrl} to ${queueUrl}`);
    let moved = 0;
    for (const letter of selected) {
      const why = reasonText(target.dlq, letterReason(target.dlq, letter).reason);
      // Send, then delete: interrupted in between, the letter is on both queues and a later redrive
      // sends it again. The platform takes that: delivery is at-least-once, and a delivery_failed
      // letter is a retry message for exactly the connections that failed.
      try {
        await sendToQueue(client, queueUrl, letter);
      } catch (err) {
        throw new CommandError(
          'redrive_send_failed',
          `moved ${moved} of ${selected.length}; ${letter.messageId} stays on the DLQ: ${sqsFailure(err, 'queue', queueUrl).message}`,
        );
      }
      try {
        await dlq.delete(letter);
      } catch (err) {
        throw new CommandError(
          'redrive_delete_failed',
          `moved ${moved} of ${selected.length}; ${letter.messageId} was sent to the fan-out queue but is still on the DLQ (a later redrive would send it again): ${sqsFailure(err, 'dlq', target.dlqUrl).message}`,
        );
      }
      moved += 1;
      io.out(`  ${moved}/${selected.length} ${letter.messageId} (${why}) moved`);
    }
    if (wanted.size > 0) {
      io.out(`redrove ${moved} letter(s) to ${queueUrl}`);
      return 0;
    }
    const left = found.letters.length - moved;
    const beyond = found.complete ? '' : `, and any past the first ${found.letters.length} (--limit)`;
    io.out(`redrove ${moved} letter(s) to ${queueUrl}; ${left} other letter(s) stay on the DLQ${beyond}`);
    return 0;
  });
}

function notFound(missing: readonly string[], target: DlqTarget, scan: Scan, waiting: number): CommandError {
  const scanned = scan.complete
    ? `it holds ${scan.letters.length} letter(s)`
    : `among the first ${scan.letters.length} of about ${waiting} (--limit N looks further)`;
  return new CommandError(
    'letter_not_found',
    `no letter ${missing.join(', ')} on ${target.dlqUrl}: ${scanned}; \`fanout dlq list\` shows their ids`,
  );
}

function view(dlq: DlqName, letter: Letter): LetterView {
  const { reason, detail } = letterReason(dlq, letter);
  const summary = summarize(letter.body);
  return {
    messageId: letter.messageId,
    sentAt: letter.sentAt ? letter.sentAt.toISOString().replace(/\.\d{3}Z$/, 'Z') : null,
    receiveCount: letter.receiveCount ?? null,
    reason,
    detail: detail ?? null,
    summary: { ...summary, text: summaryLine(summary) },
  };
}

function bySentTime(a: LetterView, b: LetterView): number {
  return (a.sentAt ?? '\uffff').localeCompare(b.sentAt ?? '\uffff');
}

function parsedBody(body: string): { json: true; value: unknown } | { json: false } {
  try {
    return { json: true, value: JSON.parse(body) };
  } catch {
    return { json: false };
  }
}

function label(dlq: DlqName): string {
  return dlq === 'events' ? 'the events DLQ' : 'the fan-out DLQ';
}

/** Rows as left-aligned columns, two spaces apart; the last column is not padded. */
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
