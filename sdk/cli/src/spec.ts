import { LOCAL_ENDPOINTS_FILE } from '@fanout/protocol';

/**
 * Every command and every option of `fanout`, in one table: the parser is built from it (an option
 * the table does not list is refused) and so is the help (an option it lists is shown), so the two
 * cannot drift apart.
 */

export interface OptionSpec {
  /** The long name, without the dashes: `data-file`. */
  name: string;
  type: 'string' | 'boolean';
  /** What the usage line shows for the value: `--sub USER`. */
  value?: string;
  /** May be given more than once (and, for lists, comma-separated). */
  multiple?: boolean;
  /** The command refuses to run without it (exit 2). */
  required?: boolean;
  help: string;
}

export interface ArgumentSpec {
  /** As the usage line shows it: `PATTERN`, `ID`. */
  name: string;
  /** None (false), exactly one, or (`variadic`) one or more. */
  required: boolean;
  variadic: boolean;
  help: string;
}

export interface CommandSpec {
  /** What follows `fanout`: `publish`, or `dlq list` for a subcommand. */
  name: string;
  summary: string;
  /** Paragraphs shown by `fanout help` and `fanout <command> --help`, after the options. */
  details?: readonly string[];
  argument?: ArgumentSpec;
  options: readonly OptionSpec[];
  /** Groups of options of which exactly one must be given: `(--data JSON | --data-file FILE)`. */
  oneOf?: readonly (readonly string[])[];
  /** Groups of options of which at least one must be given, any number of them. */
  anyOf?: readonly (readonly string[])[];
}

const config: OptionSpec = {
  name: 'config',
  type: 'string',
  value: 'FILE',
  help: `the local platform's endpoints file (default ${LOCAL_ENDPOINTS_FILE}, written by \`fanout dev\`)`,
};

const region: OptionSpec = { name: 'region', type: 'string', value: 'R', help: 'the AWS region' };

/** Where `fanout dlq` works. */
const DLQ_WHERE: readonly OptionSpec[] = [
  { name: 'limit', type: 'string', value: 'N', help: 'looks at N letters at most (default 1000)' },
  {
    name: 'events',
    type: 'boolean',
    help: "the EventBridge target's DLQ instead (AWS only); redrive puts its events on the fan-out queue",
  },
  config,
  { name: 'aws', type: 'boolean', help: `your AWS configuration, even when ${LOCAL_ENDPOINTS_FILE} exists` },
  {
    name: 'terraform-dir',
    type: 'string',
    value: 'DIR',
    help: 'reads the queue URLs with `terraform -chdir=DIR output -json`',
  },
  {
    name: 'dlq-url',
    type: 'string',
    value: 'URL',
    help: 'the DLQ (Terraform output fanout_dlq_url or events_dlq_url)',
  },
  {
    name: 'queue-url',
    type: 'string',
    value: 'URL',
    help: 'the fan-out queue (Terraform output fanout_queue_url)',
  },
  { ...region, help: "the AWS region (default: the queue URL's)" },
  { name: 'endpoint', type: 'string', value: 'URL', help: 'an SQS-compatible endpoint' },
];

