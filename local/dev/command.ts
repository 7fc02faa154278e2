import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LOCAL_ENDPOINTS_FILE } from '@fanout/protocol';
import { signToken } from '@fanout/publisher';
import { parseTrustedProxies } from '../gateway/forwarded.js';
import type { LogEntry } from '../lambda/runner.js';
import { assertJwtSecret, ROUTE_BACKENDS, type RouteBackend, startLocalPlatform } from './platform.js';

/** Where `fanout dev` prints (the CLI passes its console; tests capture the lines). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export interface DevOptions {
  port?: string;
  dashboardPort?: string;
  noDashboard?: boolean;
  dataDir?: string;
  secret?: string;
  verbose?: boolean;
  /** `--trusted-proxy`, repeatable or comma-separated: proxies whose X-Forwarded-For names the client. */
  trustedProxy?: string[];
  /** `--public-url`: the wss:// URL of the gateway through a reverse proxy (deploy/apache). */
  publicUrl?: string;
  /**
   * `--max-connection-seconds`: API Gateway's 2-hour connection limit, shortened so that a client's
   * make-before-break renewal can be watched.
   */
  maxConnectionSeconds?: string;
  /** `--route-backend lambda|http`: the route functions, or `fanout backend` over HTTP integrations. */
  routeBackend?: string;
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

export async function devCommand(options: DevOptions, io: Output): Promise<number> {
  const started = Date.now();
  const proxies = trustedProxies(options.trustedProxy);
  const publicWebsocketUrl = publicUrl(options.publicUrl);
  const routes = routeBackend(options.routeBackend);
  // Before anything starts: a short secret would start a platform whose every connection fails.
  if (options.secret !== undefined) assertJwtSecret(options.secret, '--secret');
  io.out('fanout: starting the local platform…');
  const platform = await startLocalPlatform({
    rootDir: ROOT,
    gatewayPort: port(options.port, 4510, '--port'),
    dashboardPort: options.noDashboard ? false : port(options.dashboardPort, 4500, '--dashboard-port'),
    ...(options.secret !== undefined ? { jwtSecret: options.secret } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(proxies.length > 0 ? { trustedProxies: proxies } : {}),
    ...(publicWebsocketUrl ? { publicWebsocketUrl } : {}),
    ...(options.maxConnectionSeconds === undefined
      ? {}
      : { maxConnectionMs: wholeSeconds(options.maxConnectionSeconds, '--max-connection-seconds') * 1000 }),
    routeBackend: routes,
    logSink: compactLogSink(io, options.verbose ?? false),
    progress: (line) => io.out(`  ${line}`),
  });
  const configPath = resolve(LOCAL_ENDPOINTS_FILE);
  mkdirSync(dirname(configPath), { recursive: true });
  writeFileSync(configPath, `${JSON.stringify(platform.config, null, 2)}\n`);

  const token = await signToken({
    secret: platform.config.jwtSecret,
    sub: 'demo',
    topics: ['demo/*', 'users/{sub}/*'],
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

  Other tokens: npx fanout token --sub alice --topics 'demo/*,users/{sub}/*'
${proxied.length > 0 ? `${proxied.join('\n')}\n` : ''}  Press Ctrl+C to stop.
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

/** `fanout dev [options]`: parses the options, then runs the platform until SIGINT or SIGTERM. */
export async function devMain(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      'dashboard-port': { type: 'string' },
      'no-dashboard': { type: 'boolean' },
      'data-dir': { type: 'string' },
      secret: { type: 'string' },
      verbose: { type: 'boolean' },
      'trusted-proxy': { type: 'string', multiple: true },
      'public-url': { type: 'string' },
      'max-connection-seconds': { type: 'string' },
      'route-backend': { type: 'string' },
    },
  });
  const {
    'dashboard-port': dashboardPort,
    'no-dashboard': noDashboard,
    'data-dir': dataDir,
    'trusted-proxy': trustedProxy,
    'public-url': publicUrlValue,
    'max-connection-seconds': maxConnectionSeconds,
    'route-backend': routeBackendValue,
    ...others
  } = values;
  return devCommand(
    {
      ...others,
      dashboardPort,
      noDashboard,
      dataDir,
      trustedProxy,
      publicUrl: publicUrlValue,
      maxConnectionSeconds,
      routeBackend: routeBackendValue,
    },
    io,
  );
}
