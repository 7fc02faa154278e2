import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Output } from './commands.js';
import type { DlqSubcommand } from './dlq.js';
import { CommandError, UsageError } from './errors.js';
import { commandHelp, fullHelp } from './help.js';
import { COMMANDS, COMMON_OPTIONS, type CommandSpec, camelCase, findCommand } from './spec.js';

// Each command's module is imported when it runs: the AWS SDK clients and the WebSocket client take
// a while to load, and help, --version and a usage error need none of them.

const consoleOutput: Output = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** What a command may need besides its arguments; the bin passes the real ones, tests their own. */
export interface Context {
  /** The package's version, for `--version` and the help (the bin reads package.json). */
  version?: string;
  /** Where `--data -` reads from. */
  stdin?: NodeJS.ReadableStream;
  /** Resolves when a long-running command (`tail`) should stop; default: SIGINT or SIGTERM. */
  stop?: Promise<string>;
}

/** What parseArgs gives a command, with camelCase keys: `--data-file` is `dataFile`. */
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * Runs one `fanout` command and resolves with its exit code: 0 done, 1 failed, 2 usage error.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(
  argv: readonly string[],
  io: Output = consoleOutput,
  env = process.env,
  context: Context = {},
): Promise<number> {
  const version = context.version ?? 'unknown';
  const [first] = argv;
  if (first === '--version' || first === '-V') {
    io.out(version);
    return 0;
  }
  if (first === '--help' || first === '-h') {
    io.out(fullHelp(version));
    return 0;
  }
  // `fanout dlq --help`: the help of every dlq subcommand.
  if (first === 'dlq' && (argv[1] === '--help' || argv[1] === '-h')) {
    io.out(groupHelp('dlq'));
    return 0;
  }
  const found = findCommand(argv);
  const name = found?.spec.name ?? first ?? '';
  try {
    if (!found) {
      if (first === undefined) io.out(fullHelp(version));
      throw unknownCommand(argv);
    }
    const { spec } = found;
    const { values, positionals } = parse(spec, argv.slice(found.words));
    if (values.help === true) {
      io.out(commandHelp(spec));
      return 0;
    }
    check(spec, values, positionals);
    return await run(spec, values, positionals, env, io, version, context);
  } catch (err) {
    return report(err, name, found !== undefined, io);
  }
}

/** The help of every command whose first word is `word` (`dlq` → list, show, redrive). */
const groupHelp = (word: string): string =>
  COMMANDS.filter((spec) => spec.name.startsWith(`${word} `))
    .map(commandHelp)
    .join('\n\n');

/** `list, show, redrive`: the table's `dlq …` commands. */
const dlqSubcommands = (): string =>
  COMMANDS.filter((spec) => spec.name.startsWith('dlq '))
    .map((spec) => spec.name.slice(4))
    .join(', ');

function unknownCommand(argv: readonly string[]): UsageError {
  const [first, second] = argv;
  if (first === undefined) return new UsageError('missing_argument', 'no command given');
  if (first === 'dlq') {
    const subcommands = dlqSubcommands();
    return new UsageError(
      second === undefined ? 'missing_argument' : 'unknown_command',
      second === undefined
        ? `dlq needs a subcommand: ${subcommands}`
        : `unknown dlq subcommand "${second}" (use ${subcommands})`,
    );
  }
  const names = [...new Set(COMMANDS.map((spec) => spec.name.split(' ')[0]))];
  return new UsageError('unknown_command', `unknown command "${first}" (the commands: ${names.join(', ')})`);
}

/** parseArgs' own errors, by their ERR_PARSE_ARGS_* code, as ours. */
const PARSE_ERRORS: Record<string, UsageError['code']> = {
  ERR_PARSE_ARGS_UNKNOWN_OPTION: 'unknown_option',
  ERR_PARSE_ARGS_INVALID_OPTION_VALUE: 'invalid_value',
  ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL: 'unexpected_argument',
};

