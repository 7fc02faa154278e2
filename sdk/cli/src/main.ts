import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type Output, publishCommand, tokenCommand } from './commands.js';
import { runDev } from './dev.js';
import { DEFAULT_LIMIT, DLQ_SUBCOMMANDS, type DlqSubcommand, dlqCommand } from './dlq.js';
import { HOLD_SECONDS } from './dlq-letters.js';
import { CommandError, UsageError } from './errors.js';
import { inspectMain } from './inspect.js';

const HELP = `fanout — event-driven WebSocket fan-out

Usage:
  fanout dev     [--port 4510] [--dashboard-port 4500] [--no-dashboard] [--data-dir DIR] [--verbose]
                 [--secret S] [--trusted-proxy ADDR|CIDR]... [--public-url wss://HOST/PATH]
  fanout token   --sub USER --topics PATTERNS [--ttl 1h] [--secret S] [--issuer ISS] [--audience AUD]
                 [--config FILE]
  fanout publish --topic TOPIC [--user USER] --data JSON [--source S] [--detail-type T]
                 [--bus NAME] [--region R] [--endpoint URL] [--expires-in 30s] [--config FILE] [--aws]
  fanout dlq list    [--json] [--limit N] [--events] [WHERE]
  fanout dlq show    ID [--json] [--limit N] [--events] [WHERE]
  fanout dlq redrive ID... | --all | --reason R  [--limit N] [--events] [WHERE]
         WHERE: [--config FILE] | --aws [--terraform-dir DIR] [--dlq-url URL] [--queue-url URL]
                [--region R] [--endpoint URL]
  fanout help

dev      runs the whole platform locally (run \`make build\` first; \`make dev\` does both) and
         writes the endpoints to .fanout/local.json. It comes with the local runtime
         (@fanout/local), which a clone of the repository has. Behind a reverse proxy
         (deploy/apache), --trusted-proxy names the proxies whose X-Forwarded-For gives the
         client's address, and --public-url is the URL browsers use through it.
token    mints an HS256 JWT; PATTERNS is comma-separated, {sub} stands for the user id.
         The secret comes from --secret, FANOUT_JWT_SECRET, or .fanout/local.json (--config FILE
         reads another one); --issuer and --audience set the iss and aud claims.
publish  sends one event with PutEvents. With .fanout/local.json present (written by the local
         platform) it targets the local bus; with --aws, or without that file, it uses your AWS
         configuration and --bus (the Terraform output event_bus_name).
dlq      reads and redrives the fan-out dead-letter queue: what the fan-out function could not
         deliver, with its reason (malformed, payload_too_large, delivery_failed), and what the
         queue moved there after too many receives ("redriven by the queue", --reason none).
         list     every letter waiting (id, sent, receives, reason, summary); --json for scripts.
                  Letters stay on the queue: each is received with a ${HOLD_SECONDS} s visibility
                  timeout and made visible again at once, which adds one to its receive count.
         show     one letter in full: attributes and the body, pretty-printed.
         redrive  sends letters back to the fan-out queue, then deletes them from the DLQ: the
                  ids given, --all, or those with --reason R. Fix the cause first, or they come back.
         --limit N looks at N letters at most (default ${DEFAULT_LIMIT}).
         --events works on the EventBridge target's DLQ instead (AWS only: its letters carry
         ERROR_CODE and ERROR_MESSAGE); redrive puts its events on the fan-out queue.
         WHERE: .fanout/local.json (or --config FILE) names the local queues. With --aws, or
         without that file, your AWS configuration is used with --dlq-url and --queue-url (the
         Terraform outputs fanout_dlq_url, events_dlq_url and fanout_queue_url), or with
         --terraform-dir DIR, which reads them with \`terraform -chdir=DIR output -json\`.
         --region defaults to the queue URL's, --endpoint is an SQS-compatible endpoint.
         Failures print a stable code (dlq_unreachable, letter_not_found, ...) and exit 1.`;

const consoleOutput: Output = { out: (l) => console.log(l), err: (l) => console.error(l) };

