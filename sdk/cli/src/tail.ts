import { type EventFrame, FanoutClient, FanoutRequestError } from '@fanout/client';
import { LOCAL_ENDPOINTS_FILE } from '@fanout/protocol';
import { signToken } from '@fanout/publisher';
import WebSocket from 'ws';
import type { Output } from './commands.js';
import { CommandError, UsageError } from './errors.js';
import { localPlatform } from './local-config.js';
import { checkPattern } from './patterns.js';

/** Options of `fanout tail`, as parsed from the command line. */
export interface TailOptions {
  json?: boolean;
  url?: string | undefined;
  token?: string | undefined;
  user?: string | undefined;
  config?: string | undefined;
}

/** A locally minted token lives as long as the banner's; each reconnect mints a fresh one. */
const LOCAL_TOKEN_SECONDS = 12 * 3600;

/** `2026-12-02T01:02:03Z demo/hello {"hello":"world"}  id 70dadc39… via demo/*` */
export function eventLine(frame: EventFrame): string {
  const where = 'topic' in frame ? frame.topic : `user ${frame.user}`;
  const via =
    'subscription' in frame && frame.subscription !== frame.topic ? ` via ${frame.subscription}` : '';
  return `${frame.time} ${where} ${JSON.stringify(frame.data ?? null)}  id ${frame.id}${via}`;
}

/**
 * `fanout tail PATTERN...`: subscribes through the client SDK and prints every event as it arrives
 * (stdout), and the connection's story (stderr): a reconnect, and whether what was missed while
 * disconnected came back. Runs until `stop` resolves (SIGINT, SIGTERM), then exits 0.
 */
export async function tailCommand(
  patterns: readonly string[],
  options: TailOptions,
  env: NodeJS.ProcessEnv,
  io: Output,
  stop: Promise<string>,
): Promise<number> {
  for (const pattern of patterns) checkPattern(pattern);
  const given = options.token ?? env.FANOUT_TOKEN;
  if (given !== undefined && options.user !== undefined) {
    throw new UsageError(
      'conflicting_options',
      '--user names the user of a token tail mints; a --token (or FANOUT_TOKEN) carries its own',
    );
  }
  // Against AWS (--url with a token) the local file plays no part.
  const local = options.url !== undefined && given !== undefined ? undefined : localPlatform(options.config);
  const url = options.url ?? local?.websocketUrl;
  if (url === undefined) {
    throw new UsageError(
      'missing_option',
      `no local platform (${LOCAL_ENDPOINTS_FILE}): start \`make dev\`, or pass --url (the Terraform output websocket_url) and --token`,
    );
  }
  let token: string | (() => Promise<string>);
  if (given !== undefined) token = given;
  else if (local !== undefined) {
    const secret = local.jwtSecret;
    const sub = options.user ?? 'tail';
    token = () => signToken({ secret, sub, topics: [...patterns], expiresInSeconds: LOCAL_TOKEN_SECONDS });
  } else {
    throw new UsageError('missing_option', `--url ${url} needs --token JWT (or FANOUT_TOKEN)`);
  }

  const client = new FanoutClient({ url, token, WebSocket });
  const note = (line: string) => io.err(`fanout tail: ${line}`);
  let connected = false;
  client.on('event', (frame) => io.out(options.json ? JSON.stringify(frame) : eventLine(frame)));
  client.on('state', (state) => {
    if (!connected) return;
    const { lastClose, retryAt } = client.status;
    if (state === 'reconnecting') {
      const seconds = retryAt === undefined ? 0 : Math.max(0, (retryAt - Date.now()) / 1000);
      const why = lastClose ? ` (${lastClose.code}${lastClose.reason ? ` ${lastClose.reason}` : ''})` : '';
      note(`connection lost${why}; reconnecting in ${seconds.toFixed(1)} s`);
    } else if (state === 'recovering') note('reconnected; getting back what was missed');
  });
  client.on('recovered', ({ recovered, missed }) =>
    note(
      recovered
        ? `recovered: ${missed} event(s) sent again (after a reconnect or a renewal); nothing lost`
        : 'could not recover what the connection missed (the history no longer has it): events may be missing',
    ),
  );
  client.on('error', (err) => {
    if (connected) note(err.message);
  });

  const stopped = stop.then((signal) => ({ signal }));
  try {
    const opened = await Promise.race([client.connect().then(() => undefined), stopped]);
    if (opened !== undefined) {
      client.close();
      return 0;
    }
  } catch (err) {
    client.close();
    throw new CommandError(
      'connect_failed',
      `${err instanceof Error ? err.message : String(err)} (is the platform running, and the token valid?)`,
    );
  }
  try {
    await client.subscribe(...patterns);
  } catch (err) {
    client.close();
    const code = err instanceof FanoutRequestError ? `${err.code}: ` : '';
    throw new CommandError('subscribe_failed', `${code}${err instanceof Error ? err.message : String(err)}`);
  }
  connected = true;
  note(`subscribed to ${patterns.join(', ')} at ${url}; Ctrl+C stops`);
  const { signal } = await stopped;
  client.close();
  note(`${signal}, stopped`);
  return 0;
}