const DLQ_DETAILS = [
  'The fan-out dead-letter queue holds what the fan-out function could not deliver, with its reason (malformed, payload_too_large, delivery_failed), and what the queue moved there after too many receives ("redriven by the queue", --reason none).',
  `Where: ${LOCAL_ENDPOINTS_FILE} (or --config FILE) names the local queues. With --aws, or without that file, your AWS configuration is used with --dlq-url and --queue-url, or with --terraform-dir DIR.`,
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'dev',
    summary: 'runs the whole platform locally and writes the endpoints to .fanout/local.json',
    details: [
      'Run `make build` first (`make dev` does both; `make dev PORT=N DASHBOARD_PORT=N` changes the ports). It comes with the local runtime (@fanout/local), which a clone of the repository has.',
      `With --data-dir, the table and the token secret (DIR/jwt-secret, mode 0600) are kept there, so tokens and the banner's wscat line still work after a restart. The file ${LOCAL_ENDPOINTS_FILE} records the platform's process id: a command that finds it left by a platform that is gone says so.`,
      "Behind a reverse proxy (deploy/apache), --trusted-proxy names the proxies whose X-Forwarded-For gives the client's address, and --public-url is the URL browsers use through it.",
    ],
    options: [
      {
        name: 'port',
        type: 'string',
        value: 'N',
        help: 'the WebSocket API and @connections port (default 4510; 0: any free port)',
      },
      {
        name: 'dashboard-port',
        type: 'string',
        value: 'N',
        help: "the dashboard's port (default 4500; 0: any free port)",
      },
      { name: 'no-dashboard', type: 'boolean', help: 'starts no dashboard' },
      {
        name: 'data-dir',
        type: 'string',
        value: 'DIR',
        help: 'keeps the DynamoDB table and the token secret on disk in DIR',
      },
      {
        name: 'secret',
        type: 'string',
        value: 'S',
        help: 'the HS256 secret tokens are signed with (at least 32 bytes; default: random, or the one kept in --data-dir)',
      },
      {
        name: 'verbose',
        type: 'boolean',
        help: "also prints the functions' metric lines and START/END lines",
      },
      {
        name: 'trusted-proxy',
        type: 'string',
        value: 'ADDR|CIDR',
        multiple: true,
        help: 'a reverse proxy whose X-Forwarded-For names the client',
      },
      {
        name: 'public-url',
        type: 'string',
        value: 'wss://HOST/PATH',
        help: 'the WebSocket URL through the reverse proxy',
      },
      {
        name: 'max-connection-seconds',
        type: 'string',
        value: 'N',
        help: "API Gateway's 2-hour connection limit, shortened (to watch a client renew its connection)",
      },
      {
        name: 'route-backend',
        type: 'string',
        value: 'lambda|http',
        help: "what serves the routes: the route functions (default), or `fanout backend` through HTTP integrations as API Gateway's would call it (the authorizer and the fan-out stay Lambda)",
      },
    ],
  },
  {
    name: 'backend',
    summary: 'serves every WebSocket route for API Gateway HTTP integrations',
    details: [
      "Serves $connect, $disconnect, $default, subscribe, unsubscribe and ping with the route functions' use cases. Configuration comes from the environment, as for the route functions (functions.json): TABLE_NAME, MANAGEMENT_ENDPOINT, AWS_REGION, the routes' settings, and FANOUT_BACKEND_PROOF, the secret the integrations send in X-Fanout-Gateway-Proof. SIGTERM or SIGINT stops it after the calls in flight.",
      'Like dev, it comes with a clone of the repository (@fanout/backend); `make build` also writes it as one file, dist/backend/index.mjs, for a container image (docs/architecture.md, "Routes on your own HTTP backend").',
    ],
    options: [
      {
        name: 'port',
        type: 'string',
        value: 'N',
        help: 'the port to listen on (default FANOUT_BACKEND_PORT, or 8080; 0: any free port)',
      },
      {
        name: 'host',
        type: 'string',
        value: 'ADDR',
        help: 'the address to listen on (default FANOUT_BACKEND_HOST, or 127.0.0.1; 0.0.0.0 in a container)',
      },
    ],
  },
  {
    name: 'token',
    summary: 'mints an HS256 JWT for a user',
    details: [
      'The secret comes from --secret, FANOUT_JWT_SECRET, or .fanout/local.json (--config FILE reads another one). A token without --topics receives direct messages only.',
    ],
    options: [
      { name: 'sub', type: 'string', value: 'USER', required: true, help: 'the user id (the `sub` claim)' },
      {
        name: 'topics',
        type: 'string',
        value: 'PATTERNS',
        multiple: true,
        help: 'comma-separated patterns the user may subscribe to (`orders/*`, `users/{sub}/*`; {sub} stands for the user id)',
      },
      { name: 'ttl', type: 'string', value: 'DURATION', help: 'lifetime: 45s, 30m, 1h (default), 2d' },
      { name: 'secret', type: 'string', value: 'S', help: 'the HS256 secret' },
      { name: 'issuer', type: 'string', value: 'ISS', help: 'the `iss` claim' },
      { name: 'audience', type: 'string', value: 'AUD', help: 'the `aud` claim' },
      config,
    ],
  },
  {
    name: 'publish',
    summary: 'sends one event with PutEvents',
    details: [
      `With ${LOCAL_ENDPOINTS_FILE} present (written by \`fanout dev\`) it targets the local bus; with --aws, or without that file, it uses your AWS configuration and --bus (the Terraform output event_bus_name).`,
    ],
    options: [
      {
        name: 'topic',
        type: 'string',
        value: 'TOPIC',
        multiple: true,
        help: 'a topic to publish on (comma-separated for several)',
      },
      {
        name: 'user',
        type: 'string',
        value: 'USER',
        multiple: true,
        help: 'a user to send the event to directly',
      },
      { name: 'data', type: 'string', value: 'JSON', help: 'the payload, as JSON; `-` reads it from stdin' },
      { name: 'data-file', type: 'string', value: 'FILE', help: 'reads the JSON payload from FILE' },
      { name: 'source', type: 'string', value: 'S', help: 'the event source (default fanout.cli)' },
      { name: 'detail-type', type: 'string', value: 'T', help: 'the detail type (default Notification)' },
      {
        name: 'bus',
        type: 'string',
        value: 'NAME',
        help: 'the event bus (default: the local one, or FANOUT_EVENT_BUS)',
      },
      region,
      { name: 'endpoint', type: 'string', value: 'URL', help: 'an EventBridge-compatible endpoint' },
      {
        name: 'expires-in',
        type: 'string',
        value: 'DURATION',
        help: 'drops the event if not delivered within it (30s, 5m)',
      },
      config,
      {
        name: 'aws',
        type: 'boolean',
        help: `your AWS configuration, even when ${LOCAL_ENDPOINTS_FILE} exists`,
      },
    ],
    anyOf: [['topic', 'user']],
    oneOf: [['data', 'data-file']],
  },
  {
    name: 'tail',
    summary: 'prints live events as they arrive, until Ctrl+C',
    details: [
      `Locally it reads ${LOCAL_ENDPOINTS_FILE} and mints a token (for --user, allowed the patterns given); against AWS pass --url (the Terraform output websocket_url) and --token (or FANOUT_TOKEN). It reconnects by itself and gets back what it missed, and says so on stderr.`,
    ],
    argument: {
      name: 'PATTERN',
      required: true,
      variadic: true,
      help: 'topics or `prefix/*` patterns to subscribe to',
    },
    options: [
      { name: 'json', type: 'boolean', help: 'one JSON object a line: the event frames as received' },
      {
        name: 'url',
        type: 'string',
        value: 'wss://…',
        help: 'the WebSocket URL (default: the local platform)',
      },
      {
        name: 'token',
        type: 'string',
        value: 'JWT',
        help: 'the token to connect with (default: FANOUT_TOKEN, or minted locally)',
      },
      {
        name: 'user',
        type: 'string',
        value: 'USER',
        help: 'the user of a locally minted token (default tail)',
      },
      config,
    ],
  },
  {
    name: 'inspect',
    summary: 'shows the platform as an operator sees it',
    details: [
      "Connections (user, age, source address, subscriptions), patterns with their subscribers, the fan-out queue's depth and oldest message, the DLQ's letters with their reasons, and the recent fan-out invocations (audience, delivered, pruned, throttled, retried, duration).",
      `Locally it reads the services of ${LOCAL_ENDPOINTS_FILE}; with --aws, the stack of --terraform-dir (its outputs table_name, fanout_queue_url, fanout_dlq_url, log_group_names, region) through DynamoDB (bounded reads), SQS, CloudWatch and CloudWatch Logs. A part that cannot be read is reported with its code while the rest is shown, and the exit code is 1.`,
    ],
    options: [
      { name: 'json', type: 'boolean', help: 'prints the snapshot as JSON' },
      config,
      { name: 'aws', type: 'boolean', help: 'reads the deployed stack of --terraform-dir' },
      {
        name: 'terraform-dir',
        type: 'string',
        value: 'DIR',
        help: 'reads the resource names with `terraform -chdir=DIR output -json`',
      },
      { ...region, help: "the AWS region (default: the stack's output region)" },
    ],
  },
  {
    name: 'dlq list',
    summary: 'lists every dead letter waiting: id, sent, receives, reason, summary',
    details: [
      ...DLQ_DETAILS,
      'Letters stay on the queue: each is received with a short visibility timeout and made visible again at once, which adds one to its receive count.',
    ],
    options: [{ name: 'json', type: 'boolean', help: 'one JSON array, for scripts' }, ...DLQ_WHERE],
  },
  {
    name: 'dlq show',
    summary: 'prints one dead letter in full: attributes and the body, pretty-printed',
    details: DLQ_DETAILS,
    argument: { name: 'ID', required: true, variadic: false, help: 'the ID column of `fanout dlq list`' },
    options: [{ name: 'json', type: 'boolean', help: 'as JSON, for scripts' }, ...DLQ_WHERE],
  },
  {
    name: 'dlq redrive',
    summary: 'sends dead letters back to the fan-out queue, then deletes them from the DLQ',
    details: [...DLQ_DETAILS, 'Fix the cause first, or they come back.'],
    argument: { name: 'ID', required: false, variadic: true, help: 'the letters to redrive' },
    options: [
      { name: 'all', type: 'boolean', help: 'every letter' },
      {
        name: 'reason',
        type: 'string',
        value: 'R',
        help: 'the letters with this reason (none: redriven by the queue)',
      },
      ...DLQ_WHERE,
    ],
  },
  {
    name: 'help',
    summary: 'prints this help, or one command’s',
    argument: { name: 'COMMAND', required: false, variadic: true, help: 'a command' },
    options: [],
  },
];

/** Options every command takes. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  { name: 'help', type: 'boolean', help: "prints the command's help" },
];

/** The command `words` name (`['dlq', 'list']`), with how many words it took, or undefined. */
export function findCommand(words: readonly string[]): { spec: CommandSpec; words: number } | undefined {
  for (const length of [2, 1]) {
    const name = words.slice(0, length).join(' ');
    const spec = COMMANDS.find((command) => command.name === name);
    if (spec && words.length >= length) return { spec, words: length };
  }
  return undefined;
}

/** `data-file` → `dataFile`: how a command's code receives the option. */
export const camelCase = (name: string): string =>
  name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