/**
 * Runs one `fanout` command and resolves with its exit code: 0 done, 1 failed, 2 usage error.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(
  argv: readonly string[],
  io: Output = consoleOutput,
  env = process.env,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'dev':
        return await runDev(rest, io);
      case 'token': {
        const { values } = parseArgs({
          args: rest,
          options: {
            sub: { type: 'string' },
            topics: { type: 'string', multiple: true },
            ttl: { type: 'string' },
            secret: { type: 'string' },
            issuer: { type: 'string' },
            audience: { type: 'string' },
            config: { type: 'string' },
          },
        });
        return await tokenCommand(values, env, io);
      }
      case 'publish': {
        const { values } = parseArgs({
          args: rest,
          options: {
            topic: { type: 'string', multiple: true },
            user: { type: 'string', multiple: true },
            data: { type: 'string' },
            source: { type: 'string' },
            'detail-type': { type: 'string' },
            bus: { type: 'string' },
            region: { type: 'string' },
            endpoint: { type: 'string' },
            'expires-in': { type: 'string' },
            config: { type: 'string' },
            aws: { type: 'boolean' },
          },
        });
        const { 'detail-type': detailType, 'expires-in': expiresIn, ...others } = values;
        return await publishCommand({ ...others, detailType, expiresIn }, env, io);
      }
      case 'dlq':
        return await runDlq(rest, env, io);
      case 'inspect':
        return await inspectMain(rest, env, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    // parseArgs reports bad options as errors with an ERR_PARSE_ARGS_* code.
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
    const usage = err instanceof UsageError || code.startsWith('ERR_PARSE_ARGS');
    const message =
      typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
    io.err(`fanout ${command ?? ''}: ${err instanceof CommandError ? `${err.code}: ` : ''}${message}`);
    if (usage) io.err('run `fanout help` for usage');
    return usage ? 2 : 1;
  }
}

/** Options every `fanout dlq` subcommand takes: where the queues are. */
const DLQ_WHERE = {
  config: { type: 'string' },
  aws: { type: 'boolean' },
  events: { type: 'boolean' },
  'queue-url': { type: 'string' },
  'dlq-url': { type: 'string' },
  'terraform-dir': { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  limit: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

const DLQ_OPTIONS = {
  list: { ...DLQ_WHERE, json: { type: 'boolean' } },
  show: { ...DLQ_WHERE, json: { type: 'boolean' } },
  redrive: { ...DLQ_WHERE, all: { type: 'boolean' }, reason: { type: 'string' } },
} as const;

/** `fanout dlq <list|show|redrive> ...`: each subcommand accepts only its own options. */
async function runDlq(argv: readonly string[], env: NodeJS.ProcessEnv, io: Output): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (!isDlqSubcommand(subcommand)) {
    throw new UsageError(
      subcommand === undefined
        ? `dlq needs a subcommand: ${DLQ_SUBCOMMANDS.join(', ')}`
        : `unknown dlq subcommand "${subcommand}" (use ${DLQ_SUBCOMMANDS.join(', ')})`,
    );
  }
  const { values, positionals } = parseArgs({
    args: [...rest],
    options: DLQ_OPTIONS[subcommand],
    allowPositionals: true,
  });
  const {
    'queue-url': queueUrl,
    'dlq-url': dlqUrl,
    'terraform-dir': terraformDir,
    ...others
  } = values as Record<string, string | boolean | undefined>;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const flag = (v: unknown) => v === true;
  return dlqCommand(
    subcommand,
    positionals,
    {
      config: text(others.config),
      aws: flag(others.aws),
      events: flag(others.events),
      queueUrl: text(queueUrl),
      dlqUrl: text(dlqUrl),
      terraformDir: text(terraformDir),
      region: text(others.region),
      endpoint: text(others.endpoint),
      limit: text(others.limit),
      json: flag(others.json),
      all: flag(others.all),
      reason: text(others.reason),
    },
    env,
    io,
  );
}

function isDlqSubcommand(value: string | undefined): value is DlqSubcommand {
  return (DLQ_SUBCOMMANDS as readonly (string | undefined)[]).includes(value);
}
