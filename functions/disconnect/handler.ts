import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { functionEnvironment } from '../../shared/config.js';
import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { createDisconnectHandler } from '../../shared/routes/disconnect.js';
import { DynamoDbHistoryStore } from '../../shared/store/history-dynamodb.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';

// Built once per cold start and reused by every invocation (keep-alive connections to DynamoDB).
const env = functionEnvironment('disconnect', process.env);
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const tableName = env.string('TABLE_NAME');
const store = new DynamoDbConnectionStore(documents, tableName);
// What a leaving connection held keeps getting history until it may come back and recover.
const history = new DynamoDbHistoryStore(documents, tableName, {
  retentionSeconds: env.integer('HISTORY_RETENTION_SECONDS'),
});

export const handler = createDisconnectHandler({
  store,
  history,
  ...fromPowertools(observability('disconnect')),
});
