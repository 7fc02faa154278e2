import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { functionEnvironment, runtimeVariable } from '../../shared/config.js';
import { SignedConnectionGateway } from '../../shared/gateway/gateway-signed.js';
import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { recoveryMarginMs } from '../../shared/routes/recovery.js';
import { createSubscribeHandler } from '../../shared/routes/subscribe.js';
import { DynamoDbHistoryStore } from '../../shared/store/history-dynamodb.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';

// Built once per cold start and reused by every invocation (keep-alive connections to DynamoDB).
const env = functionEnvironment('subscribe', process.env);
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const tableName = env.string('TABLE_NAME');
const store = new DynamoDbConnectionStore(documents, tableName);
const history = new DynamoDbHistoryStore(documents, tableName, {
  retentionSeconds: env.integer('HISTORY_RETENTION_SECONDS'),
});
// Recovered events go back to the subscribing connection through @connections.
const gateway = new SignedConnectionGateway({
  endpoint: env.string('MANAGEMENT_ENDPOINT'),
  region: runtimeVariable(process.env, 'AWS_REGION'),
  credentials: fromEnv(),
  maxSockets: 2,
  requestTimeoutMs: 3_000,
});

export const handler = createSubscribeHandler({
  store,
  maxSubscriptions: env.integer('MAX_SUBSCRIPTIONS'),
  recovery: {
    history,
    gateway,
    marginMs: recoveryMarginMs(
      env.integer('FANOUT_MAX_PAGE_SECONDS'),
      env.integer('FANOUT_REQUEST_TIMEOUT_MS'),
    ),
    maxEvents: env.integer('RECOVERY_MAX_EVENTS'),
  },
  ...fromPowertools(observability('subscribe')),
});
