import { ConfigError, isConfigError } from '../config.js';
import { PROOF_PATTERN } from './contract.js';
import { DEFAULT_INTEGRATION_TIMEOUT_MS } from './server.js';

/**
 * The backend's own settings. The routes' settings (table, limits, history, recovery) are the
 * functions' own, read with functionEnvironment from the same environment and the same manifest
 * (backend/main.ts), so a backend and the Lambda routes it replaces run with one configuration.
 */
export interface BackendSettings {
  /** The shared secret the integrations send in PROOF_HEADER. */
  proof: string;
  host: string;
  port: number;
  integrationTimeoutMs: number;
}

/** What each setting is read from; flags (`--port`, `--host`) win over the environment. */
export const BACKEND_VARIABLES = {
  proof: 'FANOUT_BACKEND_PROOF',
  host: 'FANOUT_BACKEND_HOST',
  port: 'FANOUT_BACKEND_PORT',
  integrationTimeoutMs: 'FANOUT_BACKEND_INTEGRATION_TIMEOUT_MS',
} as const;

export const DEFAULT_BACKEND_PORT = 8080;

type Env = Readonly<Record<string, string | undefined>>;

function integer(text: string, what: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new ConfigError(`${what} must be an integer from ${min} to ${max}, got "${text.slice(0, 32)}"`);
  }
  return value;
}

/**
 * The settings from `env` and the flags; throws a ConfigError naming every bad one. The proof is
 * read from the environment only: a command line is visible to every user of the host (`ps`).
 */
export function readBackendSettings(env: Env, flags: { host?: string; port?: string } = {}): BackendSettings {
  const problems: string[] = [];
  const attempt = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (err) {
      if (!isConfigError(err)) throw err;
      problems.push(err.message);
      return fallback;
    }
  };
  const proof = attempt(() => {
    const value = env[BACKEND_VARIABLES.proof];
    if (!value) throw new ConfigError(`${BACKEND_VARIABLES.proof} is required but not set`);
    // Never the value in the message: it is the secret.
    if (!PROOF_PATTERN.test(value)) {
      throw new ConfigError(
        `${BACKEND_VARIABLES.proof} must be 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = - (${value.length} characters given)`,
      );
    }
    return value;
  }, '');
  const portText = flags.port ?? env[BACKEND_VARIABLES.port]?.trim();
  const port = attempt(
    () =>
      portText
        ? integer(portText, flags.port !== undefined ? '--port' : BACKEND_VARIABLES.port, 0, 65_535)
        : DEFAULT_BACKEND_PORT,
    0,
  );
  const host = (flags.host ?? env[BACKEND_VARIABLES.host]?.trim()) || '127.0.0.1';
  const timeoutText = env[BACKEND_VARIABLES.integrationTimeoutMs]?.trim();
  // API Gateway's integration timeout: 50 ms to 29 s ("Amazon API Gateway quotas").
  const integrationTimeoutMs = attempt(
    () =>
      timeoutText
        ? integer(timeoutText, BACKEND_VARIABLES.integrationTimeoutMs, 50, DEFAULT_INTEGRATION_TIMEOUT_MS)
        : DEFAULT_INTEGRATION_TIMEOUT_MS,
    0,
  );
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return { proof, host, port, integrationTimeoutMs };
}
