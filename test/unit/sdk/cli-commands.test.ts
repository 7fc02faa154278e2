/**
 * The command line as the table in sdk/cli/src/spec.ts describes it: the help lists every option the
 * parser accepts, required options are required, every failure has a stable code; `token` refuses
 * patterns the authorizer would drop; `publish` takes its payload from a file or stdin; and a
 * `.fanout/local.json` left by a killed platform is reported as such.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { main } from '@fanout/cli';
import * as local from '@fanout/local';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeJwt } from 'jose';
import type { LocalRuntime } from '../../../sdk/cli/src/dev';
import { COMMAND_ERROR_CODES, USAGE_ERROR_CODES } from '../../../sdk/cli/src/errors';
import { commandHelp, fullHelp } from '../../../sdk/cli/src/help';
import { COMMANDS, camelCase } from '../../../sdk/cli/src/spec';

const eventBridge = mockClient(EventBridgeClient);
const SECRET = 'cli-test-secret-0123456789abcdef0123';
/** The local runtime satisfies what the CLI asks of it (checked by `make typecheck`). */
const runtime: LocalRuntime = local;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

/** An endpoints file as `fanout dev` writes it, with the given process id. */
function localConfigFile(pid?: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fanout-cli-')), 'local.json');
  writeFileSync(
    file,
    JSON.stringify({
      region: 'us-east-1',
      websocketUrl: 'ws://127.0.0.1:9/local',
      managementEndpoint: 'http://127.0.0.1:9/local',
      eventBridgeEndpoint: 'http://127.0.0.1:9/',
      sqsEndpoint: 'http://127.0.0.1:9/',
      dynamodbEndpoint: 'http://127.0.0.1:9/',
      eventBusName: 'fanout-local',
      tableName: 'fanout-local-connections',
      queueUrl: 'http://127.0.0.1:9/000000000000/fanout-local',
      dlqUrl: 'http://127.0.0.1:9/000000000000/fanout-local-dlq',
      jwtSecret: SECRET,
      token: 'npx fanout token',
      ...(pid === undefined ? {} : { pid }),
    }),
  );
  return file;
}

