/** Limits from the design (section 4) and AWS quotas; one place so tests and code agree. */

/** API Gateway WebSocket message limit, and the `Data` limit of PostToConnection. */
export const MAX_MESSAGE_BYTES = 128 * 1024;

/** API Gateway closes every WebSocket connection after 2 hours. */
export const MAX_CONNECTION_DURATION_SECONDS = 2 * 60 * 60;

/** Rows outlive their connection by this margin at most (TTL deletion is itself lazy). */
export const ROW_TTL_MARGIN_SECONDS = 15 * 60;

/** Topics per subscribe/unsubscribe frame. */
export const MAX_TOPICS_PER_FRAME = 20;

/** Default cap on subscriptions per connection (configurable per deployment). */
export const DEFAULT_MAX_SUBSCRIPTIONS = 50;

/** A topic: 1–8 segments, each `[A-Za-z0-9_.:-]{1,64}`, 256 characters in all. */
export const MAX_TOPIC_SEGMENTS = 8;
export const MAX_SEGMENT_LENGTH = 64;
export const MAX_TOPIC_LENGTH = 256;

/** Epoch seconds after which a connection's rows may be deleted by DynamoDB TTL. */
export const rowExpiry = (connectedAtMs: number): number =>
  Math.floor(connectedAtMs / 1000) + MAX_CONNECTION_DURATION_SECONDS + ROW_TTL_MARGIN_SECONDS;
