import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { QueryCommand as DocumentQueryCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HttpRequest } from '@smithy/types';
import { withoutSdkLogger } from '../../shared/sdk-logging';

/** A client whose every call answers one Query page, and whose logger records what it is given. */
function client(): { dynamodb: DynamoDBClient; logged: unknown[] } {
  const logged: unknown[] = [];
  const body = JSON.stringify({
    Items: [{ sk: { S: 'c1' }, subscriptions: { L: [{ S: 'a/b' }] } }],
    Count: 1,
  });
  const dynamodb = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    logger: {
      debug: () => {},
      info: (entry: unknown) => logged.push(entry),
      warn: () => {},
      error: () => {},
    },
    requestHandler: {
      handle: async (_request: HttpRequest) => ({
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: Buffer.from(body),
        },
      }),
    },
  });
  return { dynamodb, logged };
}

describe('an SDK client without its logger middleware', () => {
  it('answers as before, and its logger is handed nothing', async () => {
    const plain = client();
    const quiet = client();
    withoutSdkLogger(quiet.dynamodb);
    const input = {
      TableName: 't',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'p' } },
    };
    const before = await plain.dynamodb.send(new QueryCommand(input));
    const after = await quiet.dynamodb.send(new QueryCommand(input));
    expect(after.Items).toEqual(before.Items);
    expect(plain.logged).toHaveLength(1);
    expect(quiet.logged).toHaveLength(0);
  });

  it('also quiets a document client built on it, whose commands share its middleware', async () => {
    const quiet = client();
    const documents = DynamoDBDocumentClient.from(withoutSdkLogger(quiet.dynamodb));
    const out = await documents.send(
      new DocumentQueryCommand({
        TableName: 't',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'p' },
      }),
    );
    expect(out.Items).toEqual([{ sk: 'c1', subscriptions: ['a/b'] }]);
    expect(quiet.logged).toHaveLength(0);
  });
});
