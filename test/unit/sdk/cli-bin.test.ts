/**
 * The installed entry point, sdk/cli/bin/fanout.mjs, in a child process: it reports the package's own
 * version, and a usage failure is exactly two lines on stderr (the code, then the hint) with exit 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFanout } from '../../support/cli';
import { ROOT_DIR } from '../../support/platform';

it('prints the version of package.json for --version, and a usage failure as its code and a hint', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT_DIR, 'sdk/cli/package.json'), 'utf8')) as {
    version: string;
  };
  const versionRun = runFanout(['--version']);
  const usage = runFanout(['publish', '--topic', 'demo/x']);
  const [versionExit, usageExit] = await Promise.all([versionRun.exit(), usage.exit()]);
  expect({ exit: versionExit, stdout: versionRun.stdout(), stderr: versionRun.stderr() }).toEqual({
    exit: 0,
    stdout: `${version}\n`,
    stderr: '',
  });
  expect({ exit: usageExit, stdout: usage.stdout(), stderr: usage.stderr() }).toEqual({
    exit: 2,
    stdout: '',
    stderr:
      'fanout publish: missing_option: publish needs --data JSON or --data-file FILE\nrun `fanout publish --help` for usage\n',
  });
}, 30_000);