/** The id of a process that has exited: what a killed `fanout dev` leaves in its file. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid ?? 0;
  await new Promise((done) => child.once('exit', done));
  return pid;
}

beforeEach(() => eventBridge.reset());

describe('the command table', () => {
  const options = COMMANDS.flatMap((spec) => spec.options.map((option) => ({ spec, option })));

  it('has its every option in `fanout help` and in the command’s own --help', () => {
    const help = fullHelp('0.0.0');
    for (const { spec, option } of options) {
      const flag = `--${option.name}${option.value ? ` ${option.value}` : ''}`;
      expect({ command: spec.name, help: help.includes(`    ${flag} `) }).toEqual({
        command: spec.name,
        help: true,
      });
      expect({ command: spec.name, own: commandHelp(spec).includes(flag) }).toEqual({
        command: spec.name,
        own: true,
      });
    }
    for (const spec of COMMANDS) expect(help).toContain(`  ${spec.name} `);
  });

  it.each(options.map(({ spec, option }) => [spec.name, option.name, option]))(
    'lets `fanout %s` take --%s, as the help says',
    async (command, name, option) => {
      const { io, out, err } = capture();
      const value = option.type === 'string' ? ['x'] : [];
      // --help stops before the command runs: what is checked is that the parser knows the option.
      expect(await main([...command.split(' '), `--${name}`, ...value, '--help'], io, {})).toBe(0);
      expect(err).toEqual([]);
      expect(out.join('\n')).toContain(`fanout ${command}`);
    },
  );

  it('hands `fanout dev` exactly the options the local runtime takes', () => {
    const dev = COMMANDS.find((spec) => spec.name === 'dev');
    expect(dev?.options.map((option) => camelCase(option.name)).sort()).toEqual(
      [...local.DEV_OPTION_KEYS].sort(),
    );
    expect(typeof runtime.devCommand).toBe('function');
  });

  it('refuses an option no command has, naming the command and pointing at its help', async () => {
    const { io, err } = capture();
    expect(await main(['token', '--sub', 'a', '--colour', 'red'], io, {})).toBe(2);
    expect(err).toEqual([
      "fanout token: unknown_option: Unknown option '--colour'",
      'run `fanout token --help` for usage',
    ]);
  });

  it('prints the version it is given for --version, and help for --help', async () => {
    const version = capture();
    expect(await main(['--version'], version.io, {}, { version: '1.2.3' })).toBe(0);
    expect(version.out).toEqual(['1.2.3']);
    const help = capture();
    expect(await main(['--help'], help.io, {}, { version: '1.2.3' })).toBe(0);
    expect(help.out[0]).toMatch(/^fanout 1\.2\.3 — /);
    const one = capture();
    expect(await main(['help', 'dlq', 'show'], one.io, {})).toBe(0);
    expect(one.out[0]).toMatch(/^ {2}fanout dlq show ID /);
    for (const argv of [
      ['help', 'dlq'],
      ['dlq', '--help'],
    ]) {
      const group = capture();
      expect(await main(argv, group.io, {})).toBe(0);
      expect(group.out[0]).toContain('  fanout dlq list [--json]');
      expect(group.out[0]).toContain('  fanout dlq redrive [ID...]');
    }
  });
});

describe('required options and arguments', () => {
  it.each([
    [['publish', '--topic', 'a'], 'missing_option', 'publish needs --data JSON or --data-file FILE'],
    [['publish', '--data', '1'], 'missing_option', 'publish needs --topic TOPIC or --user USER'],
    [
      ['publish', '--topic', 'a', '--data', '1', '--data-file', 'f'],
      'conflicting_options',
      '--data, --data-file',
    ],
    [['token', '--topics', 'demo/*'], 'missing_option', 'token needs --sub USER'],
    [['tail'], 'missing_argument', 'tail needs PATTERN'],
    [['dlq', 'show'], 'missing_argument', 'dlq show needs ID'],
    [['help', 'frobnicate'], 'unknown_command', 'unknown command "frobnicate"'],
    [[], 'missing_argument', 'no command given'],
    [
      ['token', '--sub', 'a', '--ttl', 'soon', '--secret', SECRET],
      'invalid_value',
      '"soon" is not a duration',
    ],
  ])('refuses `fanout %j` with exit 2, the code and a hint', async (argv, code, message) => {
    const { io, err } = capture();
    expect(await main(argv, io, {})).toBe(2);
    expect(err[0]).toMatch(new RegExp(`^fanout( [a-z]+)?: ${code}: `));
    expect(err[0]).toContain(message);
    expect(err[1]).toMatch(/^run `fanout ([a-z ]+ --help|help)` for usage$/);
  });
});

describe('fanout token', () => {
  it.each([
    ['orders/**', 'may only use * as a whole last segment'],
    ['orders//eu', 'has an empty segment'],
    ['*/eu', 'may only use * as a whole last segment'],
    ['orders eu', 'segment "orders eu" may only contain'],
    ['', 'must not be empty'],
  ])('refuses the pattern %j, as the authorizer would drop it', async (pattern, problem) => {
    const { io, out, err } = capture();
    expect(
      await main(['token', '--sub', 'alice', '--topics', `demo/*,${pattern}`], io, {
        FANOUT_JWT_SECRET: SECRET,
      }),
    ).toBe(pattern === '' ? 0 : 2);
    if (pattern === '') {
      // An empty entry of a comma-separated list is no entry.
      expect(decodeJwt(out[0] ?? '').topics).toEqual(['demo/*']);
      return;
    }
    expect(err[0]).toMatch(
      new RegExp(
        `^fanout token: invalid_pattern: "${pattern.replace(/[*.]/g, '\\$&')}" is not a topic pattern: it `,
      ),
    );
    expect(err[0]).toContain(problem);
    expect(err[0]).toContain('(a pattern is a topic, prefix/*, or *)');
  });

  it('refuses {sub} for a user id that is not one topic segment, and takes it for one that is', async () => {
    const bad = capture();
    const env = { FANOUT_JWT_SECRET: SECRET };
    expect(await main(['token', '--sub', 'bob/x', '--topics', 'users/{sub}/*'], bad.io, env)).toBe(2);
    expect(bad.err[0]).toContain(
      'invalid_pattern: "users/{sub}/*" uses {sub}, which needs a --sub that is one topic segment',
    );
    const good = capture();
    expect(await main(['token', '--sub', 'bob', '--topics', 'users/{sub}/*,*'], good.io, env)).toBe(0);
    expect(decodeJwt(good.out[0] ?? '').topics).toEqual(['users/{sub}/*', '*']);
  });

  it('still mints from a file whose platform is gone: with --data-dir its secret outlives it', async () => {
    const { io, out } = capture();
    expect(await main(['token', '--sub', 'bob', '--config', localConfigFile(await deadPid())], io, {})).toBe(
      0,
    );
    expect(decodeJwt(out[0] ?? '').sub).toBe('bob');
  });
});

