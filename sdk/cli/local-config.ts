import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * `.fanout/local.json`: written by `fanout dev`, read by the CLI, SDKs and tests to find the local
 * platform's endpoints.
 */
export interface LocalConfig {
  region: string;
  websocketUrl: string;
  managementEndpoint: string;
  eventBridgeEndpoint: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  dashboardUrl?: string;
  eventBusName: string;
  tableName: string;
  queueUrl: string;
  dlqUrl: string;
  /** HS256 secret the local authorizer accepts (local only: production uses your identity provider). */
  jwtSecret: string;
  /** How to get a token, as a command line. */
  token: string;
}

export const DEFAULT_LOCAL_CONFIG = '.fanout/local.json';

export function readLocalConfig(path = DEFAULT_LOCAL_CONFIG): LocalConfig | undefined {
  const file = resolve(path);
  if (!existsSync(file)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (
    !parsed ||
    typeof parsed !== 'object' ||
    !('eventBridgeEndpoint' in parsed) ||
    !('jwtSecret' in parsed)
  ) {
    throw new Error(`${file} is not a fanout local config (run \`fanout dev\` to write a fresh one)`);
  }
  return parsed as LocalConfig;
}
