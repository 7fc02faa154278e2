/**
 * The limits of the protocol, in one place: clients, publishers and the platform import them from
 * here, so a check on one side never disagrees with the other. Where a limit comes from AWS, the
 * comment names the AWS page it is stated on.
 */

/**
 * Largest frame a WebSocket connection can receive, and the `Data` limit of PostToConnection
 * ("Quotas for configuring and running a WebSocket in API Gateway": 128 KB message payload).
 */
export const MAX_MESSAGE_BYTES = 128 * 1024;

/** API Gateway closes every WebSocket connection after 2 hours (same quotas page). */
export const MAX_CONNECTION_DURATION_SECONDS = 2 * 60 * 60;

/** API Gateway closes a WebSocket connection idle for 10 minutes (same quotas page). */
export const IDLE_TIMEOUT_SECONDS = 10 * 60;

/**
 * How often the client SDK pings by default (`pingIntervalMs`): 5 minutes, half the idle timeout. A
 * proxy in front of the platform (deploy/apache) must let a connection stay silent longer than this.
 */
export const DEFAULT_PING_INTERVAL_MS = 5 * 60_000;

/** Topics per subscribe/unsubscribe frame. */
export const MAX_TOPICS_PER_FRAME = 20;

/** Default cap on subscriptions per connection (each deployment may set its own). */
export const DEFAULT_MAX_SUBSCRIPTIONS = 50;

/** Longest request id (`id` of a client frame) echoed back in a reply. */
export const MAX_REQUEST_ID_LENGTH = 128;

/** A topic has 1–8 segments joined by `/`. */
export const MAX_TOPIC_SEGMENTS = 8;
/** A segment is `[A-Za-z0-9_.:-]{1,64}`. */
export const MAX_SEGMENT_LENGTH = 64;
/** A topic (or pattern) is 256 characters at most; so is a user id. */
export const MAX_TOPIC_LENGTH = 256;

/** Topics one published event may name. */
export const MAX_TOPICS_PER_EVENT = 20;
/** Users one published event may name. */
export const MAX_USERS_PER_EVENT = 100;

/** EventBridge PutEvents: entries per call ("Amazon EventBridge quotas"). */
export const MAX_ENTRIES_PER_PUT = 10;
/** EventBridge PutEvents: bytes per entry, Source + DetailType + Detail ("Amazon EventBridge quotas"). */
export const MAX_ENTRY_BYTES = 256 * 1024;