describe('fanout publish payloads', () => {
  const published = () => {
    const input = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input;
    return JSON.parse(input?.Entries?.[0]?.Detail ?? '{}') as { data?: unknown };
  };

  it('reads --data-file, for a payload longer than a command line may be', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-f' }] });
    const data = { rows: Array.from({ length: 2000 }, (_, i) => ({ i, text: 'x'.repeat(40) })) };
    const file = join(mkdtempSync(join(tmpdir(), 'fanout-data-')), 'payload.json');
    writeFileSync(file, JSON.stringify(data));
    const { io, out } = capture();
    const args = [
      'publish',
      '--topic',
      'demo/big',
      '--data-file',
      file,
      '--config',
      localConfigFile(process.pid),
    ];
    expect(await main(args, io, {})).toBe(0);
    expect(out[0]).toContain('published ev-f');
    expect(published().data).toEqual(data);
  });

  it('reads `--data -` from stdin', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-s' }] });
    const { io } = capture();
    const stdin = Readable.from([Buffer.from('{"from":'), Buffer.from('"stdin"}\n')]);
    const args = ['publish', '--topic', 'demo/in', '--data', '-', '--config', localConfigFile()];
    expect(await main(args, io, {}, { stdin })).toBe(0);
    expect(published().data).toEqual({ from: 'stdin' });
  });

  it('refuses a payload that is not JSON with invalid_data, and a file it cannot read with data_file_unreadable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-data-'));
    writeFileSync(join(dir, 'bad.json'), '{"a":');
    const bad = capture();
    expect(
      await main(['publish', '--topic', 'a', '--data-file', join(dir, 'bad.json'), '--bus', 'b'], bad.io, {}),
    ).toBe(2);
    expect(bad.err[0]).toMatch(
      /^fanout publish: invalid_data: --data-file \S+bad\.json must be JSON \(.+\), got \{"a":$/,
    );
    const empty = capture();
    const stdin = Readable.from([]);
    expect(
      await main(['publish', '--topic', 'a', '--data', '-', '--bus', 'b'], empty.io, {}, { stdin }),
    ).toBe(2);
    expect(empty.err[0]).toContain('invalid_data: the JSON on stdin (--data -) must be JSON');
    expect(empty.err[0]).toContain('got nothing');
    const missing = capture();
    expect(
      await main(
        ['publish', '--topic', 'a', '--data-file', join(dir, 'nope.json'), '--bus', 'b'],
        missing.io,
        {},
      ),
    ).toBe(1);
    expect(missing.err).toEqual([
      `fanout publish: data_file_unreadable: cannot read ${join(dir, 'nope.json')} (ENOENT)`,
    ]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('reports missing AWS credentials with no_credentials', async () => {
    eventBridge.on(PutEventsCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const { io, err } = capture();
    expect(
      await main(
        ['publish', '--aws', '--bus', 'b', '--region', 'eu-west-1', '--topic', 'a', '--data', '1'],
        io,
        {},
      ),
    ).toBe(1);
    expect(err[0]).toMatch(/^fanout publish: no_credentials: no AWS credentials to publish to b: /);
  });
});

describe('a .fanout/local.json left by a platform that is gone', () => {
  it.each([[['publish', '--topic', 'a', '--data', '1']], [['tail', 'demo/*']], [['dlq', 'list']]])(
    'is reported by `fanout %j` as config_stale, not as a refused connection',
    async (argv) => {
      const pid = await deadPid();
      const file = localConfigFile(pid);
      const { io, err } = capture();
      expect(await main([...argv, '--config', file], io, {})).toBe(1);
      expect(err).toEqual([
        `fanout ${argv[0]}: config_stale: ${file} was left by a \`fanout dev\` (process ${pid}) that is no longer running: start it again (\`make dev\`), or delete the file`,
      ]);
      expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
    },
  );

  it('is used while the process it names runs, even one of another user (EPERM)', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] });
    const { io, out } = capture();
    expect(
      await main(['publish', '--topic', 'a', '--data', '1', '--config', localConfigFile(1)], io, {}),
    ).toBe(0);
    expect(out[0]).toBe('published ev-1 to fanout-local at http://127.0.0.1:9/');
  });

  it('is refused when its pid is not a process id', async () => {
    const file = localConfigFile(-4);
    const { io, err } = capture();
    expect(await main(['publish', '--topic', 'a', '--data', '1', '--config', file], io, {})).toBe(1);
    expect(err[0]).toContain('config_invalid: ');
    expect(err[0]).toContain('has a "pid" that is not a process id');
  });
});

