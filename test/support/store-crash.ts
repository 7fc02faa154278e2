/**
 * What the store's crash tests share (store-crash.test.ts, store-interleavings.test.ts): a document
 * client that dies at its Nth write, the rows of a table, and the two things checked after a crash:
 * whether connection `c` is still reached, and whether its rows are what its META row says.
 */
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AudienceSource, audienceSources, deliveredByEarlierSource } from '../../shared/domain/audience';
import type { ConnectionStore } from '../../shared/store/store';

const WRITES = [PutCommand, DeleteCommand, UpdateCommand, BatchWriteCommand];

export class Crash extends Error {
  override readonly name = 'Crash';
}

/**
 * `client`, except that write number `crashAt` (counting from 1) and every call after it throw before
 * reaching the table: the process died there.
 */
export function crashingClient(
  client: DynamoDBDocumentClient,
  crashAt: number,
): { client: DynamoDBDocumentClient; writes: () => number } {
  let writes = 0;
  let dead = false;
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  const proxy = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: unknown) => {
        if (dead) throw new Crash('the process is gone');
        if (WRITES.some((type) => command instanceof type)) {
          writes += 1;
          if (writes === crashAt) {
            dead = true;
            throw new Crash(`stopped at write ${crashAt}`);
          }
        }
        return send(command);
      };
    },
  });
  return { client: proxy, writes: () => writes };
}

export type Row = Record<string, unknown> & { pk: string; sk: string };

/** Every item of the table. Tests may scan; the store itself never does. */
export async function rows(client: DynamoDBDocumentClient, tableName: string): Promise<Row[]> {
  const items: Row[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    items.push(...((page.Items ?? []) as Row[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** A topic that `pattern` matches. */
export const topicOf = (pattern: string): string =>
  pattern === '*' ? 'any' : pattern.endsWith('/*') ? `${pattern.slice(0, -2)}/t` : pattern;

/**
 * Whether an event on `topic` (and to `users`) reaches connection `c` as the fan-out would read the
 * table right now, trusting every list that has a stamp: the worst case for de-duplication.
 */
export async function reaches(store: ConnectionStore, topic: string, users: string[]): Promise<boolean> {
  const sources: AudienceSource[] = audienceSources({ topics: [topic], users });
  for (let index = 0; index < sources.length; index++) {
    const source = sources[index];
    if (!source) continue;
    const page = await store.audiencePage(source, 100);
    const member = page.members.find((m) => m.connectionId === 'c');
    const reading = { startedAt: Number.POSITIVE_INFINITY, complete: new Set<number>() };
    if (member && !deliveredByEarlierSource(member, sources, index, reading)) return true;
  }
  return false;
}

/** The rows of connection `c` (user `u`) are exactly what its META row says; none without META. */
export function expectConsistent(all: readonly Row[]): void {
  const meta = all.find((row) => row.pk === 'CONN#c' && row.sk === 'META');
  if (!meta) {
    expect(all.filter((row) => row.pk === 'CONN#c' || row.sk === 'c')).toEqual([]);
    return;
  }
  const held = [...(meta.subscriptions as string[])].sort();
  const subs = all
    .filter((row) => row.pk === 'CONN#c' && row.sk.startsWith('SUB#'))
    .map((row) => row.sk.slice(4));
  expect(subs.sort()).toEqual(held);
  const topicRows = all.filter((row) => row.pk.startsWith('TOPIC#') && row.sk === 'c');
  expect(topicRows.map((row) => row.pk.slice('TOPIC#'.length)).sort()).toEqual(held);
  for (const row of [...topicRows, ...all.filter((r) => r.pk === 'USER#u' && r.sk === 'c')]) {
    expect({ row: row.pk, list: [...(row.subscriptions as string[])].sort(), rev: row.rev }).toEqual({
      row: row.pk,
      list: held,
      rev: meta.rev,
    });
    // A list that names patterns is stamped, so de-duplication may use it once it settled (an empty
    // one claims nothing: the USER# row of a connection that never subscribed has no stamp).
    if (held.length === 0) continue;
    expect({ row: row.pk, trusted: typeof row.listedAt === 'number' }).toEqual({
      row: row.pk,
      trusted: true,
    });
  }
}
