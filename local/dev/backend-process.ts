import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { FunctionName } from '../../shared/deployment/manifest.js';
import type { LogSink, LogStream } from '../lambda/runner.js';

/**
 * `fanout backend` for `fanout dev --route-backend http`: the built bundle (dist/backend/index.mjs)
 * in a process of its own, as a container runs it, with the route functions' environment and a
 * fresh proof secret. Its log lines go to the platform's log sink under `<name>`.
 */

/** The functions the backend replaces; the authorizer and the fan-out stay Lambda. */
export const ROUTE_FUNCTIONS = [
  'connect',
  'default',
  'disconnect',
  'subscribe',
  'unsubscribe',
] as const satisfies readonly FunctionName[];

export interface LocalBackend {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The secret the integrations send in PROOF_HEADER (tests forge calls without it). */
  proof: string;
  pid: number;
  /** Resolves with the exit code once the process has exited (null when a signal ended it). */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the process to finish its calls and exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export interface BackendProcessOptions {
  bundlePath: string;
  /** The name its log lines carry, like a function's. */
  name: string;
  region: string;
  /** The route functions' variables and the endpoints of the local stand-ins. */
  env: Record<string, string>;
  logSink: LogSink;
  startTimeoutMs?: number;
}

export async function startBackendProcess(options: BackendProcessOptions): Promise<LocalBackend> {
  const proof = randomBytes(32).toString('base64url');
  const child = spawn(process.execPath, [options.bundlePath, '--port', '0', '--host', '127.0.0.1'], {
    // Nothing of the developer's environment: the backend sees what a container would be given.
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: options.region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...options.env,
      FANOUT_BACKEND_PROOF: proof,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close', not 'exit': it comes after the output is read, so a failed start reports its last lines.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const lines: string[] = [];
  const listening = new Promise<string>((resolve, reject) => {
    const forward = (stream: LogStream) => (line: string) => {
      lines.push(line);
      options.logSink({ functionName: options.name, stream, line });
      if (stream !== 'stdout') return;
      try {
        const parsed = JSON.parse(line) as { message?: unknown; url?: unknown };
        if (parsed.message === 'listening' && typeof parsed.url === 'string') resolve(parsed.url);
      } catch {
        // not a log line: forwarded as it is
      }
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', forward('stdout'));
    if (child.stderr) createInterface({ input: child.stderr }).on('line', forward('stderr'));
    void exited.then((code) =>
      reject(new Error(`the backend exited with ${code} before listening:\n${lines.slice(-10).join('\n')}`)),
    );
  });
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the backend did not listen within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const url = await Promise.race([listening, timedOut]);
    return { url, proof, pid: child.pid ?? 0, exited, stop: (graceMs) => stop(child, exited, graceMs) };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function stop(child: ChildProcess, exited: Promise<number | null>, graceMs = 35_000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
