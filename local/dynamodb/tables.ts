import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/** How often a new table's status is asked while it is CREATING. */
const POLL_MS = 5;

/**
 * CreateTable, then DescribeTable until the table is ACTIVE. CreateTable is asynchronous on
 * DynamoDB ("CreateTable is an asynchronous operation ... TableStatus CREATING"), and on dynalite
 * too: a write before the table is ACTIVE fails with ResourceNotFoundException. DynamoDB Local
 * answers ACTIVE at once, so there this costs one DescribeTable.
 */
export async function createActiveTable(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
  timeoutMs = 10_000,
): Promise<void> {
  await client.send(new CreateTableCommand(input));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() >= deadline) {
      throw new Error(`table ${input.TableName} is still ${Table?.TableStatus} after ${timeoutMs} ms`);
    }
    await sleep(POLL_MS);
  }
}
