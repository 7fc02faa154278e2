import {
  DETAIL_ATTRIBUTE,
  EVENTS_ERROR_CODE,
  EVENTS_ERROR_MESSAGE,
  type Letter,
  REASON_ATTRIBUTE,
} from './dlq-letters.js';
import type { DlqName } from './dlq-target.js';

/**
 * What a letter's body is, read leniently: a dead letter may be anything (a malformed one is there
 * because it did not parse), so nothing here throws. The shapes are the platform's: an EventBridge
 * event as the rule delivers it, or the fan-out function's page and retry work messages
 * (docs/architecture.md).
 */
export interface BodySummary {
  kind: 'event' | 'page' | 'retry' | 'unknown' | 'unparsable';
  eventId?: string;
  detailType?: string;
  topics: string[];
  users: string[];
  /** Retry messages: the connections they are for, and the attempt. */
  connections?: number;
  attempt?: number;
  /** `unknown`: the top-level keys of the JSON object; `unparsable`: the body's start. */
  keys?: string[];
  preview?: string;
}

/** Why a letter is on the DLQ: the fan-out reason, or EventBridge's error code. */
export interface LetterReason {
  /** `null` when the letter carries none (fan-out DLQ: moved there by the queue's redrive policy). */
  reason: string | null;
  detail?: string;
}

export function letterReason(dlq: DlqName, letter: Letter): LetterReason {
  const [reasonName, detailName] =
    dlq === 'events' ? [EVENTS_ERROR_CODE, EVENTS_ERROR_MESSAGE] : [REASON_ATTRIBUTE, DETAIL_ATTRIBUTE];
  const detail = letter.attributes[detailName];
  return { reason: letter.attributes[reasonName] ?? null, ...(detail ? { detail } : {}) };
}

/** The reason as shown to a person. */
export function reasonText(dlq: DlqName, reason: string | null): string {
  if (reason !== null) return reason;
  // A fan-out letter without a reason was not written by the function: the queue's redrive policy
  // moved it after too many receives (the function failed or timed out on it each time).
  return dlq === 'fanout' ? 'redriven by the queue' : 'no error code';
}

/** Does a letter match `--reason R`? `none` stands for the letters that carry no reason. */
export function reasonMatches(wanted: string, reason: string | null): boolean {
  return wanted === 'none' ? reason === null : reason === wanted;
}

const PREVIEW_CHARS = 40;
const LISTED = 3;

export function summarize(body: string): BodySummary {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'unparsable', topics: [], users: [], preview: body.slice(0, PREVIEW_CHARS) };
  }
  const object = asRecord(json);
  if (!object) return { kind: 'unknown', topics: [], users: [], keys: [] };
  if ('detail-type' in object) {
    const detail = asRecord(object.detail);
    return {
      kind: 'event',
      ...optional('eventId', asString(object.id)),
      ...optional('detailType', asString(object['detail-type'])),
      topics: asStrings(detail?.topics),
      users: asStrings(detail?.users),
    };
  }
  if (object.kind === 'fanout.page' || object.kind === 'fanout.retry') {
    const event = asRecord(object.event);
    const common = {
      ...optional('eventId', asString(event?.id)),
      ...optional('detailType', asString(event?.detailType)),
      topics: asStrings(event?.topics),
      users: asStrings(event?.users),
    };
    if (object.kind === 'fanout.page') return { kind: 'page', ...common };
    const targets = Array.isArray(object.targets) ? object.targets : [];
    const connections = targets.reduce<number>((sum, target) => {
      const ids = asRecord(target)?.connectionIds;
      return sum + (Array.isArray(ids) ? ids.length : 0);
    }, 0);
    const attempt = typeof object.attempt === 'number' ? object.attempt : undefined;
    return { kind: 'retry', ...common, connections, ...optional('attempt', attempt) };
  }
  return { kind: 'unknown', topics: [], users: [], keys: Object.keys(object) };
}

/** One line: kind, event id, audience. */
export function summaryLine(summary: BodySummary): string {
  const id = summary.eventId ?? '(no id)';
  const audience = [
    summary.topics.length > 0 ? `topics ${listed(summary.topics)}` : '',
    summary.users.length > 0 ? `users ${listed(summary.users)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const tail = audience ? ` ${audience}` : '';
  switch (summary.kind) {
    case 'event':
      return `event ${id}${tail}`;
    case 'page':
      return `page of event ${id}${tail}`;
    case 'retry':
      return `retry of event ${id} for ${summary.connections ?? 0} connection(s)${tail}`;
    case 'unknown':
      return summary.keys && summary.keys.length > 0
        ? `unrecognised JSON (keys ${listed(summary.keys)})`
        : 'unrecognised JSON (not an object)';
    case 'unparsable':
      return `not JSON: ${JSON.stringify(summary.preview ?? '')}`;
  }
}

function listed(values: readonly string[]): string {
  const shown = values.slice(0, LISTED).join(',');
  return values.length > LISTED ? `${shown} +${values.length - LISTED} more` : shown;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
