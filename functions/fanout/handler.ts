import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { integer, requireString } from '../../shared/config.js';
import { FanoutEngine } from '../../shared/fanout/engine.js';
import { createFanoutHandler } from '../../shared/fanout/handler.js';
import { DEFAULT_FANOUT_OPTIONS } from '../../shared/fanout/options.js';
import {
  ApiGatewayConnectionGateway,
  createManagementClient,
} from '../../shared/gateway/gateway-apigateway.js';
import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { SqsWorkQueue } from '../../shared/queue/queue-sqs.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';

// Everything below runs once per cold start; every invocation reuses the clients and their
// keep-alive sockets. A missing or malformed variable fails the cold start, naming the variable.
const env = process.env;
const options = {
  concurrency: integer(env, 'FANOUT_CONCURRENCY', DEFAULT_FANOUT_OPTIONS.concurrency, { min: 1, max: 1000 }),
  pageSize: integer(env, 'FANOUT_PAGE_SIZE', DEFAULT_FANOUT_OPTIONS.pageSize, { min: 1, max: 10_000 }),
  maxAttempts: integer(env, 'FANOUT_MAX_ATTEMPTS', DEFAULT_FANOUT_OPTIONS.maxAttempts, { min: 1, max: 20 }),
  maxRetryMessages: integer(env, 'FANOUT_MAX_RETRY_MESSAGES', DEFAULT_FANOUT_OPTIONS.maxRetryMessages, {
    min: 0,
    max: 100,
  }),
};

const store = new DynamoDbConnectionStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({})),
  requireString(env, 'TABLE_NAME'),
);
const queue = new SqsWorkQueue(new SQSClient({}), {
  queueUrl: requireString(env, 'QUEUE_URL'),
  deadLetterQueueUrl: requireString(env, 'DLQ_URL'),
});
const gateway = new ApiGatewayConnectionGateway(
  createManagementClient({
    endpoint: requireString(env, 'MANAGEMENT_ENDPOINT'),
    maxSockets: options.concurrency,
  }),
);
const powertools = observability('fanout');
const { logger: log, metrics } = fromPowertools(powertools);
const engine = new FanoutEngine({ store, gateway, queue, log, metrics }, options);

export const handler = createFanoutHandler({ engine, powertools });
