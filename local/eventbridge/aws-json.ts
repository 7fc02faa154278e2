/**
 * The AWS JSON 1.1 wire protocol as the local EventBridge speaks it (AWS page "PutEvents", EventBridge API Reference; botocore
 * metadata `"protocol":"json"`, `"jsonVersion":"1.1"`, `"targetPrefix":"AWSEvents"`): every call is
 * `POST /` with `X-Amz-Target: AWSEvents.<Operation>`; errors carry their type both in the
 * `x-amzn-ErrorType` header and as `__type` in the body, which is how SDK v3 picks the error class.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../http/body.js';

export const CONTENT_TYPE = 'application/x-amz-json-1.1';
export const TARGET_PREFIX = 'AWSEvents.';

/** A whole-request failure: an HTTP error status with an AWS error type. */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(text);
}

export function sendAwsError(res: ServerResponse, error: AwsJsonError): void {
  const text = JSON.stringify({ __type: error.type, message: error.message });
  res.writeHead(error.status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-ErrorType': error.type,
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(text);
}

/**
 * Reads and parses a JSON request body. The cap only protects the process: it is far above the
 * PutEvents entry-size limit, which is checked (with AWS's own error) after parsing.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const { data, size } = await readBody(req, maxBytes);
  if (size > maxBytes) {
    throw new AwsJsonError('RequestEntityTooLargeException', `Request body exceeds ${maxBytes} bytes`, 413);
  }
  const text = data.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AwsJsonError('SerializationException', 'Request body is not valid JSON');
  }
}
