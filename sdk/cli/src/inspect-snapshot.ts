/**
 * The shape of the inspector's snapshot: what `fanout inspect` prints (sdk/cli/src/inspect.ts takes
 * it) and what the local inspector page (local/dashboard/inspector.ts) reads from GET /api/inspect.
 *
 * Types only, importing nothing: the page is type-checked for browsers without Node's types, so it
 * may import this module but not inspect.ts (which reads the AWS SDK, the file system and
 * terraform). One declaration, so the page and the CLI cannot drift apart.
 */

export interface ConnectionView {
  connectionId: string;
  userId: string | null;
  connectedAt: string | null;
  ageSeconds: number | null;
  sourceIp: string | null;
  subscriptions: string[];
}

export interface PatternView {
  pattern: string;
  /** From the TOPIC# partition: what the fan-out reads. */
  subscribers: number;
  /** The count stopped at SUBSCRIBER_COUNT_LIMIT (inspect.ts). */
  atLeast: boolean;
}

export interface QueueView {
  url: string;
  visible: number;
  inFlight: number;
  delayed: number;
  oldestAgeSeconds: number | null;
}

export interface LetterView {
  messageId: string;
  sentAt: string | null;
  receiveCount: number | null;
  reason: string;
  detail: string | null;
  summary: string;
}

/** One invocation of the fan-out function, from its log lines (START … REPORT). */
export interface InvocationView {
  requestId: string;
  startedAt: string;
  durationMs: number | null;
  /** Records (events, pages or retries) it finished: delivered, dead-lettered or dropped as expired. */
  records: number;
  audience: number;
  delivered: number;
  pruned: number;
  throttled: number;
  retried: number;
  failed: number;
  /** The invocation reported an error or timed out. */
  error: string | null;
}

export interface InspectSnapshot {
  mode: 'local' | 'aws';
  takenAt: string;
  tableName: string;
  connections: {
    /** Connections read; exact unless `truncated`. */
    count: number;
    /** The scan stopped at its limit: there are more. */
    truncated: boolean;
    items: ConnectionView[];
  };
  patterns: PatternView[];
  queue: QueueView;
  dlq: QueueView & { letters: LetterView[]; complete: boolean };
  invocations: InvocationView[];
  /** Parts that could not be read, by part, with their stable code: the rest is still shown. */
  problems: { part: string; code: string; message: string }[];
}
