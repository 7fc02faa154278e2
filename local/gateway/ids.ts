import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Connection, request and message ids as API Gateway shows them: 16 characters, URL-safe base64 of
 * 11 random bytes plus one `=` of padding (`VotXXcBEPHcCEvQ=`, `JC1dgf9yoAMCK-g=` in real captures: the
 * `-` shows the alphabet is base64url). The format is observed, not documented, so nothing may parse it.
 */
export function newAwsId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

/**
 * Whether an id has the shape newAwsId gives (and API Gateway's ids have): the emulator's only use of
 * that shape is to answer a malformed `@connections` id with 400, as API Gateway does, rather than 410.
 */
export function isWellFormedConnectionId(id: string): boolean {
  return /^[A-Za-z0-9_-]{15}=$/.test(id);
}

/** `x-amzn-RequestId` on `@connections` responses: a UUID, as AWS's HTTP APIs send. */
export function newHttpRequestId(): string {
  return randomUUID();
}

/** `X-Amzn-Trace-Id` as API Gateway adds it to the `$connect` headers: `Root=1-<epoch s hex>-<24 hex>`. */
export function newTraceId(nowMs: number): string {
  return `Root=1-${Math.floor(nowMs / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** `requestContext.requestTime`: Common Log Format in UTC, e.g. `20/Jan/2024:11:55:08 +0000`. */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const month = MONTHS[d.getUTCMonth()] ?? 'Jan';
  return (
    `${pad(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  );
}
