import { readFile } from 'node:fs/promises';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { PlatformEndpoints } from '@fanout/protocol';
import { Publisher, signToken } from '@fanout/publisher';
import { CommandError, UsageError } from './errors.js';
import { localPlatform } from './local-config.js';
import { checkGrant } from './patterns.js';

export { UsageError };

/** Where the CLI prints: the console, or a capture in tests. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** `1h`, `30m`, `45s` or plain seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match)
    throw new UsageError('invalid_value', `"${value}" is not a duration (use e.g. 45s, 30m, 1h, 2d)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * unit;
}

/** `--topics a,b --topics c` → `['a', 'b', 'c']`: repeated and comma-separated values, trimmed. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** Options of `fanout token`, as parsed from the command line. */
export interface TokenOptions {
  sub?: string;
  topics?: string[];
  ttl?: string;
  secret?: string;
  issuer?: string;
  audience?: string;
  config?: string;
}

/** Mints an HS256 token for the local platform (or any deployment using a shared secret). */
export async function tokenCommand(
  options: TokenOptions,
  env: NodeJS.ProcessEnv,
  io: Output,
): Promise<number> {
  const topics = splitList(options.topics);
  for (const entry of topics) checkGrant(entry, options.sub ?? '');
  // A token needs no running platform: with --data-dir, one minted now works after the next start.
  const secret =
    options.secret ??
    env.FANOUT_JWT_SECRET ??
    localPlatform(options.config, { required: false, live: false })?.jwtSecret;
  if (!secret) {
    throw new UsageError(
      'no_secret',
      'no secret: pass --secret, set FANOUT_JWT_SECRET, or start `fanout dev` to write .fanout/local.json',
    );
  }
  const token = await signToken({
    secret,
    ...(options.sub ? { sub: options.sub } : {}),
    topics,
    expiresInSeconds: parseDuration(options.ttl ?? '1h'),
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  });
  io.out(token);
  return 0;
}

/** Options of `fanout publish`, as parsed from the command line. */
export interface PublishOptions {
  topic?: string[];
  user?: string[];
  data?: string;
  dataFile?: string;
  source?: string;
  detailType?: string;
  bus?: string;
  region?: string;
  endpoint?: string;
  expiresIn?: string;
  config?: string;
  aws?: boolean;
}

/** Publishes one notification with the real EventBridge client, locally or to AWS. */
export async function publishCommand(
  options: PublishOptions,
  env: NodeJS.ProcessEnv,
  io: Output,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<number> {
  const data = await readData(options, stdin);
  const local: PlatformEndpoints | undefined = options.aws ? undefined : localPlatform(options.config);
  const bus = options.bus ?? env.FANOUT_EVENT_BUS ?? local?.eventBusName;
  if (!bus) {
    throw new UsageError(
      'no_event_bus',
      'no event bus: pass --bus (the Terraform output event_bus_name) or start `fanout dev`',
    );
  }
  const endpoint = options.endpoint ?? local?.eventBridgeEndpoint;
  const region = options.region ?? local?.region;
  const client = new EventBridgeClient({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    // The local bus does not check signatures; AWS uses the normal credential chain.
    ...(local && !options.endpoint
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  const publisher = new Publisher({ eventBusName: bus, source: options.source ?? 'fanout.cli', client });
  const expiresAt = options.expiresIn
    ? new Date(Date.now() + parseDuration(options.expiresIn) * 1000)
    : undefined;
  let eventId: string;
  try {
    eventId = await publisher.publish({
      topics: splitList(options.topic),
      users: splitList(options.user),
      data,
      detailType: options.detailType ?? 'Notification',
      ...(expiresAt ? { expiresAt } : {}),
    });
  } catch (err) {
    throw publishFailure(err, bus);
  } finally {
    client.destroy();
  }
  io.out(`published ${eventId} to ${bus}${endpoint ? ` at ${endpoint}` : ''}`);
  return 0;
}

/** What the SDK throws for a missing credential or region, as the codes `fanout dlq` uses too. */
function publishFailure(err: unknown, bus: string): unknown {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'CredentialsProviderError') {
    return new CommandError(
      'no_credentials',
      `no AWS credentials to publish to ${bus}: ${message} (set AWS_PROFILE or the AWS_* variables, or start \`fanout dev\`)`,
    );
  }
  if (/region is missing/i.test(message)) {
    return new CommandError(
      'no_region',
      `no AWS region to publish to ${bus}: pass --region or set AWS_REGION`,
    );
  }
  return err;
}

/** Reads a stream to its end, as UTF-8. */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The payload: `--data JSON`, `--data -` (stdin) or `--data-file FILE`; the last two carry payloads
 * larger than a command line may be (the publisher then checks EventBridge's entry size).
 */
async function readData(options: PublishOptions, stdin: NodeJS.ReadableStream): Promise<unknown> {
  let source: string;
  let json: string;
  if (options.dataFile !== undefined) {
    source = `--data-file ${options.dataFile}`;
    try {
      json = await readFile(options.dataFile, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new CommandError('data_file_unreadable', `cannot read ${options.dataFile} (${reason})`);
    }
  } else if (options.data === '-') {
    source = 'the JSON on stdin (--data -)';
    json = await readAll(stdin);
  } else {
    source = '--data';
    json = options.data ?? 'null';
  }
  try {
    return JSON.parse(json);
  } catch (err) {
    const shown = json.length > 80 ? `${json.slice(0, 80)}…` : json;
    throw new UsageError(
      'invalid_data',
      `${source} must be JSON (${err instanceof Error ? err.message : String(err)}), got ${shown.trim() || 'nothing'}`,
    );
  }
}
