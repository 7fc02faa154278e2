import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { PublishError, type Publisher, signToken } from '@fanout/publisher';
import { InspectError } from '../../sdk/cli/src/inspect.js';
import { readBody } from '../http/body.js';
import type { LocalInspector } from './inspector.js';

/**
 * Who the dashboard connects as unless told otherwise: the user and grants of the token that
 * `fanout dev`'s banner prints (local/dev/command.ts), so the page and the wscat line agree.
 */
export const DEMO_USER = 'demo';
export const DEMO_GRANTS: readonly string[] = ['demo/*', 'users/{sub}/*'];

/**
 * Serves the local dashboard page, and does for it what a browser cannot: mint a token with the
 * local secret and publish with the local EventBridge endpoint. Local only, loopback only.
 */
export interface DashboardServerOptions {
  host?: string;
  port?: number;
  /** local/dashboard: the page. */
  dashboardDir: string;
  /** The page's script, built by `make build` (dist/dashboard/dashboard.js). */
  scriptPath: string;
  websocketUrl: string;
  jwtSecret: string;
  publisher: Publisher;
  /** The inspector page's data (its JSON routes answer 404 without one). */
  inspector?: LocalInspector;
}

export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 512 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const page = (file: string) => readFileSync(join(options.dashboardDir, file));
  const html = page('index.html');
  const inspectorHtml = page('inspector.html');
  // The bundles sit beside the dashboard's script (scripts/build.mjs writes them together).
  const built = (file: string) => {
    const path = join(dirname(options.scriptPath), file);
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`make build\` first`);
    return readFileSync(path);
  };
  const assets: Record<string, { type: string; body: Buffer }> = {
    '/': { type: 'text/html; charset=utf-8', body: html },
    '/index.html': { type: 'text/html; charset=utf-8', body: html },
    '/inspector': { type: 'text/html; charset=utf-8', body: inspectorHtml },
    '/dashboard.js': { type: 'text/javascript', body: built(basename(options.scriptPath)) },
    '/dashboard.css': { type: 'text/css', body: built('dashboard.css') },
    '/inspector.js': { type: 'text/javascript', body: built('inspector.js') },
  };
  const inspector = (): LocalInspector => {
    if (!options.inspector)
      throw new HttpError(404, 'no_inspector', 'this dashboard server has no inspector');
    return options.inspector;
  };

  const routes: Record<string, (req: IncomingMessage) => Promise<unknown>> = {
    'GET /config': async () => ({
      websocketUrl: options.websocketUrl,
      user: DEMO_USER,
      grants: DEMO_GRANTS,
    }),
    'GET /api/inspect': async () => inspector().snapshot(),
    'GET /api/fanout-logs': async (req) => {
      const limit = Number(new URL(req.url ?? '/', 'http://localhost').searchParams.get('limit') ?? 1000);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new HttpError(400, 'bad_request', '"limit" must be a whole number, at least 1');
      }
      return { lines: inspector().logLines(limit) };
    },
    'POST /api/dlq/redrive': async (req) => {
      const body = await readJson(req);
      const ids = body.ids;
      if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && id)) {
        throw new HttpError(400, 'bad_request', '"ids" must be a non-empty array of letter ids');
      }
      try {
        return { moved: await inspector().redrive(ids) };
      } catch (err) {
        if (err instanceof InspectError) {
          throw new HttpError(err.code === 'letter_not_found' ? 404 : 502, err.code, err.message);
        }
        throw err;
      }
    },
    'POST /token': async (req) => {
      const body = await readJson(req);
      const sub = body.sub;
      const topics = body.topics ?? [];
      if (sub !== undefined && (typeof sub !== 'string' || sub.length === 0)) {
        throw new HttpError(400, 'bad_request', '"sub" must be a non-empty string');
      }
      if (!Array.isArray(topics) || !topics.every((t) => typeof t === 'string')) {
        throw new HttpError(400, 'bad_request', '"topics" must be an array of strings');
      }
      return { token: await signToken({ secret: options.jwtSecret, ...(sub ? { sub } : {}), topics }) };
    },
    'POST /publish': async (req) => {
      const body = await readJson(req);
      const strings = (value: unknown) =>
        Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
      try {
        const eventId = await options.publisher.publish({
          topics: strings(body.topics),
          users: strings(body.users),
          data: body.data ?? null,
          detailType: typeof body.detailType === 'string' ? body.detailType : 'DashboardMessage',
        });
        return { eventId };
      } catch (err) {
        if (err instanceof PublishError) throw new HttpError(400, err.code, err.message);
        throw err;
      }
    },
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const asset = req.method === 'GET' ? assets[path] : undefined;
    if (asset) return send(res, 200, asset.type, asset.body);
    const route = routes[`${req.method} ${path}`];
    if (!route) return sendJson(res, 404, { code: 'not_found', message: `no ${req.method} ${path}` });
    route(req).then(
      (result) => sendJson(res, 200, result),
      (err: unknown) => {
        if (err instanceof HttpError)
          return sendJson(res, err.status, { code: err.code, message: err.message });
        sendJson(res, 500, { code: 'internal', message: err instanceof Error ? err.message : String(err) });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: Uint8Array | string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const { data, size } = await readBody(req, MAX_BODY_BYTES);
  if (size > MAX_BODY_BYTES)
    throw new HttpError(413, 'too_large', `request body over ${MAX_BODY_BYTES} bytes`);
  try {
    const value: unknown = JSON.parse(data.toString('utf8') || '{}');
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new HttpError(400, 'bad_request', 'the request body must be a JSON object');
}
