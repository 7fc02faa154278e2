import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { readAnswer, readingRowsDirectly } from '../../../shared/store/dynamodb-query.js';

/** One canned HTTP answer: what DynamoDB's JSON protocol sends. */
interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const ROWS = {
  Count: 2,
  ScannedCount: 2,
  Items: [
    {
      sk: { S: 'c1' },
      userId: { S: 'u1' },
      subscriptions: { L: [{ S: 'orders/*' }, { S: 'x' }] },
      listedAt: { N: '1796328238166' },
      connectedAt: { N: '1796328238000' },
    },
    { sk: { S: 'c2' }, subscriptions: { L: [] }, flags: { SS: ['a', 'b'] }, on: { BOOL: true } },
  ],
  LastEvaluatedKey: { pk: { S: 'TOPIC#orders/*' }, sk: { S: 'c2' } },
};

/** How the request handler hands a body over: a stream in chunks (Node's), bytes, or a string. */
type BodyShape = 'stream' | 'bytes' | 'string';

const bodyAs = (body: string, shape: BodyShape): unknown =>
  shape === 'string'
    ? body
    : shape === 'bytes'
      ? new TextEncoder().encode(body)
      : Readable.from([Buffer.from(body.slice(0, 7)), Buffer.from(body.slice(7))]);

/** A document client whose request handler answers from `answers` in turn, never the network. */
function clientAnswering(
  answers: Answer[],
  shape: BodyShape = 'stream',
): { client: DynamoDBDocumentClient; calls: () => number } {
  let calls = 0;
  const requestHandler = {
    handle: async () => {
      const answer = answers[Math.min(calls, answers.length - 1)] as Answer;
      calls += 1;
      return {
        response: {
          statusCode: answer.status,
          headers: { 'content-type': 'application/x-amz-json-1.0', ...answer.headers },
          body: bodyAs(answer.body, shape),
        },
      };
    },
  };
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      requestHandler: requestHandler as never,
      maxAttempts: 3,
      retryStrategy: undefined,
    }),
  );
  return { client, calls: () => calls };
}

const query = () =>
  new QueryCommand({
    TableName: 'connections',
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': 'pk' },
    ExpressionAttributeValues: { ':pk': 'TOPIC#orders/*' },
  });

const ok = (body: unknown): Answer => ({ status: 200, body: JSON.stringify(body) });

