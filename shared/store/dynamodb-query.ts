import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Item } from './dynamodb-rows.js';

/** What a Query's rows become once read here: what the document client's output would carry. */
interface Rows {
  items: Item[];
  lastEvaluatedKey?: Item;
}

/** A 200 answer split in two: its rows, read here, and the rest (DynamoDB JSON) for the SDK. */
interface ReadAnswer {
  rows: Rows;
  /** The answer without `Items` and `LastEvaluatedKey`: `Count`, `ScannedCount`, `ConsumedCapacity`. */
  rest: string;
}

/**
 * Makes `command` read its answer's rows straight from the JSON DynamoDB sends, instead of through
 * the SDK's deserializer, and returns it. The SDK walks every attribute value of every row through
 * the service's schema and then the document client walks them again to unmarshall them: a send of
 * the 1,000 rows of an audience read took about 6 ms of the delivering process's one thread here
 * (against a canned answer), while no post in flight is answered. With `JSON.parse` and
 * util-dynamodb's `unmarshall` (the document client's own conversion) the same send took about 3 ms.
 *
 * Everything else stays the SDK's: endpoint, signing, retries, every error answer and every answer
 * it cannot read here (not JSON, `Items` not a list), which reach its deserializer untouched. A 200
 * answer's rows are taken out; the deserializer reads the rest of it (`Count`, `ScannedCount`,
 * `ConsumedCapacity`), and the rows are put back into the command's output, so callers read `Items`
 * and `LastEvaluatedKey` as the document client returns them. A retried attempt reads its own
 * answer: the rows of the last one are the ones returned. The rows are kept per send, so a command
 * sent twice at once returns each send its own.
 *
 * One difference from the document client: binary values (`B`, `BS`) stay the base64 strings of
 * the JSON, where the SDK decodes them to bytes first. The connection table holds no binary values.
 */
export function readingRowsDirectly(command: QueryCommand): QueryCommand {
  // Keyed by the send's handler context, which every middleware of one send shares.
  const rowsOf = new WeakMap<object, Rows>();
  // `override`: a document-client command's stack and its inner command's are one object, and the
  // SDK concatenates both, so a middleware added once is met twice.
  // Inside the SDK's deserializer ('low' in its step): sees the raw HTTP answer before it does.
  command.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const response = result.response as { statusCode?: number; body?: unknown };
      rowsOf.delete(context);
      if (response.statusCode === 200) {
        const text = await bodyText(response.body);
        const read = readAnswer(text);
        if (read) rowsOf.set(context, read.rows);
        // The body was read to its end: the deserializer gets bytes, the whole answer or its rest.
        response.body = Buffer.from(read ? read.rest : text);
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'fanoutReadRows', override: true },
  );
  // Outside the document client's unmarshalling (which finds no rows to convert): puts them back.
  command.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const rows = rowsOf.get(context);
      if (rows) {
        const output = result.output as { Items?: Item[]; LastEvaluatedKey?: Item };
        output.Items = rows.items;
        if (rows.lastEvaluatedKey) output.LastEvaluatedKey = rows.lastEvaluatedKey;
      }
      return result;
    },
    { step: 'initialize', priority: 'high', name: 'fanoutReturnRows', override: true },
  );
  return command;
}

/**
 * A Query's answer body (DynamoDB JSON) split into its rows, unmarshalled as the document client
 * does, and the rest; undefined when it cannot be read here (not JSON, not an object, `Items` not a
 * list, a value `unmarshall` refuses): the SDK's deserializer then reads the whole answer and raises
 * its own error, with the answer's metadata.
 */
export function readAnswer(text: string): ReadAnswer | undefined {
  type Row = Record<string, AttributeValue>;
  try {
    const answer: unknown = JSON.parse(text);
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return undefined;
    const {
      Items = [],
      LastEvaluatedKey,
      ...rest
    } = answer as { Items?: Row[]; LastEvaluatedKey?: Row } & Record<string, unknown>;
    if (!Array.isArray(Items)) return undefined;
    return {
      rows: {
        items: Items.map((item) => unmarshall(item)),
        ...(LastEvaluatedKey ? { lastEvaluatedKey: unmarshall(LastEvaluatedKey) } : {}),
      },
      rest: JSON.stringify(rest),
    };
  } catch {
    return undefined;
  }
}

/** The whole body of an answer: a stream on Node, bytes or a string from other request handlers. */
async function bodyText(body: unknown): Promise<string> {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString();
  if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    }
    return Buffer.concat(chunks).toString();
  }
  throw new Error('DynamoDB answered a Query without a readable body');
}
