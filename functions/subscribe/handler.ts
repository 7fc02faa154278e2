import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_MAX_SUBSCRIPTIONS } from '@fanout/protocol';
import { integer, requireString } from '../../shared/config.js';
import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { createSubscribeHandler } from '../../shared/routes/subscribe.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';

// Built once per cold start and reused by every invocation (keep-alive connections to DynamoDB).
const tableName = requireString(process.env, 'TABLE_NAME');
const maxSubscriptions = integer(process.env, 'MAX_SUBSCRIPTIONS', DEFAULT_MAX_SUBSCRIPTIONS, {
  min: 1,
  max: 1000,
});
const store = new DynamoDbConnectionStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName);

export const handler = createSubscribeHandler({
  store,
  maxSubscriptions,
  ...fromPowertools(observability('subscribe')),
});
