import type { AudienceMember, AudienceSource } from '../domain/audience.js';
import { rowExpiry } from '../domain/limits.js';
import { InvalidCursorError, type NewConnection } from './store.js';

/**
 * Row layout of the connections table (docs/architecture.md, "Data model") and the conversions between rows and the port's
 * types. Attribute names are the ones in table.ts (`pk`, `sk`, `expiresAt`).
 *
 * | row                       | pk                 | sk               | attributes                                  |
 * |---------------------------|--------------------|------------------|---------------------------------------------|
 * | connection                | `CONN#<id>`        | `META`           | connectedAt, userId?, sourceIp?, allowedTopics, subscriptions, rev |
 * | connection's subscription | `CONN#<id>`        | `SUB#<pattern>`  |                                             |
 * | topic index               | `TOPIC#<pattern>`  | `<id>`           | userId?, subscriptions, rev                 |
 * | user index                | `USER#<userId>`    | `<id>`           | userId, subscriptions, rev                  |
 *
 * Every row carries `expiresAt`. `rev` counts changes to the connection's subscription list; index
 * rows remember the revision they were written from so an older writer never overwrites a newer list.
 */

/** A type alias, not an interface, so a key is also an Item (ExclusiveStartKey takes either). */
export type Key = { pk: string; sk: string };

/** An item as the document client returns it, before validation. */
export type Item = Record<string, unknown>;

const META_SK = 'META';
const SUB_PREFIX = 'SUB#';

export const connectionPartition = (connectionId: string): string => `CONN#${connectionId}`;
export const metaKey = (connectionId: string): Key => ({
  pk: connectionPartition(connectionId),
  sk: META_SK,
});
export const subKey = (connectionId: string, pattern: string): Key => ({
  pk: connectionPartition(connectionId),
  sk: `${SUB_PREFIX}${pattern}`,
});
export const topicKey = (pattern: string, connectionId: string): Key => ({
  pk: `TOPIC#${pattern}`,
  sk: connectionId,
});
export const userKey = (userId: string, connectionId: string): Key => ({
  pk: `USER#${userId}`,
  sk: connectionId,
});

/** The partition an audience source is read from. */
export const sourcePartition = (source: AudienceSource): string =>
  source.kind === 'pattern' ? `TOPIC#${source.pattern}` : `USER#${source.userId}`;

/** What index rows are derived from: the subscription list at one revision of the META row. */
export interface ConnectionState {
  connectionId: string;
  userId?: string;
  /** Epoch ms; copied onto index rows so the fan-out can tell a connection still opening. */
  connectedAt: number;
  subscriptions: string[];
  rev: number;
  expiresAt: number;
}

export function metaItem(connection: NewConnection): Item {
  return {
    ...metaKey(connection.connectionId),
    connectedAt: connection.connectedAt,
    ...(connection.userId ? { userId: connection.userId } : {}),
    ...(connection.sourceIp ? { sourceIp: connection.sourceIp } : {}),
    allowedTopics: [...connection.allowedTopics],
    subscriptions: [],
    rev: 0,
    expiresAt: rowExpiry(connection.connectedAt),
  };
}

export const subItem = (state: ConnectionState, pattern: string): Item => ({
  ...subKey(state.connectionId, pattern),
  expiresAt: state.expiresAt,
});

/**
 * An index row's copy of the connection's list. `listedAt` says when the copy was written, once
 * every row it names is known to exist: only then may the fan-out trust the list to skip the
 * connection at a later source (`deliveredByEarlierSource`). A row written without it is delivered
 * through regardless until its list is refreshed.
 */
const listFields = (state: ConnectionState, listedAt: number | undefined): Item => ({
  subscriptions: [...state.subscriptions],
  rev: state.rev,
  connectedAt: state.connectedAt,
  ...(listedAt === undefined ? {} : { listedAt }),
  expiresAt: state.expiresAt,
});

export const topicItem = (state: ConnectionState, pattern: string, listedAt?: number): Item => ({
  ...topicKey(pattern, state.connectionId),
  ...(state.userId ? { userId: state.userId } : {}),
  ...listFields(state, listedAt),
});

export const userItem = (state: ConnectionState, userId: string, listedAt?: number): Item => ({
  ...userKey(userId, state.connectionId),
  // Redundant with the key, but audience members read it like a topic row's.
  userId,
  ...listFields(state, listedAt),
});

/** The pattern of a `SUB#<pattern>` sort key, or undefined for any other row of the connection. */
export const patternOfSubKey = (sk: string): string | undefined =>
  sk.startsWith(SUB_PREFIX) ? sk.slice(SUB_PREFIX.length) : undefined;

export const isMetaKey = (sk: string): boolean => sk === META_SK;

/** The state index rows follow, from a META row. */
export function parseMeta(connectionId: string, item: Item): ConnectionState {
  const connectedAt = item.connectedAt;
  if (typeof connectedAt !== 'number') {
    throw new Error(`row ${connectionPartition(connectionId)}/${META_SK} has no numeric connectedAt`);
  }
  const userId = optionalString(item.userId);
  return {
    connectionId,
    ...(userId ? { userId } : {}),
    connectedAt,
    subscriptions: strings(item.subscriptions),
    rev: typeof item.rev === 'number' ? item.rev : 0,
    expiresAt: typeof item.expiresAt === 'number' ? item.expiresAt : rowExpiry(connectedAt),
  };
}

/** The attributes META and index rows share: who the connection is and what it subscribed to. */
export function subscriptionFields(item: Item): { userId?: string; subscriptions: string[] } {
  const userId = optionalString(item.userId);
  return { ...(userId ? { userId } : {}), subscriptions: strings(item.subscriptions) };
}

/** A topic or user index row, as an audience member. */
export function parseMember(item: Item): AudienceMember {
  if (typeof item.sk !== 'string') throw new Error('audience row without a string sort key');
  return {
    connectionId: item.sk,
    ...subscriptionFields(item),
    ...(typeof item.listedAt === 'number' ? { listedAt: item.listedAt } : {}),
    ...(typeof item.connectedAt === 'number' ? { connectedAt: item.connectedAt } : {}),
  };
}

/** The opaque audience cursor: the Query's LastEvaluatedKey as base64url JSON. */
export const encodeCursor = (lastEvaluatedKey: Item): string =>
  Buffer.from(JSON.stringify(lastEvaluatedKey), 'utf8').toString('base64url');

/**
 * The ExclusiveStartKey in `cursor`. It must be a key of `partition`: a cursor from another source
 * would silently start that source's Query at an unrelated position.
 */
export function decodeCursor(cursor: string, partition: string): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError(`invalid audience cursor "${cursor}": not base64url-encoded JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidCursorError(`invalid audience cursor "${cursor}": not a key object`);
  }
  const { pk, sk, ...rest } = parsed as Item;
  if (typeof pk !== 'string' || typeof sk !== 'string' || Object.keys(rest).length > 0) {
    throw new InvalidCursorError(`invalid audience cursor "${cursor}": expected exactly string pk and sk`);
  }
  if (pk !== partition) {
    throw new InvalidCursorError(`invalid audience cursor: it belongs to ${pk}, not ${partition}`);
  }
  return { pk, sk };
}

const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
