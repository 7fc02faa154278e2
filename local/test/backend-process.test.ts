/**
 * Starting `fanout backend` for `fanout dev --route-backend http` (local/dev/backend-process.ts): the
 * failures of its start, with fixture scripts in place of the bundle. Its success path, and its stop
 * on SIGTERM, run on the built bundle in test/integration/backend-http.test.ts.
 */
import { join } from 'node:path';
import { startBackendProcess } from '../dev/backend-process.js';
import type { LogEntry } from '../lambda/runner.js';

const fixture = (name: string) => join(__dirname, 'fixtures', name);

function options(bundle: string, logs: LogEntry[]) {
  return {
    bundlePath: fixture(bundle),
    name: 'fanout-test-backend',
    region: 'us-east-1',
    env: {},
    logSink: (entry: LogEntry) => logs.push(entry),
  };
}

describe('starting the local backend process', () => {
  it('rejects with the exit code and the last lines when the backend exits before listening', async () => {
    const logs: LogEntry[] = [];
    await expect(startBackendProcess(options('backend-exits.mjs', logs))).rejects.toThrow(
      /the backend exited with 1 before listening:\nfanout backend: configuration_invalid: TABLE_NAME/,
    );
    expect(logs).toContainEqual({
      functionName: 'fanout-test-backend',
      stream: 'stderr',
      line: 'fanout backend: configuration_invalid: TABLE_NAME is required but not set',
    });
  });

  it('rejects and kills the process when the backend does not listen in time', async () => {
    const logs: LogEntry[] = [];
    await expect(
      startBackendProcess({ ...options('backend-silent.mjs', logs), startTimeoutMs: 500 }),
    ).rejects.toThrow('the backend did not listen within 500 ms');
    // Its line was forwarded as it came; the rejection waited for the process to be gone.
    expect(logs.map((entry) => entry.line)).toContain('{"level":"INFO","message":"starting"}');
  });
});
