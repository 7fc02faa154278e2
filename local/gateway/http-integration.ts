/**
 * A route integration of type HTTP_PROXY, made the way API Gateway makes it: a POST to the route's
 * integration URI with the message as the body, the client's handshake headers on `$connect`, the
 * headers API Gateway adds itself, and the integration's request parameters (`integration.request.
 * header.<Name>` from a context variable or a static value, "Set up data mapping for WebSocket APIs in
 * API Gateway"), which are the only way the backend learns the connection id on later routes.
 *
 * The gateway hands it the Lambda-proxy event it built (events.ts), so the context variables are read
 * from that event's requestContext, the one place the gateway keeps them.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Integration } from './types.js';

export interface HttpIntegrationOptions {
  /** The integration URI: `<backend URL><route path>`. */
  uri: string;
  /** `integration.request.header.<Name>` → `context.<variable>` or `'<static value>'`. */
  requestParameters: Readonly<Record<string, string>>;
  apiId: string;
}

const HEADER_PARAMETER = /^integration\.request\.header\.([A-Za-z0-9._$-]+)$/;

/** Headers of the handshake that describe the client's own hop: API Gateway does not pass them on. */
const NOT_FORWARDED = new Set(['connection', 'upgrade', 'host', 'content-length', 'transfer-encoding']);

/**
 * A header value as node may send it: visible ASCII and tabs only. A close reason is the client's
 * text (UTF-8); what API Gateway does with such a mapped value is not documented, so it is kept
 * readable rather than refused.
 */
const headerSafe = (value: string): string => value.replace(/[^\t\x20-\x7e]/g, '?');

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `context.a.b` of the event's requestContext, as text; undefined when the variable has no value. */
export function contextValue(requestContext: unknown, expression: string): string | undefined {
  let value: unknown = requestContext;
  for (const key of expression.slice('context.'.length).split('.')) {
    value = isRecord(value) ? value[key] : undefined;
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}

/**
 * The headers of a mapping, evaluated for one event. Throws for what API Gateway refuses when the
 * integration is created: a parameter that is not a header, an expression of an unsupported kind.
 */
export function mappedHeaders(
  requestParameters: Readonly<Record<string, string>>,
  requestContext: unknown,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [parameter, expression] of Object.entries(requestParameters)) {
    const name = HEADER_PARAMETER.exec(parameter)?.[1];
    if (!name)
      throw new Error(`unsupported request parameter "${parameter}" (only integration.request.header.*)`);
    let value: string | undefined;
    if (/^'[^']*'$/.test(expression)) value = expression.slice(1, -1);
    else if (expression.startsWith('context.')) value = contextValue(requestContext, expression);
    else throw new Error(`unsupported mapping expression "${expression}" for ${name}`);
    if (value !== undefined) headers[name] = headerSafe(value);
  }
  return headers;
}

/** The response of the backend, as the gateway reads a Lambda-proxy result: status and body. */
export function httpIntegration(options: HttpIntegrationOptions): Integration {
  const uri = new URL(options.uri);
  const send = uri.protocol === 'https:' ? httpsRequest : httpRequest;
  return (event) => {
    const proxyEvent = event as {
      requestContext?: { eventType?: string; identity?: { sourceIp?: string } };
      headers?: Record<string, string>;
      body?: string;
    };
    const context = proxyEvent.requestContext ?? {};
    const headers: Record<string, string> = {};
    if (context.eventType === 'CONNECT') {
      for (const [name, value] of Object.entries(proxyEvent.headers ?? {})) {
        if (!NOT_FORWARDED.has(name.toLowerCase())) headers[name.toLowerCase()] = headerSafe(value);
      }
    }
    headers['user-agent'] = `AmazonAPIGateway_${options.apiId}`;
    headers['x-amzn-apigateway-api-id'] = options.apiId;
    const sourceIp = context.identity?.sourceIp;
    if (sourceIp && !headers['x-forwarded-for']) headers['x-forwarded-for'] = sourceIp;
    const body = context.eventType === 'MESSAGE' ? (proxyEvent.body ?? '') : '';
    if (context.eventType === 'MESSAGE') headers['content-type'] = 'application/json; charset=UTF-8';
    // The mapping comes last: a client cannot set a mapped header (ConnectionId, the proof) itself
    // by sending it on the handshake, since the integration's value replaces it.
    for (const [name, value] of Object.entries(mappedHeaders(options.requestParameters, context))) {
      headers[name.toLowerCase()] = value;
    }
    headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = send(uri, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ statusCode: res.statusCode ?? 500, ...(text ? { body: text } : {}) });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}
