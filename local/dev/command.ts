import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_ENDPOINTS_FILE } from '@fanout/protocol';
import { signToken } from '@fanout/publisher';
import { parseTrustedProxies } from '../gateway/forwarded.js';
import type { LogEntry } from '../lambda/runner.js';
import { DEMO_GRANTS, DEMO_USER } from './dashboard-server.js';
import { assertJwtSecret, ROUTE_BACKENDS, type RouteBackend, startLocalPlatform } from './platform.js';
import { SECRET_FILE } from './secret.js';

/** Where `fanout dev` prints (the CLI passes its console; tests capture the lines). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `fanout dev`'s options, as the CLI's command table (sdk/cli/src/spec.ts) parses them and its help
 * describes them; DEV_OPTION_KEYS lists them for the test that holds the two together.
 */
export interface DevOptions {
  port?: string | undefined;
  dashboardPort?: string | undefined;
  noDashboard?: boolean | undefined;
  dataDir?: string | undefined;
  secret?: string | undefined;
  verbose?: boolean | undefined;
  /** `--trusted-proxy`, repeatable or comma-separated: proxies whose X-Forwarded-For names the client. */
  trustedProxy?: string[] | undefined;
  /** `--public-url`: the wss:// URL of the gateway through a reverse proxy (deploy/apache). */
  publicUrl?: string | undefined;
  /**
   * `--max-connection-seconds`: API Gateway's 2-hour connection limit, shortened so that a client's
   * make-before-break renewal can be watched.
   */
  maxConnectionSeconds?: string | undefined;
  /** `--route-backend lambda|http`: the route functions, or `fanout backend` over HTTP integrations. */
  routeBackend?: string | undefined;
}

export const DEV_OPTION_KEYS = [
  'port',
  'dashboardPort',
  'noDashboard',
  'dataDir',
  'secret',
  'verbose',
  'trustedProxy',
  'publicUrl',
  'maxConnectionSeconds',
  'routeBackend',
] as const satisfies readonly (keyof DevOptions)[];

/**
 * Why `fanout dev` did not start, as a stable code the CLI prints (`fanout dev: <code>: …`);
 * `usage` when the command line is at fault (exit code 2).
 */
export const DEV_ERROR_CODES = ['invalid_value', 'port_in_use', 'already_running'] as const;
export type DevErrorCode = (typeof DEV_ERROR_CODES)[number];

export class DevError extends Error {
  override readonly name = 'DevError';

  constructor(
    readonly code: DevErrorCode,
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

/** Runs `check`, turning what it throws into an `invalid_value` usage error. */
function option<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new DevError('invalid_value', err instanceof Error ? err.message : String(err), true);
  }
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function routeBackend(value: string | undefined): RouteBackend {
  if (value === undefined) return 'lambda';
  if (!(ROUTE_BACKENDS as readonly string[]).includes(value)) {
    throw new Error(`--route-backend must be ${ROUTE_BACKENDS.join(' or ')}, got ${value}`);
  }
  return value as RouteBackend;
}

/** A whole number of seconds from 1 to API Gateway's own 7,200. */
function wholeSeconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 7200)
    throw new Error(`${flag} must be a whole number of seconds from 1 to 7200, got ${value}`);
  return n;
}

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${flag} must be a port number, got ${value}`);
  return n;
}

/** `--trusted-proxy 127.0.0.1 --trusted-proxy 10.0.0.0/8` or `--trusted-proxy 127.0.0.1,10.0.0.0/8`. */
function trustedProxies(values: readonly string[] | undefined): string[] {
  const list = (values ?? []).flatMap((value) => value.split(',')).map((entry) => entry.trim());
  const entries = list.filter((entry) => entry.length > 0);
  parseTrustedProxies(entries); // throws naming the first entry that is not an address or a range
  return entries;
}

/** A ws:// or wss:// URL without query or fragment: `?token=` is appended to it. */
function publicUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'wss:' && url.protocol !== 'ws:') || url.search || url.hash) {
    throw new Error(`--public-url must be a ws:// or wss:// URL without a query, got ${value}`);
  }
  return value;
}

/**
 * Function logs, made readable: Powertools' JSON lines become `[fn] LEVEL message {fields}`; EMF metric
 * lines and the runtime's START/END lines are shown only with --verbose.
 */
export function compactLogSink(io: Output, verbose: boolean) {
  return ({ functionName, line }: LogEntry): void => {
    const fn = functionName.replace(/^.*-(?=[a-z]+$)/, '');
    let parsed: Record<string, unknown> | undefined;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
    } catch {
      // not JSON: printed as it is
    }
    if (!parsed) {
      if (verbose || !/^(START|END|REPORT|INIT_START) /.test(line)) io.out(`[${fn}] ${line}`);
      return;
    }
    if ('_aws' in parsed && !verbose) return;
    const {
      level,
      message,
      timestamp,
      service,
      xray_trace_id,
      cold_start,
      sampling_rate,
      function_arn,
      function_memory_size,
      function_name,
      function_request_id,
      ...rest
    } = parsed;
    const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    io.out(`[${fn}] ${String(level ?? 'INFO')} ${String(message ?? '')}${fields}`);
  };
}

/** Which option (and `make dev` variable) sets each port the command listens on. */
const PORT_OPTIONS = {
  gateway: { what: 'the WebSocket API', option: '--port', make: 'PORT' },
  dashboard: { what: 'the dashboard', option: '--dashboard-port', make: 'DASHBOARD_PORT' },
} as const;

