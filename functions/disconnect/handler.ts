import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { functionEnvironment } from '../../shared/config.js';
import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { createDisconnectHandler } from '../../shared/routes/disconnect.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';

// Built once per cold start and reused by every invocation (keep-alive connections to DynamoDB).
const env = functionEnvironment('disconnect', process.env);
const store = new DynamoDbConnectionStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({})),
  env.string('TABLE_NAME'),
);

export const handler = createDisconnectHandler({ store, ...fromPowertools(observability('disconnect')) });
