/**
 * Renders the Apache httpd virtual hosts of deploy/apache: `aws` in front of the deployed stack (from
 * `terraform output -json`), `local` in front of `fanout dev` (from .fanout/local.json). Every value
 * that reaches the configuration is checked first, so a bad input is a clear error with a stable code,
 * never a configuration Apache reads differently than intended.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// Relative, not @fanout/protocol: tsx maps that name through tsconfig.json only when run from the
// repository root, and this command may run from anywhere.
import {
  DEFAULT_PING_INTERVAL_MS,
  IDLE_TIMEOUT_SECONDS,
  parseEndpoints,
} from '../../sdk/protocol/src/index.js';

export const ERROR_CODES = [
  /** Unknown option, missing required option, unknown kind. Exit code 2. */
  'usage',
  /** The input file could not be read. */
  'input_unreadable',
  /** The input is not JSON. */
  'input_not_json',
  /** `terraform output -json` without a `websocket_url` output. */
  'missing_output',
  /** .fanout/local.json is not an endpoints file (a field is missing). */
  'bad_endpoints',
  /** The upstream WebSocket URL is not what the kind needs (wss:// for aws, ws:// for local). */
  'bad_websocket_url',
  /** The dashboard URL is not an http(s):// URL. */
  'bad_dashboard_url',
  'bad_server_name',
  'bad_port',
  /** The public WebSocket path is not `/segment[/segment…]`. */
  'bad_path',
  /** A file or directory path that is not absolute or holds characters a config cannot carry. */
  'bad_file',
  'bad_listen_address',
  'bad_timeout',
  'bad_ping_interval',
  /** Apache would cut a connection that pings as often as the client SDK does. */
  'timeout_below_ping',
  /** A flag contradicts the publicWebsocketUrl that `fanout dev --public-url` recorded. */
  'public_url_mismatch',
] as const;
export type RenderErrorCode = (typeof ERROR_CODES)[number];

