/**
 * Where a running fanout platform can be reached, as `fanout dev` writes it to `.fanout/local.json`
 * and as the CLI, the SDKs' examples and the tests read it. On AWS the same facts are the
 * Terraform outputs (`websocket_url`, `event_bus_name`, ...).
 */
export interface PlatformEndpoints {
  region: string;
  /** The WebSocket URL dashboards connect to (`?token=` is appended). */
  websocketUrl: string;
  /** The `@connections` API of the stage. */
  managementEndpoint: string;
  eventBridgeEndpoint: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  dashboardUrl?: string;
  /**
   * The WebSocket URL through a reverse proxy in front of the platform (`fanout dev --public-url`,
   * deploy/apache), when there is one: what browsers elsewhere connect to instead of `websocketUrl`.
   */
  publicWebsocketUrl?: string;
  eventBusName: string;
  tableName: string;
  queueUrl: string;
  dlqUrl: string;
  /** HS256 secret the local authorizer accepts (local only: production uses your identity provider). */
  jwtSecret: string;
  /** How to get a token, as a command line. */
  token: string;
  /**
   * The process id of the `fanout dev` that wrote the file: a file whose process is gone was left by
   * a platform that was killed, and names endpoints nothing listens on any more.
   */
  pid?: number;
}

/** The file `fanout dev` writes, relative to the directory it runs in. */
export const LOCAL_ENDPOINTS_FILE = '.fanout/local.json';

const REQUIRED: readonly (keyof PlatformEndpoints)[] = [
  'region',
  'websocketUrl',
  'managementEndpoint',
  'eventBridgeEndpoint',
  'sqsEndpoint',
  'dynamodbEndpoint',
  'eventBusName',
  'tableName',
  'queueUrl',
  'dlqUrl',
  'jwtSecret',
];

/** Parses the endpoints file's JSON; throws naming the first missing field. */
export function parseEndpoints(json: unknown, where = LOCAL_ENDPOINTS_FILE): PlatformEndpoints {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${where} is not a fanout endpoints file (run \`fanout dev\` to write a fresh one)`);
  }
  const record = json as Record<string, unknown>;
  const missing = REQUIRED.find((key) => typeof record[key] !== 'string');
  if (missing) {
    throw new Error(`${where} has no "${missing}" (run \`fanout dev\` to write a fresh one)`);
  }
  if (record.pid !== undefined && !(Number.isInteger(record.pid) && Number(record.pid) > 0)) {
    throw new Error(
      `${where} has a "pid" that is not a process id (run \`fanout dev\` to write a fresh one)`,
    );
  }
  return record as unknown as PlatformEndpoints;
}
