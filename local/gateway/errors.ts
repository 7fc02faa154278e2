/** Error responses, on the HTTP side (`@connections`, rejected handshakes) and on the socket. */
import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { newHttpRequestId } from './ids.js';

/** Model texts from the `@connections` service model (botocore `apigatewaymanagementapi/2018-11-29/service-2.json`). */
export const MANAGEMENT_ERRORS = {
  gone: {
    status: 410,
    errorType: 'GoneException',
    message: 'The connection with the provided id no longer exists.',
  },
  // API Gateway answers a connection id that cannot be one with 400, and 410 only for a well-formed id
  // it does not know.
  badRequest: {
    status: 400,
    errorType: 'BadRequestException',
    message: 'Invalid connectionId',
  },
  tooLarge: {
    status: 413,
    errorType: 'PayloadTooLargeException',
    message: 'The data has exceeded the maximum size allowed.',
  },
} as const;

/**
 * An AWS-shaped error: the SDK (v3) picks the error class from `x-amzn-ErrorType` first
 * (the SDK reads `x-amzn-ErrorType` first), so the header alone makes `GoneException` etc.; the JSON body supplies
 * `message` and keeps the JSON error parser happy (a non-JSON body would throw a SyntaxError).
 */
export function sendManagementError(
  res: ServerResponse,
  error: { status: number; errorType: string; message?: string },
  extraHeaders: Record<string, string> = {},
): void {
  const body = JSON.stringify({ message: error.message ?? error.errorType });
  res.writeHead(error.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-ErrorType': error.errorType,
    'x-amzn-RequestId': newHttpRequestId(),
    ...extraHeaders,
  });
  res.end(body);
}

/** Plain JSON errors for requests that are not `@connections` calls at all (bad path, method). */
export function sendPlainError(
  res: ServerResponse,
  status: number,
  extraHeaders: Record<string, string> = {},
): void {
  const body = JSON.stringify({ message: STATUS_CODES[status] ?? 'Error' });
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': newHttpRequestId(),
    ...extraHeaders,
  });
  res.end(body);
}

/**
 * Refuses a WebSocket upgrade before any 101 is written: the client sees the HTTP status
 * (`Unexpected server response: 401` in wscat, as in the AWS authorizer docs). The body text of these
 * responses on AWS is not documented; a JSON `message` is the REST convention.
 */
export function rejectUpgrade(socket: Duplex, status: number, message?: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message: message ?? STATUS_CODES[status] ?? 'Error' });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amzn-RequestId: ${newHttpRequestId()}\r\n` +
      `\r\n${body}`,
  );
  socket.destroy();
}

/**
 * The frame API Gateway itself sends when a route cannot be served. Byte-for-byte the shape of real
 * responses: `{"message": "Internal server error", "connectionId":"VNRUSeldSwMCIRQ=", "requestId":"…"}`
 * (aws-samples/simple-websockets-chat-app#42, nearst/laconia#41; the same shape with "Forbidden" when no
 * route matches and there is no `$default`, aws-samples/simple-websockets-chat-app#24; "Endpoint request
 * timed out" after the 29 s integration timeout, re:Post "api-gateway-websocket-api-30s-timeout").
 * Note the irregular spacing: only the first colon is followed by a space, as in the captures.
 */
export function gatewayErrorFrame(message: string, connectionId: string, requestId: string): string {
  return `{"message": ${JSON.stringify(message)}, "connectionId":${JSON.stringify(connectionId)}, "requestId":${JSON.stringify(requestId)}}`;
}
