/**
 * No warning noise. On Node 20 the AWS SDK prints an 8-line NodeVersionSupportWarning the first time a
 * client is made in a process; the SDK's own switch (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED,
 * "January 2027: End of Support for Node.js 20.x in AWS SDK for JavaScript") turns it off. The CLI
 * sets it for itself and what it starts (`fanout dev` and its functions), jest.config.cjs for the
 * tests. Checked here with the SDK installed, so an SDK that renames the switch fails this test.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { killAll, runFanout, userEnv, WARNING_SWITCH } from '../../support/cli';
import { ROOT_DIR } from '../../support/platform';

const run = promisify(execFile);
/** The SDK warns on Node versions below 22 only. */
const warnsHere = Number(process.versions.node.split('.')[0]) < 22;

/** Makes an SDK client in a fresh Node process and returns what it printed on stderr. */
async function stderrOfNewClient(env: NodeJS.ProcessEnv): Promise<string> {
  const script =
    "const { SQSClient } = require('@aws-sdk/client-sqs'); new SQSClient({ region: 'us-east-1' });";
  const { stderr } = await run(process.execPath, ['-e', script], { cwd: ROOT_DIR, env });
  return stderr;
}

afterAll(killAll);

describe("the AWS SDK's Node-version warning", () => {
  it('is printed by a client made without the switch, and not with it', async () => {
    const [without, withSwitch] = await Promise.all([
      stderrOfNewClient(userEnv()),
      stderrOfNewClient(userEnv({ [WARNING_SWITCH]: 'true' })),
    ]);
    expect(without.includes('NodeVersionSupportWarning')).toBe(warnsHere);
    expect(withSwitch).toBe('');
  });

  it('is set for every test by jest.config.cjs', () => {
    expect(process.env[WARNING_SWITCH]).toBe('true');
  });

  it('is not printed by the fanout bin, from a shell without the switch: only the failure and its code', async () => {
    const args = ['publish', '--topic', 'a', '--data', '1', '--bus', 'b', '--region', 'us-east-1'];
    const env = userEnv({
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_MAX_ATTEMPTS: '1',
      // Nothing listens on port 9 of loopback: the publish fails at once.
      AWS_ENDPOINT_URL_EVENTBRIDGE: 'http://127.0.0.1:9',
    });
    const failure = runFanout(args, { env });
    expect(await failure.exit()).toBe(1);
    expect(failure.stdout()).toBe('');
    expect(failure.stderr()).toMatch(/^fanout publish: publish_failed: .*ECONNREFUSED.*\n$/);
  }, 30_000);
});