/** A refused input: `code` is stable (scripts may test it), `message` says what to change. */
export class RenderError extends Error {
  override readonly name = 'RenderError';
  constructor(
    readonly code: RenderErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type Kind = 'aws' | 'local';

/** What both virtual hosts need besides their upstreams. */
export interface CommonSettings {
  serverName: string;
  httpsPort: number;
  httpPort: number;
  /** Emit `Listen` lines on this address (for ports ports.conf does not list); none when undefined. */
  listenAddress: string | undefined;
  websocketPath: string;
  certFile: string;
  keyFile: string;
  logDir: string;
  timeout: number;
  proxyTimeout: number;
  /** The client SDK's pingIntervalMs, in seconds, which the timeouts are checked against. */
  pingIntervalSeconds: number;
}

export interface AwsSettings extends CommonSettings {
  kind: 'aws';
  /** `wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}`: the `websocket_url` output. */
  upstreamUrl: string;
  upstreamCaFile: string;
  /** Your dashboard application, proxied at `/`; none when undefined. */
  dashboardUrl: string | undefined;
}

export interface LocalSettings extends CommonSettings {
  kind: 'local';
  /** `ws://127.0.0.1:4510/local`: `websocketUrl` of .fanout/local.json. */
  gatewayUrl: string;
  /** The local dashboard, proxied at `/`; none when `fanout dev` ran with --no-dashboard. */
  dashboardUrl: string | undefined;
}

export type Settings = AwsSettings | LocalSettings;

export interface Rendered {
  text: string;
  /** Things that are allowed but probably not meant (shortened timeouts). */
  warnings: string[];
}

/** Debian's envvars defines it; Apache expands `${…}` when it reads the configuration. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an Apache variable, for Apache to expand
export const DEFAULT_LOG_DIR = '${APACHE_LOG_DIR}';
/** Debian's ca-certificates bundle, which holds the roots API Gateway's certificates chain to. */
export const DEFAULT_UPSTREAM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';
export const DEFAULT_WEBSOCKET_PATH = '/live';
/** For ordinary requests: httpd's own default is 60 s; Debian's apache2.conf sets 300 s. */
export const DEFAULT_TIMEOUT_SECONDS = 60;
/** API Gateway's idle limit plus a minute: Apache is never the one to cut an idle connection first. */
export const DEFAULT_PROXY_TIMEOUT_SECONDS = IDLE_TIMEOUT_SECONDS + 60;

// ---- templates ------------------------------------------------------------------------------------

export type TemplateValues = Record<string, string | boolean>;

/**
 * Fills `{{name}}` placeholders, keeps the lines between `{{#name}}` and `{{/name}}` when `name` is
 * set (non-empty, not false) and those between `{{^name}}` and `{{/name}}` when it is not. Section
 * tags stand on lines of their own. Throws on a placeholder without a value, so a template and its
 * renderer can never drift apart silently.
 */
export function fillTemplate(template: string, values: TemplateValues): string {
  const isSet = (name: string): boolean => {
    if (!(name in values)) throw new Error(`template section {{${name}}} has no value`);
    const value = values[name];
    return value !== false && value !== '';
  };
  const output: string[] = [];
  const open: { name: string; keep: boolean }[] = [];
  for (const line of template.split('\n')) {
    const section = /^\s*\{\{([#^/])([A-Za-z]+)\}\}\s*$/.exec(line);
    if (section) {
      const [, sigil, name = ''] = section;
      if (sigil === '/') {
        const closed = open.pop();
        if (closed?.name !== name) throw new Error(`template: {{/${name}}} closes no open section`);
      } else open.push({ name, keep: isSet(name) === (sigil === '#') });
      continue;
    }
    if (open.some((s) => !s.keep)) continue;
    output.push(
      line.replace(/\{\{([A-Za-z]+)\}\}/g, (_, name: string) => {
        const value = values[name];
        if (typeof value !== 'string') throw new Error(`template placeholder {{${name}}} has no value`);
        return value;
      }),
    );
  }
  if (open.length > 0) throw new Error(`template: section {{#${open[0]?.name}}} is never closed`);
  return output.join('\n');
}

export function templateFile(templateDir: string, kind: Kind): string {
  return join(templateDir, `fanout-${kind}.conf.template`);
}

/** The configuration text for `settings`, from the template in `templateDir`. */
export function renderVhost(settings: Settings, templateDir: string): Rendered {
  const tunnelIdleSeconds = Math.max(settings.timeout, settings.proxyTimeout);
  const warnings: string[] = [];
  if (tunnelIdleSeconds < IDLE_TIMEOUT_SECONDS) {
    warnings.push(
      `Apache cuts idle WebSocket connections after ${tunnelIdleSeconds} s, before the gateway's ` +
        `${IDLE_TIMEOUT_SECONDS} s: fine for tests, not what a deployment wants (--proxy-timeout ${DEFAULT_PROXY_TIMEOUT_SECONDS})`,
    );
  }
  const publicAuthority =
    settings.httpsPort === 443 ? settings.serverName : `${settings.serverName}:${settings.httpsPort}`;
  const common: TemplateValues = {
    serverName: settings.serverName,
    publicAuthority,
    httpPort: String(settings.httpPort),
    httpsPort: String(settings.httpsPort),
    listen: settings.listenAddress !== undefined,
    listenAddress: settings.listenAddress ?? '',
    websocketPath: settings.websocketPath,
    certFile: settings.certFile,
    keyFile: settings.keyFile,
    logDir: settings.logDir,
    timeout: String(settings.timeout),
    proxyTimeout: String(settings.proxyTimeout),
    tunnelIdleSeconds: String(tunnelIdleSeconds),
    pingIntervalSeconds: String(settings.pingIntervalSeconds),
    gatewayIdleSeconds: String(IDLE_TIMEOUT_SECONDS),
    apacheOutlastsGateway: tunnelIdleSeconds >= IDLE_TIMEOUT_SECONDS,
    dashboardUrl: settings.dashboardUrl ?? '',
  };
  const specific: TemplateValues =
    settings.kind === 'aws'
      ? {
          upstreamUrl: settings.upstreamUrl,
          upstreamHost: new URL(settings.upstreamUrl).host,
          upstreamCaFile: settings.upstreamCaFile,
        }
      : { gatewayUrl: settings.gatewayUrl };
  const template = readFileSync(templateFile(templateDir, settings.kind), 'utf8');
  return { text: fillTemplate(template, { ...common, ...specific }), warnings };
}

// ---- checks -----------------------------------------------------------------------------------------

const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);

export function checkServerName(value: string, flag = '--server-name'): string {
  if (!HOST_NAME.test(value) || isIP(value) !== 0) {
    throw new RenderError(
      'bad_server_name',
      `${flag} must be a DNS name such as dash.example.com, got "${value}"`,
    );
  }
  return value.toLowerCase();
}

export function checkPort(value: string | number, flag: string): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new RenderError('bad_port', `${flag} must be a port number (1-65535), got "${value}"`);
  }
  return n;
}

export function checkPath(value: string, flag = '--websocket-path'): string {
  // No trailing slash: ProxyPass maps "/live" onto the stage path, and a slash on one side only
  // makes Apache build URLs like "/prod/" that the stage does not answer.
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(value)) {
    throw new RenderError(
      'bad_path',
      `${flag} must be a path such as /live (no trailing slash, no query, not "/" alone), got "${value}"`,
    );
  }
  return value;
}

/** An absolute path, or one starting with an Apache `${VARIABLE}`, without quotes or blanks. */
export function checkFile(value: string, flag: string): string {
  if (!/^(\/|\$\{[A-Z_]+\})[^\s"'\\<>]*$/.test(value)) {
    throw new RenderError(
      'bad_file',
      `${flag} must be an absolute path without spaces or quotes, got "${value}"`,
    );
  }
  return value.replace(/(.)\/+$/, '$1');
}

export function checkListenAddress(value: string): string {
  const bracketed = /^\[(.+)\]$/.exec(value)?.[1];
  if (value === '*' || isIP(value) === 4 || (bracketed !== undefined && isIP(bracketed) === 6)) return value;
  throw new RenderError(
    'bad_listen_address',
    `--listen must be an IPv4 address, [an IPv6 address] or *, got "${value}"`,
  );
}

export function checkSeconds(value: string, flag: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 86_400) {
    throw new RenderError('bad_timeout', `${flag} must be whole seconds (1-86400), got "${value}"`);
  }
  return n;
}

export function checkPingInterval(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(n > 0) || n >= IDLE_TIMEOUT_SECONDS) {
    throw new RenderError(
      'bad_ping_interval',
      `--ping-interval must be seconds below the ${IDLE_TIMEOUT_SECONDS} s idle limit, got "${value}"`,
    );
  }
  return n;
}

/** Apache must let a connection be silent for longer than the client waits between two pings. */
export function checkTimeouts(timeout: number, proxyTimeout: number, pingIntervalSeconds: number): void {
  const idle = Math.max(timeout, proxyTimeout);
  if (idle <= pingIntervalSeconds) {
    throw new RenderError(
      'timeout_below_ping',
      `Apache would close idle WebSocket connections after ${idle} s (the larger of --timeout and ` +
        `--proxy-timeout), but the client SDK pings only every ${pingIntervalSeconds} s: raise --proxy-timeout`,
    );
  }
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** `value` as a URL of that scheme whose path is one stage name, without query or fragment. */
function stageUrl(value: string, protocol: 'ws:' | 'wss:'): URL | undefined {
  const url = parseUrl(value);
  const isStageUrl =
    url?.protocol === protocol && !url.search && !url.hash && /^\/[A-Za-z0-9_-]+$/.test(url.pathname);
  return isStageUrl ? url : undefined;
}

/** `wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}` (or any wss:// host with a stage path). */
export function checkUpstreamUrl(value: string): string {
  const url = stageUrl(value, 'wss:');
  if (!url) {
    throw new RenderError(
      'bad_websocket_url',
      `websocket_url must be wss://<host>/<stage>, as the fanout module outputs it, got "${value}"`,
    );
  }
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) {
    // API Gateway needs its name in SNI and Host, and certificate names are checked: an address fails all three.
    throw new RenderError(
      'bad_websocket_url',
      `websocket_url must name its host, not an address: "${value}"`,
    );
  }
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export function checkGatewayUrl(value: string): string {
  const url = stageUrl(value, 'ws:');
  if (!url) {
    throw new RenderError(
      'bad_websocket_url',
      `websocketUrl must be ws://<host>:<port>/<stage>, as fanout dev writes it, got "${value}"`,
    );
  }
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export function checkDashboardUrl(value: string, flag: string): string {
  const url = parseUrl(value);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new RenderError('bad_dashboard_url', `${flag} must be an http:// or https:// URL, got "${value}"`);
  }
  // ProxyPass "/" needs the target to end with a slash too.
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

// ---- inputs -----------------------------------------------------------------------------------------

export function readJson(path: string, read: (path: string) => string): unknown {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    throw new RenderError('input_unreadable', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new RenderError(
      'input_not_json',
      `${path} is not JSON${text.trim() === '' ? ' (it is empty)' : ''}`,
    );
  }
}

/** `websocket_url` from `terraform output -json` (`{ name: { value, type, sensitive } }`). */
export function upstreamFromTerraform(outputs: unknown, where: string): string {
  const output =
    typeof outputs === 'object' && outputs !== null && !Array.isArray(outputs)
      ? (outputs as Record<string, unknown>).websocket_url
      : undefined;
  const value =
    typeof output === 'object' && output !== null ? (output as Record<string, unknown>).value : undefined;
  if (typeof value !== 'string') {
    throw new RenderError(
      'missing_output',
      `${where} has no "websocket_url" output: pass \`terraform output -json\` of the fanout stack (after make apply)`,
    );
  }
  return checkUpstreamUrl(value);
}

export interface LocalInput {
  gatewayUrl: string;
  dashboardUrl: string | undefined;
  publicUrl: URL | undefined;
}

export function localFromEndpoints(json: unknown, where: string): LocalInput {
  let endpoints: ReturnType<typeof parseEndpoints>;
  try {
    endpoints = parseEndpoints(json, where);
  } catch (err) {
    throw new RenderError('bad_endpoints', (err as Error).message);
  }
  const publicUrl =
    endpoints.publicWebsocketUrl === undefined ? undefined : parseUrl(endpoints.publicWebsocketUrl);
  if (endpoints.publicWebsocketUrl !== undefined && publicUrl?.protocol !== 'wss:') {
    throw new RenderError(
      'bad_websocket_url',
      `publicWebsocketUrl in ${where} must be a wss:// URL (fanout dev --public-url wss://…), got "${endpoints.publicWebsocketUrl}"`,
    );
  }
  return {
    gatewayUrl: checkGatewayUrl(endpoints.websocketUrl),
    dashboardUrl:
      endpoints.dashboardUrl === undefined
        ? undefined
        : checkDashboardUrl(endpoints.dashboardUrl, 'dashboardUrl'),
    publicUrl,
  };
}

// ---- command line -------------------------------------------------------------------------------------

export const USAGE = `Usage:
  render.ts aws   --terraform-output FILE|- --server-name NAME --cert FILE --key FILE [options]
  render.ts local [--endpoints .fanout/local.json] [--server-name NAME] --cert FILE --key FILE [options]

aws    the virtual host in front of the deployed stack; FILE is \`terraform output -json\` (- for stdin).
local  the virtual host in front of \`fanout dev\`; server name, HTTPS port and WebSocket path default
       to the --public-url that fanout dev recorded in .fanout/local.json.

Options:
  --out FILE               write the configuration there (default: standard output)
  --websocket-path PATH    public path of the WebSocket (default ${DEFAULT_WEBSOCKET_PATH})
  --https-port N           (default 443)      --http-port N   redirected to HTTPS (default 80)
  --listen ADDR            also emit Listen ADDR:port lines, for ports ports.conf does not list
  --timeout S              Timeout (default ${DEFAULT_TIMEOUT_SECONDS})   --proxy-timeout S   ProxyTimeout (default ${DEFAULT_PROXY_TIMEOUT_SECONDS})
  --ping-interval S        the client SDK's pingIntervalMs in seconds (default ${DEFAULT_PING_INTERVAL_MS / 1000})
  --log-dir DIR            (default ${DEFAULT_LOG_DIR})
  --upstream-ca FILE       aws: CA bundle for API Gateway's certificate (default ${DEFAULT_UPSTREAM_CA_FILE})
  --dashboard URL          aws: your dashboard application, proxied at /

Exit status: 0 rendered, 1 refused input (the message starts with its code), 2 usage.`;

export interface Io {
  out(text: string): void;
  err(line: string): void;
  readFile(path: string): string;
  writeFile(path: string, text: string): void;
  readStdin(): string;
}

const OPTIONS = {
  'terraform-output': { type: 'string' },
  endpoints: { type: 'string' },
  'server-name': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  out: { type: 'string' },
  'websocket-path': { type: 'string' },
  'https-port': { type: 'string' },
  'http-port': { type: 'string' },
  listen: { type: 'string' },
  timeout: { type: 'string' },
  'proxy-timeout': { type: 'string' },
  'ping-interval': { type: 'string' },
  'log-dir': { type: 'string' },
  'upstream-ca': { type: 'string' },
  dashboard: { type: 'string' },
  help: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function required(values: Values, flag: 'cert' | 'key' | 'server-name' | 'terraform-output'): string {
  const value = values[flag];
  if (value === undefined) throw new RenderError('usage', `--${flag} is required`);
  return value;
}

/** The settings a command line asks for; `read` and `stdin` provide the input file. */
export function settingsFromArgs(
  kind: Kind,
  values: Values,
  io: Pick<Io, 'readFile' | 'readStdin'>,
): Settings {
  const allowedOnlyFor: [keyof Values, Kind][] = [
    ['terraform-output', 'aws'],
    ['upstream-ca', 'aws'],
    ['dashboard', 'aws'],
    ['endpoints', 'local'],
  ];
  for (const [flag, only] of allowedOnlyFor) {
    if (values[flag] !== undefined && kind !== only) {
      throw new RenderError('usage', `--${flag} is for the ${only} configuration only`);
    }
  }
  const pingIntervalSeconds =
    values['ping-interval'] === undefined
      ? DEFAULT_PING_INTERVAL_MS / 1000
      : checkPingInterval(values['ping-interval']);
  const timeout =
    values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : checkSeconds(values.timeout, '--timeout');
  const proxyTimeout =
    values['proxy-timeout'] === undefined
      ? DEFAULT_PROXY_TIMEOUT_SECONDS
      : checkSeconds(values['proxy-timeout'], '--proxy-timeout');
  checkTimeouts(timeout, proxyTimeout, pingIntervalSeconds);
  const httpPort = values['http-port'] === undefined ? 80 : checkPort(values['http-port'], '--http-port');

  const commonExceptPublic = {
    listenAddress: values.listen === undefined ? undefined : checkListenAddress(values.listen),
    certFile: checkFile(required(values, 'cert'), '--cert'),
    keyFile: checkFile(required(values, 'key'), '--key'),
    logDir: values['log-dir'] === undefined ? DEFAULT_LOG_DIR : checkFile(values['log-dir'], '--log-dir'),
    timeout,
    proxyTimeout,
    pingIntervalSeconds,
    httpPort,
  };

  if (kind === 'aws') {
    const source = required(values, 'terraform-output');
    const json =
      source === '-' ? readJson('standard input', () => io.readStdin()) : readJson(source, io.readFile);
    const httpsPort =
      values['https-port'] === undefined ? 443 : checkPort(values['https-port'], '--https-port');
    return {
      kind,
      ...commonExceptPublic,
      ...distinctPorts(httpPort, httpsPort),
      serverName: checkServerName(required(values, 'server-name')),
      websocketPath: checkPath(values['websocket-path'] ?? DEFAULT_WEBSOCKET_PATH),
      upstreamUrl: upstreamFromTerraform(json, source === '-' ? 'standard input' : source),
      upstreamCaFile:
        values['upstream-ca'] === undefined
          ? DEFAULT_UPSTREAM_CA_FILE
          : checkFile(values['upstream-ca'], '--upstream-ca'),
      dashboardUrl:
        values.dashboard === undefined ? undefined : checkDashboardUrl(values.dashboard, '--dashboard'),
    };
  }

  const where = values.endpoints ?? '.fanout/local.json';
  const input = localFromEndpoints(readJson(where, io.readFile), where);
  const fromPublic = input.publicUrl;
  // The name is required only when fanout dev recorded no --public-url to take it from.
  const serverName = checkServerName(
    values['server-name'] ?? fromPublic?.hostname ?? required(values, 'server-name'),
  );
  const httpsPort =
    values['https-port'] !== undefined
      ? checkPort(values['https-port'], '--https-port')
      : fromPublic?.port
        ? checkPort(fromPublic.port, 'the port of publicWebsocketUrl')
        : 443;
  const websocketPath = checkPath(values['websocket-path'] ?? fromPublic?.pathname ?? DEFAULT_WEBSOCKET_PATH);
  if (fromPublic) {
    const rendered = `wss://${httpsPort === 443 ? serverName : `${serverName}:${httpsPort}`}${websocketPath}`;
    const recorded = `wss://${fromPublic.host}${fromPublic.pathname}`;
    if (rendered !== recorded) {
      throw new RenderError(
        'public_url_mismatch',
        `this configuration serves ${rendered}, but fanout dev tells the dashboard ${recorded} (--public-url): make them agree`,
      );
    }
  }
  return {
    kind,
    ...commonExceptPublic,
    ...distinctPorts(httpPort, httpsPort),
    serverName,
    websocketPath,
    gatewayUrl: input.gatewayUrl,
    dashboardUrl: input.dashboardUrl,
  };
}

function distinctPorts(httpPort: number, httpsPort: number): { httpPort: number; httpsPort: number } {
  if (httpPort === httpsPort) {
    throw new RenderError('bad_port', `--http-port and --https-port must differ, both are ${httpPort}`);
  }
  return { httpPort, httpsPort };
}

/** `render.ts <aws|local> [options]`; resolves with the exit status (see USAGE). */
export function main(argv: readonly string[], io: Io, templateDir: string): number {
  try {
    let parsed: { values: Values; positionals: string[] };
    try {
      parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
      throw new RenderError('usage', (err as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    const [kind, ...extra] = positionals;
    if ((kind !== 'aws' && kind !== 'local') || extra.length > 0) {
      throw new RenderError(
        'usage',
        `expected "aws" or "local", got ${JSON.stringify(positionals.join(' '))}`,
      );
    }
    const settings = settingsFromArgs(kind, values, io);
    const { text, warnings } = renderVhost(settings, templateDir);
    for (const warning of warnings) io.err(`render: warning: ${warning}`);
    if (values.out === undefined) io.out(text);
    else {
      io.writeFile(values.out, text);
      io.err(
        `render: wrote ${values.out} (${kind}: https://${settings.serverName}, ${settings.websocketPath})`,
      );
    }
    return 0;
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    io.err(`render: ${err.code}: ${err.message}`);
    if (err.code === 'usage') io.err('render: run with --help for usage');
    return err.code === 'usage' ? 2 : 1;
  }
}