describe('fanout tail, before it connects', () => {
  it.each([
    [['tail', 'demo/**'], 2, 'invalid_pattern: "demo/**" is not a topic pattern'],
    [
      ['tail', 'demo/*', '--token', 't', '--user', 'bob'],
      2,
      'conflicting_options: --user names the user of a token tail mints',
    ],
    [['tail', 'demo/*', '--config', '/nonexistent/local.json'], 1, 'config_not_found: '],
    [
      ['tail', 'demo/*', '--url', 'wss://example.invalid/live', '--config', '/nonexistent'],
      1,
      'config_not_found',
    ],
  ])('refuses `fanout %j`', async (argv, exit, message) => {
    const { io, err } = capture();
    expect(await main(argv, io, {})).toBe(exit);
    expect(err[0]).toContain(message);
  });

  it('needs a token for a --url of its own, and a platform or a --url without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-tail-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const nothing = capture();
      expect(await main(['tail', 'demo/*'], nothing.io, {})).toBe(2);
      expect(nothing.err[0]).toContain(
        'missing_option: no local platform (.fanout/local.json): start `make dev`, or pass --url',
      );
      const bare = capture();
      expect(await main(['tail', 'demo/*', '--url', 'wss://example.invalid/live'], bare.io, {})).toBe(2);
      expect(bare.err[0]).toBe(
        'fanout tail: missing_option: --url wss://example.invalid/live needs --token JWT (or FANOUT_TOKEN)',
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it('fails with connect_failed when nothing answers at the URL, and exits', async () => {
    const { io, err } = capture();
    const stop = new Promise<string>(() => {});
    const argv = ['tail', 'demo/*', '--url', 'ws://127.0.0.1:9/local', '--token', 'x.y.z'];
    expect(await main(argv, io, {}, { stop })).toBe(1);
    expect(err[0]).toBe(
      'fanout tail: connect_failed: could not connect to ws://127.0.0.1:9/local (is the platform running, and the token valid?)',
    );
  });
});

describe('the stable codes', () => {
  it('are each listed in sdk/cli/README.md, with those of `fanout dev`', () => {
    const readme = readFileSync(join(__dirname, '../../../sdk/cli/README.md'), 'utf8');
    const missing = [...USAGE_ERROR_CODES, ...COMMAND_ERROR_CODES, ...local.DEV_ERROR_CODES].filter(
      (code) => !readme.includes(`\`${code}\``),
    );
    expect(missing).toEqual([]);
  });
});
