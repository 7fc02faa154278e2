import { parseArgs } from 'node:util';
import { type Output, publishCommand, tokenCommand, UsageError } from './commands.js';
import { runDev } from './dev.js';

const HELP = `fanout — event-driven WebSocket fan-out

Usage:
  fanout dev     [--port 4510] [--dashboard-port 4500] [--no-dashboard] [--data-dir DIR] [--verbose]
                 [--secret S] [--trusted-proxy ADDR|CIDR]... [--public-url wss://HOST/PATH]
  fanout token   --sub USER --topics PATTERNS [--ttl 1h] [--secret S]
  fanout publish --topic TOPIC [--user USER] --data JSON [--source S] [--detail-type T]
                 [--bus NAME] [--region R] [--endpoint URL] [--expires-in 30s] [--aws]
  fanout help

dev      runs the whole platform locally (run \`make build\` first; \`make dev\` does both) and
         writes the endpoints to .fanout/local.json. It comes with the local runtime
         (@fanout/local), which a clone of the repository has. Behind a reverse proxy
         (deploy/apache), --trusted-proxy names the proxies whose X-Forwarded-For gives the
         client's address, and --public-url is the URL browsers use through it.
token    mints an HS256 JWT; PATTERNS is comma-separated, {sub} stands for the user id.
         The secret comes from --secret, FANOUT_JWT_SECRET, or .fanout/local.json.
publish  sends one event with PutEvents. With .fanout/local.json present (written by the local
         platform) it targets the local bus; with --aws, or without that file, it uses your AWS
         configuration and --bus (the Terraform output event_bus_name).`;

const consoleOutput: Output = { out: (l) => console.log(l), err: (l) => console.error(l) };

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
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'dev':
        return await runDev(rest, io);
      case 'token': {
        const { values } = parseArgs({
          args: rest,
          options: {
            sub: { type: 'string' },
            topics: { type: 'string', multiple: true },
            ttl: { type: 'string' },
            secret: { type: 'string' },
            issuer: { type: 'string' },
            audience: { type: 'string' },
            config: { type: 'string' },
          },
        });
        return await tokenCommand(values, env, io);
      }
      case 'publish': {
        const { values } = parseArgs({
          args: rest,
          options: {
            topic: { type: 'string', multiple: true },
            user: { type: 'string', multiple: true },
            data: { type: 'string' },
            source: { type: 'string' },
            'detail-type': { type: 'string' },
            bus: { type: 'string' },
            region: { type: 'string' },
            endpoint: { type: 'string' },
            'expires-in': { type: 'string' },
            config: { type: 'string' },
            aws: { type: 'boolean' },
          },
        });
        const { 'detail-type': detailType, 'expires-in': expiresIn, ...others } = values;
        return await publishCommand({ ...others, detailType, expiresIn }, env, io);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    // parseArgs reports bad options as errors with an ERR_PARSE_ARGS_* code.
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
    const usage = err instanceof UsageError || code.startsWith('ERR_PARSE_ARGS');
    const message =
      typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
    io.err(`fanout ${command ?? ''}: ${message}`);
    if (usage) io.err('run `fanout help` for usage');
    return usage ? 2 : 1;
  }
}
