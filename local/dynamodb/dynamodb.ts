import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableInput, TABLE_KEY } from '../../shared/store/table.js';
import { type DynamoDbFaults, withFaults } from './faults.js';
import { startTtlSweeper, type TtlSweeper } from './ttl.js';

/**
 * Local DynamoDB: dynalite (a pure-JS implementation of the DynamoDB wire API) in this process, on
 * loopback, with the fan-out table created from the same key definition the Terraform uses.
 * Data lives in memory, or on disk under `path`.
 *
 * dynalite has no UpdateTimeToLive: rows carry `expiresAt` as on AWS, and a sweeper (ttl.ts) deletes
 * them once expired, as DynamoDB's TTL does on AWS, every `ttlSweepIntervalMs`.
 */

/** How often expired rows are deleted by default: DynamoDB is lazy too ("typically within two days"). */
export const DEFAULT_TTL_SWEEP_INTERVAL_MS = 60_000;

interface DynaliteServer {
  listen(port: number, host: string, callback: (err?: Error) => void): void;
  close(callback: (err?: Error) => void): void;
  address(): AddressInfo | string | null;
  listeners(event: 'request'): ((req: IncomingMessage, res: ServerResponse) => void)[];
  removeAllListeners(event: 'request'): void;
  on(event: 'request', listener: (req: IncomingMessage, res: ServerResponse) => void): void;
}
type DynaliteFactory = (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  path?: string;
}) => DynaliteServer;

// dynalite is CommonJS without type declarations.
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export interface LocalDynamoDb {
  endpoint: string;
  port: number;
  tableName: string;
  /** Deletes the rows expired by now (what the TTL sweeper does every interval); resolves with the count. */
  sweepExpired(): Promise<number>;
  /** Faults injected into every call from now on (faults.ts); `undefined` clears them. */
  setFaults(faults: DynamoDbFaults | undefined): void;
  stop(): Promise<void>;
}

export async function startLocalDynamoDb(options: {
  tableName: string;
  region: string;
  host?: string;
  port?: number;
  path?: string;
  /** Time between TTL sweeps (default {@link DEFAULT_TTL_SWEEP_INTERVAL_MS}); `false`: only on demand. */
  ttlSweepIntervalMs?: number | false;
  /** Where a failed sweep is reported (it is tried again after the interval). */
  onSweepError?: (error: unknown) => void;
  /** Faults injected into every call (faults.ts); `setFaults` changes them later. */
  faults?: DynamoDbFaults;
}): Promise<LocalDynamoDb> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  // dynalite is a plain http.Server with one request listener: faults go in front of it.
  let faults = options.faults;
  const handlers = server.listeners('request');
  const [dynaliteHandler] = handlers;
  if (handlers.length !== 1 || !dynaliteHandler) {
    throw new Error(`dynalite has ${handlers.length} request listeners, expected 1: cannot inject faults`);
  }
  server.removeAllListeners('request');
  server.on(
    'request',
    withFaults(dynaliteHandler, () => faults),
  );
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) =>
    server.listen(options.port ?? 0, host, (err) => (err ? reject(err) : resolve())),
  );
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('dynalite did not report its port');
  const endpoint = `http://${host}:${address.port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const closeServer = () =>
    new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  try {
    await client.send(new CreateTableCommand(createTableInput(options.tableName)));
  } catch (err) {
    // A table kept on disk from an earlier run is fine.
    if (!(err instanceof Error && err.name === 'ResourceInUseException')) {
      client.destroy();
      await closeServer();
      throw err;
    }
  }
  const sweeper: TtlSweeper = startTtlSweeper({
    client,
    tableName: options.tableName,
    partitionKey: TABLE_KEY.partitionKey,
    sortKey: TABLE_KEY.sortKey,
    ttlAttribute: TABLE_KEY.ttlAttribute,
    intervalMs: options.ttlSweepIntervalMs ?? DEFAULT_TTL_SWEEP_INTERVAL_MS,
    ...(options.onSweepError ? { onError: options.onSweepError } : {}),
  });
  return {
    endpoint,
    port: address.port,
    tableName: options.tableName,
    sweepExpired: () => sweeper.sweep(),
    setFaults: (next) => {
      faults = next;
    },
    stop: async () => {
      await sweeper.stop();
      client.destroy();
      await closeServer();
    },
  };
}
