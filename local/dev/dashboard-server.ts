import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PublishError, type Publisher, signToken } from '@fanout/publisher';
import { readBody } from '../http/body.js';

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
  const html = readFileSync(join(options.dashboardDir, 'index.html'));
  if (!existsSync(options.scriptPath))
    throw new Error(`${options.scriptPath} is missing: run \`make build\` first`);
  const script = readFileSync(options.scriptPath);

  const routes: Record<string, (req: IncomingMessage) => Promise<unknown>> = {
    'GET /config': async () => ({ websocketUrl: options.websocketUrl }),
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
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      return send(res, 200, 'text/html; charset=utf-8', html);
    }
    if (req.method === 'GET' && path === '/dashboard.js') return send(res, 200, 'text/javascript', script);
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
