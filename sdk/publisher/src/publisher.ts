import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  check,
  EventDetail,
  MAX_ENTRIES_PER_PUT,
  MAX_ENTRY_BYTES,
  MAX_MESSAGE_BYTES,
  type TopicEventFrame,
  type UserEventFrame,
} from '@fanout/protocol';

/**
 * Publisher SDK for internal services: validates a notification the way the platform will, then
 * sends it with one PutEvents call. Problems the platform would reject later (bad topic, frame over
 * 128 KB, entry over 256 KB) are thrown here, before anything is sent.
 */

/** Placeholder as long as an EventBridge event id, for sizing the delivered frame before it exists. */
const EVENT_ID_PLACEHOLDER = '00000000-0000-0000-0000-000000000000';

/** Why a publish failed: refused before sending (`invalid_event`, `too_large`), or by EventBridge (`rejected`). */
export type PublishErrorCode = 'invalid_event' | 'too_large' | 'rejected';

/** A publish that failed, with a stable `code`. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    readonly code: PublishErrorCode,
    message: string,
    /** For `rejected`: EventBridge's per-entry error code and message. */
    readonly entryError?: { errorCode?: string; errorMessage?: string },
  ) {
    super(message);
  }
}

/** One event to publish: where it goes (topics and/or users) and what it carries. */
export interface Notification {
  topics?: readonly string[];
  users?: readonly string[];
  data: unknown;
  /** The event type, e.g. `OrderUpdated` (EventBridge DetailType). */
  detailType?: string;
  /** Drop the event instead of delivering it after this instant. */
  expiresAt?: Date | string;
}

/** Which bus a Publisher puts events on, and as which source. */
export interface PublisherOptions {
  eventBusName: string;
  /** EventBridge Source: the publishing service, e.g. `orders`. */
  source: string;
  defaultDetailType?: string;
  /** Built once and reused; defaults to a client from the environment's configuration. */
  client?: EventBridgeClient;
}

/**
 * Publishes events on fanout's EventBridge bus. Build one per process and reuse it.
 *
 * @example
 * ```ts
 * const publisher = new Publisher({ eventBusName: 'fanout-prod', source: 'orders' });
 * const id = await publisher.publish({ topics: ['orders/eu/1234'], data: { status: 'shipped' } });
 * ```
 */
export class Publisher {
  private readonly client: EventBridgeClient;

  /** Throws `invalid_event` without a bus or a source. */
  constructor(private readonly options: PublisherOptions) {
    if (!options.eventBusName) throw new PublishError('invalid_event', 'eventBusName is required');
    if (!options.source) throw new PublishError('invalid_event', 'source is required');
    this.client = options.client ?? new EventBridgeClient({});
  }

  /** Publishes one notification and returns its event id (the `id` every delivered frame carries). */
  async publish(notification: Notification): Promise<string> {
    const [eventId] = await this.publishAll([notification]);
    if (!eventId) throw new PublishError('rejected', 'EventBridge returned no event id');
    return eventId;
  }

  /**
   * Publishes many notifications, 10 per PutEvents call. Every notification is validated before the
   * first call. Resolves with the event ids in order; rejects with the first entry EventBridge refused
   * (earlier and later entries may have been published: EventBridge fails entries, not calls).
   */
  async publishAll(notifications: readonly Notification[]): Promise<string[]> {
    const entries = notifications.map((n) => this.toEntry(n));
    const ids: string[] = [];
    for (let i = 0; i < entries.length; i += MAX_ENTRIES_PER_PUT) {
      const chunk = entries.slice(i, i + MAX_ENTRIES_PER_PUT);
      const result = await this.client.send(new PutEventsCommand({ Entries: chunk }));
      for (const entry of result.Entries ?? []) {
        if (!entry.EventId) {
          throw new PublishError(
            'rejected',
            `EventBridge rejected the event: ${entry.ErrorCode ?? 'unknown error'}${entry.ErrorMessage ? ` (${entry.ErrorMessage})` : ''}`,
            { errorCode: entry.ErrorCode, errorMessage: entry.ErrorMessage },
          );
        }
        ids.push(entry.EventId);
      }
    }
    return ids;
  }

  /** The PutEvents entry for a notification, after the platform's own checks. */
  toEntry(notification: Notification): PutEventsRequestEntry {
    const detailType = notification.detailType ?? this.options.defaultDetailType ?? 'Notification';
    const detail = validateNotification(notification);
    const frameBytes = largestFrameBytes(detail, this.options.source, detailType);
    if (frameBytes > MAX_MESSAGE_BYTES) {
      throw new PublishError(
        'too_large',
        `the delivered frame would be ${frameBytes} bytes; WebSocket messages are limited to ${MAX_MESSAGE_BYTES}`,
      );
    }
    const entry = {
      EventBusName: this.options.eventBusName,
      Source: this.options.source,
      DetailType: detailType,
      Detail: JSON.stringify(detail),
    };
    const entryBytes =
      Buffer.byteLength(entry.Source) + Buffer.byteLength(detailType) + Buffer.byteLength(entry.Detail);
    if (entryBytes > MAX_ENTRY_BYTES) {
      throw new PublishError(
        'too_large',
        `the event is ${entryBytes} bytes; EventBridge accepts ${MAX_ENTRY_BYTES}`,
      );
    }
    return entry;
  }
}

/**
 * The event's `Detail`, checked with the protocol's schema (the one the platform parses events
 * with), so whatever the platform would refuse is refused here, before anything is sent.
 */
function validateNotification(notification: Notification): EventDetail {
  // The platform accepts an absent `data` (it is delivered as nothing); a publisher that forgot it
  // almost certainly made a mistake.
  if (notification.data === undefined) {
    throw new PublishError('invalid_event', 'data is required (use null for none)');
  }
  if (notification.expiresAt !== undefined && Number.isNaN(new Date(notification.expiresAt).getTime())) {
    throw new PublishError('invalid_event', 'expiresAt is not a valid time');
  }
  const topics = [...new Set(notification.topics ?? [])];
  const users = [...new Set(notification.users ?? [])];
  if (topics.length + users.length === 0) {
    throw new PublishError('invalid_event', 'a notification needs at least one topic or user');
  }
  // `data` first: the order the README documents the Detail in.
  const detail: EventDetail = {
    data: notification.data,
    ...(topics.length ? { topics } : {}),
    ...(users.length ? { users } : {}),
    ...(notification.expiresAt !== undefined
      ? { expiresAt: new Date(notification.expiresAt).toISOString() }
      : {}),
  };
  const checked = check(EventDetail, detail);
  if (!checked.ok) throw new PublishError('invalid_event', checked.problems.join('; '));
  return detail;
}

/** Size of the biggest frame the fan-out will send for this event (the protocol's event frame). */
function largestFrameBytes(detail: EventDetail, source: string, detailType: string): number {
  const base = {
    type: 'event' as const,
    id: EVENT_ID_PLACEHOLDER,
    source,
    detailType,
    time: '2000-01-01T00:00:00Z',
    data: detail.data,
  };
  const frames: (TopicEventFrame | UserEventFrame)[] = [
    ...(detail.topics ?? []).map((topic) => ({ ...base, topic, subscription: topic })),
    ...(detail.users ?? []).map((user) => ({ ...base, user })),
  ];
  return Math.max(...frames.map((frame) => Buffer.byteLength(JSON.stringify(frame))));
}