/** A listen that failed on a port in use, as an error naming the option that changes it. */
export function portInUse(
  err: unknown,
  ports: { gateway: number; dashboard: number | false },
): DevError | undefined {
  const failure = err as NodeJS.ErrnoException & { port?: number };
  if (failure?.code !== 'EADDRINUSE') return undefined;
  const which = (['gateway', 'dashboard'] as const).find((key) => ports[key] === failure.port);
  if (which === undefined) return new DevError('port_in_use', failure.message);
  const { what, option: flag, make } = PORT_OPTIONS[which];
  return new DevError(
    'port_in_use',
    `port ${failure.port} (${what}) is in use, by another fanout dev or another program: pass ${flag} N (\`make dev ${make}=N\`), or ${flag} 0 for any free port`,
  );
}

/**
 * The endpoints file a previous start left in this directory: refused while its platform still runs
 * (two platforms would overwrite each other's file); replaced, with a line saying so, when its
 * process is gone (killed without Ctrl+C).
 */
export function checkPreviousStart(configPath: string, io: Output): void {
  if (!existsSync(configPath)) return;
  let pid: unknown;
  try {
    pid = (JSON.parse(readFileSync(configPath, 'utf8')) as { pid?: unknown }).pid;
  } catch {
    return; // not ours to judge: it is overwritten
  }
  if (typeof pid !== 'number' || pid === process.pid) return;
  let alive = true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    alive = (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (alive) {
    throw new DevError(
      'already_running',
      `a fanout dev (process ${pid}) is already running from this directory (${LOCAL_ENDPOINTS_FILE}): stop it first (if that process is no fanout dev, delete the file), or run this one from another directory`,
    );
  }
  io.out(
    `fanout: replacing ${LOCAL_ENDPOINTS_FILE}, left by a fanout dev (process ${pid}) that is no longer running`,
  );
}

export async function devCommand(options: DevOptions, io: Output): Promise<number> {
  const started = Date.now();
  const proxies = option(() => trustedProxies(options.trustedProxy));
  const publicWebsocketUrl = option(() => publicUrl(options.publicUrl));
  const routes = option(() => routeBackend(options.routeBackend));
  // Before anything starts: a short secret would start a platform whose every connection fails.
  const { secret } = options;
  if (secret !== undefined) option(() => assertJwtSecret(secret, '--secret'));
  const ports = {
    gateway: option(() => port(options.port, 4510, '--port')),
    dashboard: options.noDashboard
      ? false
      : option(() => port(options.dashboardPort, 4500, '--dashboard-port')),
  } as const;
  const maxConnectionSeconds = options.maxConnectionSeconds;
  const maxConnectionMs =
    maxConnectionSeconds === undefined
      ? undefined
      : option(() => wholeSeconds(maxConnectionSeconds, '--max-connection-seconds')) * 1000;
  const configPath = resolve(LOCAL_ENDPOINTS_FILE);
  checkPreviousStart(configPath, io);
  io.out('fanout: starting the local platform…');
  const platform = await startLocalPlatform({
    rootDir: ROOT,
    gatewayPort: ports.gateway,
    dashboardPort: ports.dashboard,
    ...(options.secret !== undefined ? { jwtSecret: options.secret } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(proxies.length > 0 ? { trustedProxies: proxies } : {}),
    ...(publicWebsocketUrl ? { publicWebsocketUrl } : {}),
    ...(maxConnectionMs === undefined ? {} : { maxConnectionMs }),
    routeBackend: routes,
    logSink: compactLogSink(io, options.verbose ?? false),
    progress: (line) => io.out(`  ${line}`),
  }).catch((err: unknown) => {
    throw portInUse(err, ports) ?? err;
  });
  mkdirSync(dirname(configPath), { recursive: true });
  // The process id tells a later command whether the platform is still there (a killed one leaves
  // the file behind).
  writeFileSync(configPath, `${JSON.stringify({ ...platform.config, pid: process.pid }, null, 2)}\n`);

  const token = await signToken({
    secret: platform.config.jwtSecret,
    // The dashboard's user and grants: the page and the banner's wscat line are one user.
    sub: DEMO_USER,
    topics: [...DEMO_GRANTS],
    expiresInSeconds: 12 * 3600,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const proxied = [
    ...(publicWebsocketUrl
      ? [`  Through the reverse proxy: npx wscat -c "${publicWebsocketUrl}?token=${token}"`]
      : []),
    ...(proxies.length > 0 ? [`  Client addresses from X-Forwarded-For of: ${proxies.join(', ')}`] : []),
  ];
  io.out(`
fanout is running locally (ready in ${seconds} s). Endpoints are in ${join(LOCAL_ENDPOINTS_FILE)}.
${platform.config.dashboardUrl ? `\n  Dashboard:  ${platform.config.dashboardUrl}\n` : ''}
  1. Connect (a token for user "demo", allowed demo/* and users/demo/*, valid 12 h):
       npx wscat -c "${platform.config.websocketUrl}?token=${token}"
  2. Then type:
       {"action":"subscribe","topics":["demo/*"]}
  3. Publish, in another terminal:
       npx fanout publish --topic demo/hello --data '{"hello":"world"}'

  Watch the stream in a terminal: npx fanout tail 'demo/*'
  Other tokens: npx fanout token --sub alice --topics 'demo/*,users/{sub}/*'
${options.dataDir ? `  The token secret is kept in ${join(options.dataDir, SECRET_FILE)}${options.secret === undefined ? '' : ' (this start uses --secret)'}: tokens outlive a restart.\n` : ''}${proxied.length > 0 ? `${proxied.join('\n')}\n` : ''}  Press Ctrl+C to stop.
`);

  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      io.out(`\nfanout: ${signal}, stopping…`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolveStop();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  await platform.close();
  rmSync(configPath, { force: true });
  io.out('fanout: stopped.');
  return 0;
}
