/**
 * Faults injected into the local DynamoDB endpoint, as the gateway's `faults` do for `@connections`:
 * a test makes the table unavailable for a few seconds and sees what the functions do about it.
 *
 * An injected fault is answered the way DynamoDB answers its own: the HTTP status, and a JSON body
 * whose `__type` ends with the error's name, which is what makes the AWS SDK raise e.g. a
 * `ServiceUnavailable` error and count it as retryable (AWS page "Error handling with DynamoDB": 500
 * InternalServerError and 503 ServiceUnavailable are "OK to retry").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** One DynamoDB call, as the fault hook sees it. */
export interface DynamoDbCall {
  /** The operation named by `X-Amz-Target` (`Query`, `PutItem`, `BatchWriteItem`, …); '' when absent. */
  operation: string;
}

/** An error DynamoDB should answer with instead of doing the call. */
export interface DynamoDbFault {
  status: number;
  /** The error's name: `ServiceUnavailable`, `InternalServerError`, `ThrottlingException`, … */
  errorType: string;
  message?: string;
}

export interface DynamoDbFaults {
  /** Asked before every call; a fault answers the call and the table is not touched. */
  beforeCall?: (call: DynamoDbCall) => Promise<DynamoDbFault | undefined> | DynamoDbFault | undefined;
  /** Added before every answer. */
  latencyMs?: number;
}

/** A fault that makes the table unavailable: what the DynamoDB outage of the reliability suite uses. */
export const SERVICE_UNAVAILABLE: Readonly<DynamoDbFault> = {
  status: 503,
  errorType: 'ServiceUnavailable',
  message: 'The service is currently unavailable or busy.',
};

/** `DynamoDB_20120810.Query` → `Query`. */
export function operationOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  const text = Array.isArray(target) ? target[0] : target;
  if (!text) return '';
  const dot = text.lastIndexOf('.');
  return dot < 0 ? text : text.slice(dot + 1);
}

/**
 * Wraps dynalite's request handler: each call first goes through `faults()` (read per call, so a test
 * can switch faults on and off while the platform runs).
 */
export function withFaults(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  faults: () => DynamoDbFaults | undefined,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const current = faults();
    if (!current?.beforeCall && !current?.latencyMs) {
      handler(req, res);
      return;
    }
    void (async () => {
      if (current.latencyMs) await sleep(current.latencyMs);
      const fault = await current.beforeCall?.({ operation: operationOf(req) });
      if (!fault) {
        handler(req, res);
        return;
      }
      req.resume();
      sendDynamoDbError(res, fault);
    })().catch((err: unknown) => {
      // A hook that throws is a broken test, answered as DynamoDB's own internal error.
      if (!res.headersSent)
        sendDynamoDbError(res, { status: 500, errorType: 'InternalServerError', message: String(err) });
      else res.destroy();
    });
  };
}

export function sendDynamoDbError(res: ServerResponse, fault: DynamoDbFault): void {
  const body = JSON.stringify({
    __type: `com.amazonaws.dynamodb.v20120810#${fault.errorType}`,
    message: fault.message ?? fault.errorType,
  });
  res.writeHead(fault.status, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': `local-fault-${Date.now().toString(36)}`,
  });
  res.end(body);
}