describe('readingRowsDirectly', () => {
  it('returns the same Items and LastEvaluatedKey as the document client reading the answer itself', async () => {
    const sdk = await clientAnswering([ok(ROWS)]).client.send(query());
    const direct = await clientAnswering([ok(ROWS)]).client.send(readingRowsDirectly(query()));

    expect(direct.Items).toEqual(sdk.Items);
    expect(direct.LastEvaluatedKey).toEqual(sdk.LastEvaluatedKey);
    expect(direct.Items?.[0]).toEqual({
      sk: 'c1',
      userId: 'u1',
      subscriptions: ['orders/*', 'x'],
      listedAt: 1796328238166,
      connectedAt: 1796328238000,
    });
    expect(direct.$metadata.httpStatusCode).toBe(200);
    // The rest of the answer is the SDK's to read, as before.
    expect(direct.Count).toBe(2);
    expect(direct.ScannedCount).toBe(2);
  });

  it("hands the SDK's deserializer the answer without its rows: it has none to walk", async () => {
    const command = readingRowsDirectly(query());
    let seenBySdk: unknown = 'not reached';
    // Just outside the SDK's deserializer: what it made of the body, before the rows are put back.
    command.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        seenBySdk = (result.output as { Items?: unknown }).Items;
        return result;
      },
      { step: 'deserialize', priority: 'high', name: 'testSeenBySdk', override: true },
    );
    const direct = await clientAnswering([ok(ROWS)]).client.send(command);
    expect(seenBySdk).toBeUndefined();
    expect(direct.Items).toHaveLength(2);
  });

  it.each(['bytes', 'string'] as const)('reads a body handed over as %s', async (shape) => {
    const direct = await clientAnswering([ok(ROWS)], shape).client.send(readingRowsDirectly(query()));
    expect(direct.Items?.map((item) => item.sk)).toEqual(['c1', 'c2']);
  });

  it('unmarshalls a number in LastEvaluatedKey as the document client does', async () => {
    const answer = ok({ ...ROWS, LastEvaluatedKey: { pk: { S: 'p' }, at: { N: '42' } } });
    const sdk = await clientAnswering([answer]).client.send(query());
    const direct = await clientAnswering([answer]).client.send(readingRowsDirectly(query()));
    expect(direct.LastEvaluatedKey).toEqual({ pk: 'p', at: 42 });
    expect(direct.LastEvaluatedKey).toEqual(sdk.LastEvaluatedKey);
  });

  it('returns each of two sends of one command at once its own rows', async () => {
    const command = readingRowsDirectly(query());
    const one = clientAnswering([ok({ Items: [{ sk: { S: 'first' } }] })]).client;
    const two = clientAnswering([ok({ Items: [{ sk: { S: 'second' } }] })]).client;
    const [a, b] = await Promise.all([one.send(command), two.send(command)]);
    expect(a.Items).toEqual([{ sk: 'first' }]);
    expect(b.Items).toEqual([{ sk: 'second' }]);
  });

  it('returns no LastEvaluatedKey and no rows for an answer that has none', async () => {
    const direct = await clientAnswering([ok({ Count: 0, ScannedCount: 0, Items: [] })]).client.send(
      readingRowsDirectly(query()),
    );
    expect(direct.Items).toEqual([]);
    expect(direct.LastEvaluatedKey).toBeUndefined();
  });

  it('leaves an error answer to the SDK, which raises its own exception with its name', async () => {
    const { client, calls } = clientAnswering([
      {
        status: 400,
        body: JSON.stringify({
          __type: 'com.amazon.coral.validate#ValidationException',
          message: 'Query condition missed key schema element',
        }),
      },
    ]);
    await expect(client.send(readingRowsDirectly(query()))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Query condition missed key schema element',
      $metadata: { httpStatusCode: 400 },
    });
    expect(calls()).toBe(1);
  });

  it('returns the rows of the attempt that succeeded after the SDK retried a throttled one', async () => {
    const { client, calls } = clientAnswering([
      {
        status: 400,
        body: JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'Rate of requests exceeds the allowed throughput',
        }),
      },
      ok(ROWS),
    ]);
    const direct = await client.send(readingRowsDirectly(query()));
    expect(calls()).toBe(2);
    expect(direct.Items?.map((item) => item.sk)).toEqual(['c1', 'c2']);
  });

  it("leaves a 200 answer that is not JSON to the SDK, which raises its deserialization error with the answer's metadata", async () => {
    const { client } = clientAnswering([{ status: 200, body: '<html>proxy error</html>' }]);
    await expect(client.send(readingRowsDirectly(query()))).rejects.toMatchObject({
      message: expect.stringMatching(/Deserialization error/),
      $metadata: { httpStatusCode: 200 },
    });
  });

  it('leaves a 200 answer whose Items is not a list to the SDK, as without it', async () => {
    const answer = ok({ Items: { not: 'a list' } });
    const outcome = (p: Promise<unknown>) =>
      p.then(
        (value) => ({ value: (value as { Items?: unknown }).Items }),
        (error: Error) => ({ error: error.name }),
      );
    const sdk = await outcome(clientAnswering([answer]).client.send(query()));
    const direct = await outcome(clientAnswering([answer]).client.send(readingRowsDirectly(query())));
    expect(direct).toEqual(sdk);
  });
});

describe('readAnswer', () => {
  it('reads nothing from an answer that is not JSON, not an object, or whose Items is not a list', () => {
    expect(readAnswer('<html>')).toBeUndefined();
    expect(readAnswer('null')).toBeUndefined();
    expect(readAnswer('[]')).toBeUndefined();
    expect(readAnswer('{"Items":{}}')).toBeUndefined();
  });

  it('reads an answer without Items as no rows, and hands on the rest', () => {
    expect(readAnswer('{"Count":0}')).toEqual({ rows: { items: [] }, rest: '{"Count":0}' });
  });
});
