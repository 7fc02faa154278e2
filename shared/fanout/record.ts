import { check } from '@fanout/protocol';
import { type AudienceSource, audienceSources } from '../domain/audience.js';
import {
  EventBridgeEnvelope,
  type FanoutEvent,
  type PageMessage,
  type RetryMessage,
  toFanoutEvent,
  WorkMessage,
} from '../domain/envelope.js';

/**
 * What one record of the fan-out queue holds: an event fresh from EventBridge, a page or a retry
 * message handed over by another invocation, or something the engine cannot use (dead-lettered,
 * never retried: a malformed body fails the same way every time).
 */
export type ParsedRecord =
  | { kind: 'envelope'; event: FanoutEvent; sources: AudienceSource[] }
  | { kind: 'page'; event: FanoutEvent; sources: AudienceSource[]; message: PageMessage }
  | { kind: 'retry'; event: FanoutEvent; sources: AudienceSource[]; message: RetryMessage }
  | { kind: 'malformed'; detail: string; eventId?: string };

export function parseRecord(body: string): ParsedRecord {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // Not the parser's message: V8 quotes the text around the fault, which may be the event's data,
    // and the reason is logged and sent as a dead-letter attribute. The body itself is dead-lettered.
    return { kind: 'malformed', detail: 'body is not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { kind: 'malformed', detail: 'body is not a JSON object' };
  }
  const eventId = guessEventId(json);
  const malformed = (detail: string): ParsedRecord => ({
    kind: 'malformed',
    detail,
    ...(eventId ? { eventId } : {}),
  });

  if ('detail-type' in json) {
    const parsed = check(EventBridgeEnvelope, json);
    if (!parsed.ok) return malformed(`invalid EventBridge event: ${parsed.problems.join('; ')}`);
    const event = toFanoutEvent(parsed.value);
    return { kind: 'envelope', event, sources: audienceSources(event) };
  }
  if ('kind' in json) {
    const parsed = check(WorkMessage, json);
    if (!parsed.ok) return malformed(`invalid work message: ${parsed.problems.join('; ')}`);
    const message = parsed.value;
    const sources = audienceSources(message.event);
    // Indexes refer to audienceSources(event), which is deterministic; out of range means a foreign
    // or corrupted message, not a transient problem.
    const indexes = message.kind === 'fanout.page' ? [message.source] : message.targets.map((t) => t.source);
    const bad = indexes.find((index) => index >= sources.length);
    if (bad !== undefined)
      return malformed(`source ${bad} is out of range: the event has ${sources.length} sources`);
    return message.kind === 'fanout.page'
      ? { kind: 'page', event: message.event, sources, message }
      : { kind: 'retry', event: message.event, sources, message };
  }
  return malformed('neither an EventBridge event (no "detail-type") nor a fan-out work message (no "kind")');
}

/** The event id of a body that failed validation, so its log lines can still be correlated. */
function guessEventId(json: object): string | undefined {
  if ('id' in json && typeof json.id === 'string') return json.id;
  if ('event' in json && typeof json.event === 'object' && json.event !== null) {
    const event = json.event;
    if ('id' in event && typeof event.id === 'string') return event.id;
  }
  return undefined;
}

/** Whether the publisher's `expiresAt` has passed (a missing or unreadable one never expires). */
export function isExpired(event: FanoutEvent, now: number): boolean {
  if (!event.expiresAt) return false;
  const expiresAt = Date.parse(event.expiresAt);
  return !Number.isNaN(expiresAt) && expiresAt < now;
}
