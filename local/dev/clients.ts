/**
 * The real AWS SDK clients, pointed at the local platform's loopback endpoints (`platform.config`,
 * `.fanout/local.json`): DynamoDB, EventBridge, SQS and the stage's `@connections` API. The tests'
 * harness and the benchmark's world make theirs here, so both talk to the stand-ins the same way.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { PlatformEndpoints } from '@fanout/protocol';

/** The local stand-ins check no signature; the SDK still wants credentials to sign with. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export type LocalClientEndpoints = Pick<
  PlatformEndpoints,
  'region' | 'dynamodbEndpoint' | 'eventBridgeEndpoint' | 'sqsEndpoint' | 'managementEndpoint'
>;

export interface LocalClients {
  dynamodb: DynamoDBClient;
  eventBridge: EventBridgeClient;
  sqs: SQSClient;
  management: ApiGatewayManagementApiClient;
  /** Closes every client's sockets (each keeps its connections alive otherwise). */
  destroy(): void;
}

export function localClients(config: LocalClientEndpoints): LocalClients {
  const at = (endpoint: string) => ({ endpoint, region: config.region, credentials: LOCAL_CREDENTIALS });
  const dynamodb = new DynamoDBClient(at(config.dynamodbEndpoint));
  const eventBridge = new EventBridgeClient(at(config.eventBridgeEndpoint));
  const sqs = new SQSClient(at(config.sqsEndpoint));
  const management = new ApiGatewayManagementApiClient(at(config.managementEndpoint));
  return {
    dynamodb,
    eventBridge,
    sqs,
    management,
    destroy: () => {
      dynamodb.destroy();
      eventBridge.destroy();
      sqs.destroy();
      management.destroy();
    },
  };
}