function parse(spec: CommandSpec, args: readonly string[]): { values: Values; positionals: string[] } {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const option of [...spec.options, ...COMMON_OPTIONS]) {
    options[option.name] = { type: option.type, ...(option.multiple ? { multiple: true } : {}) };
  }
  try {
    // Positionals are checked against the table by check(), with a message naming the command.
    const parsed = parseArgs({ args: [...args], options, allowPositionals: true });
    const values: Values = {};
    for (const [key, value] of Object.entries(parsed.values)) values[camelCase(key)] = value;
    return { values, positionals: parsed.positionals };
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
    const ours = PARSE_ERRORS[code];
    if (ours === undefined) throw err;
    const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : '';
    // parseArgs goes on about `--` for positionals that start with a dash; the help is more use.
    throw new UsageError(ours, message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** What the table says a command needs: required options, one of a group, its argument. */
function check(spec: CommandSpec, values: Values, positionals: readonly string[]): void {
  const given = (name: string) => values[camelCase(name)] !== undefined;
  const flags = (names: readonly string[]) =>
    names
      .map((name) => spec.options.find((option) => option.name === name))
      .map((option) => (option?.value ? `--${option.name} ${option.value}` : `--${option?.name}`))
      .join(' or ');
  for (const option of spec.options) {
    if (option.required && !given(option.name)) {
      throw new UsageError(
        'missing_option',
        `${spec.name} needs --${option.name}${option.value ? ` ${option.value}` : ''}: ${option.help}`,
      );
    }
  }
  for (const names of spec.anyOf ?? []) {
    if (!names.some(given)) throw new UsageError('missing_option', `${spec.name} needs ${flags(names)}`);
  }
  for (const names of spec.oneOf ?? []) {
    const present = names.filter(given);
    if (present.length === 0) throw new UsageError('missing_option', `${spec.name} needs ${flags(names)}`);
    if (present.length > 1) {
      throw new UsageError(
        'conflicting_options',
        `${spec.name} takes one of ${present.map((n) => `--${n}`).join(', ')}, not several`,
      );
    }
  }
  const argument = spec.argument;
  if (!argument && positionals.length > 0) {
    throw new UsageError(
      'unexpected_argument',
      `${spec.name} takes no arguments, got ${positionals.join(' ')}${spec.name === 'dlq list' ? ' (`fanout dlq show ID` shows one letter)' : ''}`,
    );
  }
  if (argument?.required && positionals.length === 0) {
    throw new UsageError('missing_argument', `${spec.name} needs ${argument.name} (${argument.help})`);
  }
  if (argument && !argument.variadic && positionals.length > 1) {
    throw new UsageError(
      'unexpected_argument',
      `${spec.name} takes one ${argument.name}, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map(String) : undefined);
const flag = (v: unknown): boolean => v === true;

async function run(
  spec: CommandSpec,
  values: Values,
  positionals: string[],
  env: NodeJS.ProcessEnv,
  io: Output,
  version: string,
  context: Context,
): Promise<number> {
  const [command, subcommand] = spec.name.split(' ');
  switch (command) {
    case 'dev': {
      const { runDev } = await import('./dev.js');
      return runDev(
        {
          port: text(values.port),
          dashboardPort: text(values.dashboardPort),
          noDashboard: flag(values.noDashboard),
          dataDir: text(values.dataDir),
          secret: text(values.secret),
          verbose: flag(values.verbose),
          trustedProxy: list(values.trustedProxy),
          publicUrl: text(values.publicUrl),
          maxConnectionSeconds: text(values.maxConnectionSeconds),
          routeBackend: text(values.routeBackend),
        },
        io,
      );
    }
    case 'backend': {
      const { runBackend } = await import('./dev.js');
      return runBackend({ port: text(values.port), host: text(values.host) }, io);
    }
    case 'token': {
      const { tokenCommand } = await import('./commands.js');
      return tokenCommand(
        {
          sub: text(values.sub),
          topics: list(values.topics),
          ttl: text(values.ttl),
          secret: text(values.secret),
          issuer: text(values.issuer),
          audience: text(values.audience),
          config: text(values.config),
        },
        env,
        io,
      );
    }
    case 'publish': {
      const { publishCommand } = await import('./commands.js');
      return publishCommand(
        {
          topic: list(values.topic),
          user: list(values.user),
          data: text(values.data),
          dataFile: text(values.dataFile),
          source: text(values.source),
          detailType: text(values.detailType),
          bus: text(values.bus),
          region: text(values.region),
          endpoint: text(values.endpoint),
          expiresIn: text(values.expiresIn),
          config: text(values.config),
          aws: flag(values.aws),
        },
        env,
        io,
        context.stdin ?? process.stdin,
      );
    }
    case 'tail': {
      const { tailCommand } = await import('./tail.js');
      return tailCommand(
        positionals,
        {
          json: flag(values.json),
          url: text(values.url),
          token: text(values.token),
          user: text(values.user),
          config: text(values.config),
        },
        env,
        io,
        context.stop ?? stopSignal(),
      );
    }
    case 'inspect': {
      const { inspectCommand } = await import('./inspect.js');
      return inspectCommand(
        {
          json: flag(values.json),
          aws: flag(values.aws),
          config: text(values.config),
          terraformDir: text(values.terraformDir),
          region: text(values.region),
        },
        env,
        io,
      );
    }
    case 'dlq': {
      const { dlqCommand } = await import('./dlq.js');
      return dlqCommand(
        subcommand as DlqSubcommand,
        positionals,
        {
          config: text(values.config),
          aws: flag(values.aws),
          events: flag(values.events),
          queueUrl: text(values.queueUrl),
          dlqUrl: text(values.dlqUrl),
          terraformDir: text(values.terraformDir),
          region: text(values.region),
          endpoint: text(values.endpoint),
          limit: text(values.limit),
          json: flag(values.json),
          all: flag(values.all),
          reason: text(values.reason),
        },
        env,
        io,
      );
    }
    default: {
      // help
      if (positionals.length === 0) {
        io.out(fullHelp(version));
        return 0;
      }
      const target = findCommand(positionals);
      if (!target && positionals.length === 1 && positionals[0] === 'dlq') {
        io.out(groupHelp('dlq'));
        return 0;
      }
      if (!target) throw unknownCommand(positionals);
      io.out(commandHelp(target.spec));
      return 0;
    }
  }
}

/** The first SIGINT or SIGTERM, by name; the handlers are removed once it comes. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

/**
 * Prints a failure as `fanout <command>: <code>: <message>`, and the exit code: 2 for a command line
 * that cannot run (with a hint to the command's help), 1 for a command that failed. An error from
 * the local runtime carries its own `code` (and `usage` when the command line is at fault); anything
 * else is `<command>_failed`.
 */
function report(err: unknown, command: string, known: boolean, io: Output): number {
  const message =
    typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
  const own = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  const usage =
    err instanceof UsageError ||
    (typeof err === 'object' && err !== null && 'usage' in err && err.usage === true);
  const code =
    err instanceof UsageError || err instanceof CommandError
      ? err.code
      : typeof own === 'string' && /^[a-z][a-z_]*$/.test(own)
        ? own
        : `${command.split(' ')[0] || 'fanout'}_failed`;
  // Prefixed by the command's first word: `fanout dlq: letter_not_found: …` for every dlq subcommand.
  const prefix = command.split(' ')[0];
  io.err(`fanout${prefix ? ` ${prefix}` : ''}: ${code}: ${message}`);
  if (usage) io.err(known ? `run \`fanout ${command} --help\` for usage` : 'run `fanout help` for usage');
  return usage ? 2 : 1;
}
