import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The connections table's key definition (docs/architecture.md, "Data model"). One place, so the DynamoDB store, the local
 * runtime (which creates the table in dynalite) and the Terraform checks agree on names.
 */
export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;

/**
 * CreateTable input for the connections table: string `pk`/`sk`, on-demand billing (fan-out reads are
 * bursty, so provisioned capacity would either throttle or sit idle). TTL on `expiresAt` is enabled
 * separately (UpdateTimeToLive / Terraform): CreateTable cannot set it.
 */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE_KEY.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_KEY.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE_KEY.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEY.sortKey, KeyType: 'RANGE' },
    ],
  };
}
