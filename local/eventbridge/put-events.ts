/**
 * PutEvents request validation and the event envelope EventBridge delivers (AWS pages "PutEventsRequestEntry" and "Event structure reference").
 *
 * Sourced: entries answered in order with `EventId` or `ErrorCode` + `ErrorMessage`; an entry without
 * Source, DetailType or Detail fails alone, and the whole request fails when no entry has all three
 * (E2); at most 10 entries; Detail must be a JSON object; the entry size counts Time as 14 bytes plus
 * the UTF-8 bytes of Source, DetailType, Detail and each resource (eb-putevent-size.md), and AWS
 * refuses the request, not the entry, once that total reaches 256 KB ("ValidationException: Total
 * size of the entries in the request is over the limit.", quoted in awslabs/aws-service-catalog-puppet
 * #563). Error codes and messages per entry are those AWS-validated emulators return (localstack's
 * events provider, moto): `InvalidArgument` "Parameter X is not valid. Reason: X is a required
 * argument." and `MalformedDetail` "Detail is malformed.".
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AwsJsonError } from './aws-json.js';
import { isPlainObject } from './pattern-leaf.js';

export const MAX_ENTRIES = 10;
export const DEFAULT_MAX_ENTRIES_BYTES = 256 * 1024;

/** awsJson1_1 sends timestamps as epoch seconds; ISO text is accepted too (CLI-style input). */
const Timestamp = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const date = typeof value === 'number' ? new Date(value * 1000) : parseTimeText(value);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `"${String(value)}" is not a timestamp` });
    return z.NEVER;
  }
  return date;
});

const RequestEntry = z.object({
  Source: z.string().optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  EventBusName: z.string().optional(),
  Resources: z.array(z.string()).optional(),
  Time: Timestamp.optional(),
  TraceHeader: z.string().optional(),
});
export type RequestEntry = z.infer<typeof RequestEntry>;

const Request = z.object({ Entries: z.array(RequestEntry) });

export type ResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** The envelope delivered to targets; key order is the wire order (AWS page "Event structure reference"). */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** Request-level checks; throws the AWS error that fails the whole call. */
export function parsePutEventsRequest(body: unknown, maxEntriesBytes: number): RequestEntry[] {
  const entries = typeof body === 'object' && body !== null && 'Entries' in body ? body.Entries : undefined;
  if (entries === undefined || entries === null) {
    throw validation("Value null at 'entries' failed to satisfy constraint: Member must not be null");
  }
  if (Array.isArray(entries) && entries.length === 0) {
    throw validation(
      "Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  }
  if (Array.isArray(entries) && entries.length > MAX_ENTRIES) {
    throw validation(
      `Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
    );
  }
  const parsed = Request.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : 'Entries';
    throw new AwsJsonError(
      'SerializationException',
      `Invalid value at ${where}: ${issue?.message ?? 'bad shape'}`,
    );
  }
  const total = parsed.data.Entries.reduce((sum, entry) => sum + entrySize(entry), 0);
  if (total >= maxEntriesBytes) {
    throw new AwsJsonError(
      'ValidationException',
      'Total size of the entries in the request is over the limit.',
    );
  }
  if (!parsed.data.Entries.some((entry) => missingField(entry) === undefined)) {
    throw validation('No entry has all of Source, DetailType and Detail, which EventBridge requires');
  }
  return parsed.data.Entries;
}

function validation(message: string): AwsJsonError {
  return new AwsJsonError('ValidationException', `1 validation error detected: ${message}`);
}

/** The PutEventsRequestEntry size as AWS computes it (eb-putevent-size.md). */
export function entrySize(entry: RequestEntry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, resource) => sum + bytes(resource), 0)
  );
}

function missingField(entry: RequestEntry): 'Source' | 'DetailType' | 'Detail' | undefined {
  if (!entry.Source) return 'Source';
  if (!entry.DetailType) return 'DetailType';
  if (!entry.Detail) return 'Detail';
  return undefined;
}

export interface EnvelopeContext {
  readonly account: string;
  readonly region: string;
  readonly now: () => Date;
}

/** Validates one entry and builds its envelope, or says why the entry fails. */
export function buildEnvelope(
  entry: RequestEntry,
  context: EnvelopeContext,
): { envelope: EventEnvelope } | { error: { ErrorCode: string; ErrorMessage: string } } {
  const missing = missingField(entry);
  if (missing) {
    return {
      error: {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${missing} is not valid. Reason: ${missing} is a required argument.`,
      },
    };
  }
  const detail = parseDetail(entry.Detail ?? '');
  if (!detail) return { error: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' } };
  return {
    envelope: {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType ?? '',
      source: entry.Source ?? '',
      account: context.account,
      time: formatEventTime(entry.Time ?? context.now()),
      region: context.region,
      resources: entry.Resources ?? [],
      detail,
    },
  };
}

function parseDetail(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (isPlainObject(value)) return value;
  } catch {
    // Not JSON at all: malformed, like valid JSON that is not an object.
  }
  return undefined;
}

/** `YYYY-MM-DDThh:mm:ssZ`: second precision, as in every delivered event seen ("Event structure reference"). */
export function formatEventTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function parseTimeText(text: string): Date {
  return /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
}
