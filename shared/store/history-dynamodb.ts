import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type Position, positionAt } from '@fanout/protocol';
import { FanoutEvent } from '../domain/envelope.js';
import { batchGetAll, batchWriteAll, DEFAULT_RETRY, type RetryPolicy } from './dynamodb-batch.js';
import { type HistoryPage, type HistoryStore, type Stream, streamKey } from './history.js';

/**
 * HistoryStore in the connections table (docs/architecture.md, "Data model"):
 *
 * | row                 | pk                  | sk                      | attributes            |
 * |---------------------|---------------------|-------------------------|-----------------------|
 * | event body          | `EVENT#<id>`        | `BODY`                  | body (JSON), expiresAt |
 * | pointer of a stream | `HIST#<stream>`     | `<position>#<event id>` | eventId, expiresAt    |
 * | recently held       | `HELD#<stream>`     | `MARK`                  | until (ms), expiresAt |
 *
 * `<stream>` is `P#<pattern>` or `U#<user id>`. A body is written once per event, however many
 * streams and pages point at it; it is kept `BODY_EXTRA_SECONDS` longer than a pointer, because
 * pages and retries of one event write their pointers later than the body. Reads are strongly
 * consistent: a pointer written before a client's recovery asks must be found.
 */
export interface DynamoDbHistoryOptions {
  retentionSeconds: number;
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  now?: () => number;
}

/** The pk prefixes of history rows: they expire by TTL, and belong to no connection. */
export const HISTORY_ROW_PREFIXES = { body: 'EVENT#', pointer: 'HIST#', held: 'HELD#' } as const;

/** True for a history row (a body, a pointer or a held mark), by its partition key. */
export const isHistoryRow = (pk: string): boolean =>
  Object.values(HISTORY_ROW_PREFIXES).some((prefix) => pk.startsWith(prefix));

/** A body outlives its pointers by this: long enough for every page and retry of its event. */
export const BODY_EXTRA_SECONDS = 2 * 60 * 60;

export class DynamoDbHistoryStore implements HistoryStore {
  readonly retentionSeconds: number;
  private readonly now: () => number;
  private readonly options: { concurrency: number; retry: RetryPolicy };

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbHistoryOptions,
  ) {
    this.retentionSeconds = options.retentionSeconds;
    this.now = options.now ?? Date.now;
    this.options = {
      concurrency: Math.max(1, options.concurrency ?? 8),
      retry: { ...DEFAULT_RETRY, ...options.retry },
    };
  }

  async record(
    event: FanoutEvent,
    streams: readonly Stream[],
    position: Position,
    withBody: boolean,
  ): Promise<void> {
    const seconds = Math.floor(Number(position) / 1000);
    const pointerExpiry = seconds + this.retentionSeconds;
    const items: Record<string, unknown>[] = streams.map((stream) => ({
      pk: `${HISTORY_ROW_PREFIXES.pointer}${streamKey(stream)}`,
      sk: `${position}#${event.id}`,
      eventId: event.id,
      expiresAt: pointerExpiry,
    }));
    if (withBody) {
      items.unshift({
        pk: `${HISTORY_ROW_PREFIXES.body}${event.id}`,
        sk: 'BODY',
        // As JSON text: `data` is any JSON value, which DynamoDB's types would not keep as it is
        // (empty strings in sets, number precision, key order).
        body: JSON.stringify(event),
        expiresAt: pointerExpiry + BODY_EXTRA_SECONDS,
      });
    }
    await batchWriteAll(
      this.client,
      this.tableName,
      items.map((Item) => ({ PutRequest: { Item } })),
      this.options,
    );
  }

  async read(stream: Stream, after: Position, limit: number): Promise<HistoryPage> {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`history read limit must be >= 1, got ${limit}`);
    const oldest = positionAt(Math.max(0, this.now() - this.retentionSeconds * 1000));
    // Strictly after both: `#` sorts before every digit, so `<position>#` starts just past `position`.
    const from = after > oldest ? after : oldest;
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND #sk > :from',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: {
          ':pk': `${HISTORY_ROW_PREFIXES.pointer}${streamKey(stream)}`,
          ':from': `${from}#\uffff`,
        },
        ConsistentRead: true,
        Limit: limit + 1,
      }),
    );
    const pointers = (result.Items ?? []).flatMap((item) => {
      const sk = typeof item.sk === 'string' ? item.sk : '';
      const split = sk.indexOf('#');
      const eventId = typeof item.eventId === 'string' ? item.eventId : undefined;
      return split > 0 && eventId ? [{ position: sk.slice(0, split), eventId }] : [];
    });
    return {
      pointers: pointers.slice(0, limit),
      more: pointers.length > limit || result.LastEvaluatedKey !== undefined,
    };
  }

  async events(eventIds: readonly string[]): Promise<FanoutEvent[]> {
    const unique = [...new Set(eventIds)];
    if (unique.length === 0) return [];
    const items = await batchGetAll(
      this.client,
      this.tableName,
      unique.map((id) => ({ pk: `${HISTORY_ROW_PREFIXES.body}${id}`, sk: 'BODY' })),
      this.options,
    );
    return items.flatMap((item) => {
      if (typeof item.body !== 'string') return [];
      const parsed = FanoutEvent.safeParse(JSON.parse(item.body));
      return parsed.success ? [parsed.data] : [];
    });
  }

  async remember(streams: readonly Stream[]): Promise<void> {
    if (streams.length === 0 || this.retentionSeconds === 0) return;
    const until = this.now() + this.retentionSeconds * 1000;
    await batchWriteAll(
      this.client,
      this.tableName,
      streams.map((stream) => ({
        PutRequest: {
          Item: {
            pk: `${HISTORY_ROW_PREFIXES.held}${streamKey(stream)}`,
            sk: 'MARK',
            until,
            expiresAt: Math.ceil(until / 1000),
          },
        },
      })),
      this.options,
    );
  }

  async held(streams: readonly Stream[]): Promise<boolean[]> {
    if (streams.length === 0) return [];
    const items = await batchGetAll(
      this.client,
      this.tableName,
      streams.map((stream) => ({ pk: `${HISTORY_ROW_PREFIXES.held}${streamKey(stream)}`, sk: 'MARK' })),
      this.options,
    );
    const now = this.now();
    const until = new Map(items.map((item) => [item.pk, typeof item.until === 'number' ? item.until : 0]));
    return streams.map(
      (stream) => (until.get(`${HISTORY_ROW_PREFIXES.held}${streamKey(stream)}`) ?? 0) >= now,
    );
  }
}
