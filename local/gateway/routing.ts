/** Route selection (`$request.body.action`) and reading Lambda-proxy results. */

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The route key for a message. "Only JSON messages can be routed to specific integrations based on
 * message content. Non-JSON messages are passed through to the backend by the $default route" (AWS
 * docs, "Invoke your backend integration with the $default Route and custom routes"). So: not JSON,
 * not an object, no string `action`, no route with that key, or a reserved `$` key → `$default`.
 */
export function selectRoute(body: string, routes: ReadonlySet<string>): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return '$default';
  }
  const action = isRecord(parsed) ? parsed.action : undefined;
  if (typeof action !== 'string' || action.startsWith('$') || !routes.has(action)) return '$default';
  return action;
}

/**
 * `statusCode` of a proxy result. A result without one (e.g. a handler that returns nothing) is taken
 * as success: an assumption, AWS's handling of such `$connect` results is not documented.
 */
export function resultStatus(result: unknown): number {
  if (!isRecord(result)) return 200;
  const status = Number(result.statusCode);
  return Number.isInteger(status) ? status : 200;
}

/** The `body` of a proxy result when it is a string: the only thing a two-way route sends back. */
export function resultBody(result: unknown): string | undefined {
  return isRecord(result) && typeof result.body === 'string' ? result.body : undefined;
}

/**
 * The subprotocol `$connect` chose: when the client offers `Sec-WebSocket-Protocol`, the `$connect`
 * integration must return one in its `headers`, or the browser fails the handshake (AWS docs,
 * "Set up a WebSocket subprotocol": `websocket-connect-route-subprotocol`).
 */
export function resultSubprotocol(result: unknown): string | undefined {
  if (!isRecord(result) || !isRecord(result.headers)) return undefined;
  for (const [key, value] of Object.entries(result.headers)) {
    if (key.toLowerCase() === 'sec-websocket-protocol' && typeof value === 'string') return value;
  }
  return undefined;
}
