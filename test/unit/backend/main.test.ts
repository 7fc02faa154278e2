/**
 * `fanout backend` as a command (backend/main.ts, which `npx fanout backend` and the dist/backend
 * bundle run): usage, and configuration refused before anything listens. Its SIGTERM stop is shown
 * on the built bundle in test/integration/backend-http.test.ts.
 */
import { backendMain } from '../../../backend/main';
import { main } from '../../../sdk/cli/src/main';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

const PROOF = 'proof-0123456789abcdef0123456789abcdef';

describe('fanout backend, the command', () => {
  it('prints its usage with --help, naming the proof variable, and exits 0', async () => {
    const output = io();
    expect(await backendMain(['--help'], output.io, {})).toBe(0);
    expect(output.out.join('\n')).toContain('FANOUT_BACKEND_PROOF');
  });

  it('is reached through the fanout CLI, which passes --port and --host on and lists it in its help', async () => {
    const help = io();
    expect(await main(['backend', '--help'], help.io, {})).toBe(0);
    expect(help.out.join('\n')).toContain('FANOUT_BACKEND_PROOF');
    const run = io();
    expect(await main(['backend', '--port', 'http', '--host', '0.0.0.0'], run.io, {})).toBe(1);
    expect(run.err.join('\n')).toContain('--port must be an integer from 0 to 65535, got "http"');
  });

  it('refuses to start without its configuration, naming every missing variable once, and exits 1', async () => {
    const output = io();
    expect(await backendMain([], output.io, {})).toBe(1);
    expect(output.err).toEqual([
      'fanout backend: configuration_invalid: FANOUT_BACKEND_PROOF is required but not set; TABLE_NAME is required but not set; MANAGEMENT_ENDPOINT is required but not set; AWS_REGION is not set: the Lambda runtime sets it, a local runner must too',
    ]);
  });

  it('refuses a route setting out of the manifest’s range, as the function would', async () => {
    const output = io();
    const env = {
      FANOUT_BACKEND_PROOF: PROOF,
      TABLE_NAME: 't',
      MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9/x',
      AWS_REGION: 'us-east-1',
      MAX_SUBSCRIPTIONS: '100000',
    };
    expect(await backendMain(['--port', '0'], output.io, env)).toBe(1);
    expect(output.err.join('\n')).toContain(
      'MAX_SUBSCRIPTIONS must be an integer from 1 to 1000, got "100000"',
    );
  });

  it('answers an unknown flag as a usage error (exit 2)', async () => {
    const output = io();
    expect(await backendMain(['--proof', PROOF], output.io, {})).toBe(2);
    expect(output.err.join('\n')).toContain('fanout backend --help');
  });
});
