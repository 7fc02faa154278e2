import type { IncomingHttpHeaders } from 'node:http';
import type { WebSocketEvent, WebSocketRequestContext } from '../routes/events.js';
import { BACKEND_ROUTES, type BackendRouteKey, MAPPED_HEADERS, type MappedField } from './contract.js';
import { BackendError } from './errors.js';

/** API Gateway's connection ids are short base64-like text; anything else was not mapped by it. */
const CONNECTION_ID = /^[A-Za-z0-9+/=_-]{1,128}$/;
const MAX_TEXT = 1024;
/**
 * The grants are the token's, and the Lambda routes take them at any length: a token granting a
 * few dozen patterns, or a long `sub`, passes 1,024 characters. This bound is the whole headers'
 * default in node, far above what a token in a connect URL carries; server.ts sets `maxHeaderSize`
 * so that both grants headers at this length still fit.
 */
export const MAX_AUTHORIZER_TEXT = 16 * 1024;
const LONG_FIELDS: ReadonlySet<MappedField> = new Set(['userId', 'topics']);

/** One mapped header's value: node lower-cases names, and lists or joins a repeated header. */
function header(headers: IncomingHttpHeaders, field: MappedField): string | undefined {
  const { header: name } = MAPPED_HEADERS[field];
  const value = headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new BackendError('header_invalid', `the ${name} header is repeated`);
  }
  const limit = LONG_FIELDS.has(field) ? MAX_AUTHORIZER_TEXT : MAX_TEXT;
  if (value.length > limit) {
    throw new BackendError('header_invalid', `the ${name} header is over ${limit} characters`);
  }
  return value;
}

/** The user id as the authorizer gave it: the header carries it percent-encoded (contract.ts). */
function userIdOf(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new BackendError(
      'header_invalid',
      `the ${MAPPED_HEADERS.userId.header} header is not percent-encoded text`,
    );
  }
}

function required(headers: IncomingHttpHeaders, field: MappedField): string {
  const value = header(headers, field);
  if (value === undefined || value === '') {
    throw new BackendError(
      'header_missing',
      `the ${MAPPED_HEADERS[field].header} header is missing: map it from ${MAPPED_HEADERS[field].from} on the integration`,
    );
  }
  return value;
}

function wholeNumber(field: MappedField, value: string): number {
  const n = Number(value);
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(n)) {
    throw new BackendError(
      'header_invalid',
      `the ${MAPPED_HEADERS[field].header} header must be a whole number, got "${value.slice(0, 32)}"`,
    );
  }
  return n;
}

/**
 * The authorizer's context as the routes read it on a Lambda event (shared/routes/grants.ts), or
 * undefined when none came.
 */
function authorizer(headers: IncomingHttpHeaders): Record<string, string> | undefined {
  const context: Record<string, string> = {};
  const userId = header(headers, 'userId');
  if (userId !== undefined) context.userId = userIdOf(userId);
  const topics = header(headers, 'topics');
  if (topics !== undefined) context.topics = topics;
  return Object.keys(context).length > 0 ? context : undefined;
}

/**
 * The event the Lambda route would have got, rebuilt from the mapped headers of a call to `route`
 * and its body, so both edges run the same use cases on the same input. Throws `header_missing`,
 * `header_invalid` or `route_mismatch` (400): the integration is mis-mapped, or the call is forged.
 */
export function readRouteEvent(
  route: BackendRouteKey,
  headers: IncomingHttpHeaders,
  body: string,
): WebSocketEvent {
  const connectionId = required(headers, 'connectionId');
  if (!CONNECTION_ID.test(connectionId)) {
    throw new BackendError('header_invalid', 'the ConnectionId header is not a connection id');
  }
  const routeKey = required(headers, 'routeKey');
  // The path chose the use case; a route key that disagrees means a mis-wired integration URI.
  if (routeKey !== route) {
    throw new BackendError(
      'route_mismatch',
      `the RouteKey header says "${routeKey.slice(0, 64)}" but the call came to ${BACKEND_ROUTES[route].path}`,
    );
  }
  const { eventType } = BACKEND_ROUTES[route];
  const givenType = required(headers, 'eventType');
  if (givenType !== eventType) {
    throw new BackendError(
      'route_mismatch',
      `the EventType header says "${givenType.slice(0, 32)}" but ${route} is a ${eventType} route`,
    );
  }
  const connectedAt = wholeNumber('connectedAt', required(headers, 'connectedAt'));
  const requestId = header(headers, 'requestId');
  const sourceIp = header(headers, 'sourceIp');
  const context: WebSocketRequestContext = {
    routeKey,
    eventType,
    connectionId,
    connectedAt,
    ...(requestId ? { requestId } : {}),
    ...(sourceIp ? { identity: { sourceIp } } : {}),
    authorizer: authorizer(headers) ?? null,
  };
  if (eventType === 'DISCONNECT') {
    const status = header(headers, 'disconnectStatusCode');
    if (status) context.disconnectStatusCode = wholeNumber('disconnectStatusCode', status);
    const reason = header(headers, 'disconnectReason');
    if (reason !== undefined) context.disconnectReason = reason;
  }
  return { requestContext: context, ...(eventType === 'MESSAGE' ? { body, isBase64Encoded: false } : {}) };
}
