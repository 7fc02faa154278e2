/**
 * The AWS sample simple-websockets-chat-app's `sendmessage`, ported to SDK v3: the minimal handler the
 * cold-start benchmark compares each function's module load against (bundled like them).
 */
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';

const ddb = new DynamoDBClient({});
const tableName = process.env.TABLE_NAME;

export const handler = async (event: {
  requestContext: { domainName: string; stage: string };
  body: string;
}): Promise<{ statusCode: number; body: string }> => {
  const connections = await ddb.send(
    new ScanCommand({ TableName: tableName, ProjectionExpression: 'connectionId' }),
  );
  const api = new ApiGatewayManagementApiClient({
    endpoint: `https://${event.requestContext.domainName}/${event.requestContext.stage}`,
  });
  const data = (JSON.parse(event.body) as { data: string }).data;
  await Promise.all(
    (connections.Items ?? []).map(async (item) => {
      const connectionId = item.connectionId?.S ?? '';
      try {
        await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) {
          await ddb.send(
            new DeleteItemCommand({ TableName: tableName, Key: { connectionId: { S: connectionId } } }),
          );
        } else throw err;
      }
    }),
  );
  return { statusCode: 200, body: 'Data sent.' };
};
