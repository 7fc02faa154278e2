import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { PlatformEndpoints } from '@fanout/protocol';
import { Publisher, signToken } from '@fanout/publisher';
import { UsageError } from './errors.js';
import { readLocalConfig } from './local-config.js';

export { UsageError };

/** Where the CLI prints: the console, or a capture in tests. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** `1h`, `30m`, `45s` or plain seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new UsageError(`"${value}" is not a duration (use e.g. 45s, 30m, 1h, 2d)`);
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
  const secret = options.secret ?? env.FANOUT_JWT_SECRET ?? readLocalConfig(options.config)?.jwtSecret;
  if (!secret) {
    throw new UsageError(
      'no secret: pass --secret, set FANOUT_JWT_SECRET, or start `fanout dev` to write .fanout/local.json',
    );
  }
  const token = await signToken({
    secret,
    ...(options.sub ? { sub: options.sub } : {}),
    topics: splitList(options.topics),
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
): Promise<number> {
  let data: unknown = null;
  if (options.data !== undefined) {
    try {
      data = JSON.parse(options.data);
    } catch {
      throw new UsageError(`--data must be JSON, got ${options.data}`);
    }
  }
  const local: PlatformEndpoints | undefined = options.aws ? undefined : readLocalConfig(options.config);
  const bus = options.bus ?? env.FANOUT_EVENT_BUS ?? local?.eventBusName;
  if (!bus) {
    throw new UsageError(
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
  const eventId = await publisher.publish({
    topics: splitList(options.topic),
    users: splitList(options.user),
    data,
    detailType: options.detailType ?? 'Notification',
    ...(options.expiresIn
      ? { expiresAt: new Date(Date.now() + parseDuration(options.expiresIn) * 1000) }
      : {}),
  });
  io.out(`published ${eventId} to ${bus}${endpoint ? ` at ${endpoint}` : ''}`);
  return 0;
}
