/**
 * deploy/apache/render.ts: the virtual hosts rendered from `terraform output -json` and from
 * .fanout/local.json, and every refused input with its stable code. In-process through `main` (the
 * command's own entry point), plus the command line and `make apache-config` run as a user runs them.
 * Whether Apache accepts what is rendered is test/apache's business.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  DEFAULT_LOG_DIR,
  ERROR_CODES,
  fillTemplate,
  type Io,
  main,
  type RenderErrorCode,
} from '../../../deploy/apache/vhost';

const ROOT = resolve(__dirname, '../../..');
const TEMPLATES = join(ROOT, 'deploy/apache');
const run = promisify(execFile);

const UPSTREAM = 'wss://abc123defg.execute-api.eu-west-1.amazonaws.com/prod';
const terraformOutputs = (websocketUrl: unknown = UPSTREAM) =>
  JSON.stringify({
    websocket_url: { sensitive: false, type: 'string', value: websocketUrl },
    event_bus_name: { sensitive: false, type: 'string', value: 'fanout-prod' },
  });
const localEndpoints = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    region: 'us-east-1',
    websocketUrl: 'ws://127.0.0.1:4510/local',
    managementEndpoint: 'http://127.0.0.1:4510/local',
    eventBridgeEndpoint: 'http://127.0.0.1:4511',
    sqsEndpoint: 'http://127.0.0.1:4512',
    dynamodbEndpoint: 'http://127.0.0.1:4513',
    dashboardUrl: 'http://127.0.0.1:4500/',
    eventBusName: 'fanout-local-events',
    tableName: 'fanout-local-connections',
    queueUrl: 'http://127.0.0.1:4512/000000000000/fanout-local-fanout',
    dlqUrl: 'http://127.0.0.1:4512/000000000000/fanout-local-fanout-dlq',
    jwtSecret: 'local-secret-local-secret',
    token: 'npx fanout token',
    ...overrides,
  });

const CERT = ['--cert', '/etc/ssl/certs/dash.pem', '--key', '/etc/ssl/private/dash.key'];
const AWS = ['aws', '--terraform-output', 'tf.json', '--server-name', 'dash.example.com', ...CERT];
const LOCAL = ['local', '--endpoints', 'local.json', '--server-name', 'dev.example.com', ...CERT];

interface Result {
  status: number;
  out: string;
  err: string[];
  written: Record<string, string>;
}

/** Runs the command in-process with files given by name (tf.json, local.json) and stdin. */
function render(argv: string[], files: Record<string, string> = {}, stdin = ''): Result {
  const result: Result = { status: -1, out: '', err: [], written: {} };
  const available: Record<string, string> = {
    'tf.json': terraformOutputs(),
    'local.json': localEndpoints(),
    ...files,
  };
  const io: Io = {
    out: (text) => {
      result.out += text;
    },
    err: (line) => result.err.push(line),
    readFile: (path) => {
      const text = available[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    writeFile: (path, text) => {
      result.written[path] = text;
    },
    readStdin: () => stdin,
  };
  result.status = main(argv, io, TEMPLATES);
  return result;
}

function rendered(argv: string[], files?: Record<string, string>): string {
  const result = render(argv, files);
  if (result.status !== 0) throw new Error(`render failed (${result.status}): ${result.err.join('\n')}`);
  expect(result.out).not.toMatch(/\{\{|\}\}/);
  return result.out;
}

/** The directives of one `<VirtualHost *:port>` block, comments and blank lines left out. */
function vhost(text: string, port: number): string[] {
  const start = text.indexOf(`<VirtualHost *:${port}>`);
  if (start < 0) throw new Error(`no <VirtualHost *:${port}> in:\n${text}`);
  const end = text.indexOf('</VirtualHost>', start);
  return text
    .slice(start, end)
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const directives = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

describe('the aws virtual host, from terraform output -json', () => {
  const text = rendered(AWS);
  const https = vhost(text, 443);

  it('proxies the WebSocket path to the websocket_url output over verified TLS', () => {
    expect(https).toEqual(
      expect.arrayContaining([
        `ProxyPass        "/live" "${UPSTREAM}"`,
        `ProxyPassReverse "/live" "${UPSTREAM}"`,
        'SSLProxyEngine on',
        'SSLProxyVerify require',
        'SSLProxyCheckPeerName on',
        'SSLProxyCACertificateFile "/etc/ssl/certs/ca-certificates.crt"',
      ]),
    );
  });

  it('sends the upstream its own name as Host and SNI, and passes X-Forwarded-For on', () => {
    expect(https).toEqual(expect.arrayContaining(['ProxyPreserveHost Off', 'ProxyAddHeaders On']));
    expect(text).toContain('#     abc123defg.execute-api.eu-west-1.amazonaws.com\n');
  });

  it('terminates TLS 1.2 and 1.3 only with the given certificate, and redirects HTTP to HTTPS', () => {
    expect(https).toEqual(
      expect.arrayContaining([
        'ServerName dash.example.com',
        'SSLEngine on',
        'SSLCertificateFile "/etc/ssl/certs/dash.pem"',
        'SSLCertificateKeyFile "/etc/ssl/private/dash.key"',
        'SSLProtocol -all +TLSv1.2 +TLSv1.3',
      ]),
    );
    expect(vhost(text, 80)).toEqual(
      expect.arrayContaining([
        'ServerName dash.example.com',
        'Redirect permanent "/" "https://dash.example.com/"',
      ]),
    );
  });

  it('lets an idle connection live longer than API Gateway would, and states the arithmetic', () => {
    expect(https).toEqual(expect.arrayContaining(['Timeout 60', 'ProxyTimeout 660']));
    expect(text).toContain(
      'ping every 300 s  <  API Gateway idle limit 600 s  <=  Apache idle limit max(Timeout 60, ProxyTimeout 660) = 660 s',
    );
    expect(render(AWS).err).toEqual([]);
  });

  it('logs paths, never query strings, in both virtual hosts', () => {
    const format = directives(text).find((line) => line.startsWith('LogFormat'));
    expect(format).toContain('%U');
    expect(format).not.toMatch(/%r|%q|%\{Referer\}i|%<?>?U%q/);
    expect(format).toMatch(/ fanout_path_only$/);
    for (const port of [80, 443]) {
      const logs = vhost(text, port).filter((line) => line.startsWith('CustomLog'));
      expect(logs).toEqual([`CustomLog "${DEFAULT_LOG_DIR}/fanout-access.log" fanout_path_only`]);
    }
  });

  it("has no Listen lines unless asked: Debian's ports.conf listens on 80 and 443", () => {
    expect(directives(text).filter((line) => line.startsWith('Listen'))).toEqual([]);
  });

  it('proxies / to a dashboard application after the WebSocket path when one is given', () => {
    const withDashboard = vhost(rendered([...AWS, '--dashboard', 'http://127.0.0.1:3000']), 443);
    const ws = withDashboard.indexOf(`ProxyPass        "/live" "${UPSTREAM}"`);
    const root = withDashboard.indexOf('ProxyPass        "/" "http://127.0.0.1:3000/"');
    expect(ws).toBeGreaterThanOrEqual(0);
    expect(root).toBeGreaterThan(ws);
    expect(withDashboard).toContain('ProxyPassReverse "/" "http://127.0.0.1:3000/"');
    expect(vhost(text, 443).some((line) => line.startsWith('ProxyPass        "/"'))).toBe(false);
  });

  it('uses the ports, path, listen address, log directory and CA bundle it is given', () => {
    const custom = rendered([
      ...AWS,
      '--https-port',
      '8443',
      '--http-port',
      '8080',
      '--listen',
      '127.0.0.1',
      '--websocket-path',
      '/fanout/live',
      '--log-dir',
      '/var/log/fanout/',
      '--upstream-ca',
      '/etc/ssl/aws.pem',
    ]);
    expect(directives(custom)).toEqual(
      expect.arrayContaining(['Listen 127.0.0.1:8080', 'Listen 127.0.0.1:8443 https']),
    );
    expect(vhost(custom, 8080)).toContain('Redirect permanent "/" "https://dash.example.com:8443/"');
    expect(vhost(custom, 8443)).toEqual(
      expect.arrayContaining([
        `ProxyPass        "/fanout/live" "${UPSTREAM}"`,
        'ErrorLog "/var/log/fanout/fanout-error.log"',
        'SSLProxyCACertificateFile "/etc/ssl/aws.pem"',
      ]),
    );
    expect(custom).toContain('wss://dash.example.com:8443/fanout/live?token=<JWT>');
  });

  it('reads the outputs from standard input with --terraform-output -', () => {
    const result = render(
      ['aws', '--terraform-output', '-', '--server-name', 'dash.example.com', ...CERT],
      {},
      terraformOutputs(),
    );
    expect(result.status).toBe(0);
    expect(result.out).toContain(`ProxyPass        "/live" "${UPSTREAM}"`);
  });

  it('writes the file given with --out and says so on stderr, not stdout', () => {
    const result = render([...AWS, '--out', '/tmp/fanout.conf']);
    expect(result.status).toBe(0);
    expect(result.out).toBe('');
    expect(result.written['/tmp/fanout.conf']).toContain('<VirtualHost *:443>');
    expect(result.err).toEqual(['render: wrote /tmp/fanout.conf (aws: https://dash.example.com, /live)']);
  });

  it('shortened timeouts render, with a warning and a comment saying Apache now cuts first', () => {
    const result = render([...AWS, '--timeout', '1', '--proxy-timeout', '2', '--ping-interval', '0.5']);
    expect(result.status).toBe(0);
    expect(vhost(result.out, 443)).toEqual(expect.arrayContaining(['Timeout 1', 'ProxyTimeout 2']));
    expect(result.out).toContain(
      'ping every 0.5 s  <  Apache idle limit max(Timeout 1, ProxyTimeout 2) = 2 s  <  API Gateway idle limit 600 s',
    );
    expect(result.err).toEqual([
      expect.stringMatching(/^render: warning: Apache cuts idle WebSocket connections after 2 s/),
    ]);
  });
});

describe('the local virtual host, from .fanout/local.json', () => {
  const text = rendered(LOCAL);
  const https = vhost(text, 443);

  it('proxies the WebSocket path to the local gateway and / to the dashboard, in that order', () => {
    const ws = https.indexOf('ProxyPass        "/live" "ws://127.0.0.1:4510/local"');
    const root = https.indexOf('ProxyPass        "/" "http://127.0.0.1:4500/"');
    expect(ws).toBeGreaterThanOrEqual(0);
    expect(root).toBeGreaterThan(ws);
    expect(https).toEqual(
      expect.arrayContaining([
        'ProxyPassReverse "/live" "ws://127.0.0.1:4510/local"',
        'ProxyPassReverse "/" "http://127.0.0.1:4500/"',
        'ProxyAddHeaders On',
        'SSLProtocol -all +TLSv1.2 +TLSv1.3',
        'Timeout 60',
        'ProxyTimeout 660',
      ]),
    );
    expect(vhost(text, 80)).toContain('Redirect permanent "/" "https://dev.example.com/"');
  });

  it('tells how to start fanout dev behind it', () => {
    expect(text).toContain('--trusted-proxy 127.0.0.1 --public-url wss://dev.example.com/live');
  });

  it('proxies no dashboard when fanout dev ran without one', () => {
    const noDashboard = rendered(LOCAL, { 'local.json': localEndpoints({ dashboardUrl: undefined }) });
    expect(vhost(noDashboard, 443).filter((line) => line.startsWith('ProxyPass '))).toEqual([
      'ProxyPass        "/live" "ws://127.0.0.1:4510/local"',
    ]);
  });

  it('takes server name, HTTPS port and path from the --public-url fanout dev recorded', () => {
    const files = { 'local.json': localEndpoints({ publicWebsocketUrl: 'wss://dev.example.com:8443/ws' }) };
    const text = rendered(['local', '--endpoints', 'local.json', ...CERT], files);
    expect(vhost(text, 8443)).toEqual(
      expect.arrayContaining([
        'ServerName dev.example.com',
        'ProxyPass        "/ws" "ws://127.0.0.1:4510/local"',
      ]),
    );
  });

  it('reads .fanout/local.json when no --endpoints is given', () => {
    const result = render(['local', ...CERT, '--server-name', 'dev.example.com'], {
      '.fanout/local.json': localEndpoints(),
    });
    expect(result.status).toBe(0);
  });
});

describe('refused inputs', () => {
  const cases: [string, string[], Record<string, string>, RenderErrorCode, RegExp][] = [
    ['an unknown kind', ['nginx', ...CERT], {}, 'usage', /expected "aws" or "local"/],
    ['no kind', [...CERT], {}, 'usage', /expected "aws" or "local"/],
    ['an unknown option', [...AWS, '--color'], {}, 'usage', /--color/],
    [
      'no certificate',
      ['aws', '--terraform-output', 'tf.json', '--server-name', 'a.example'],
      {},
      'usage',
      /--cert is required/,
    ],
    [
      'no terraform output',
      ['aws', '--server-name', 'a.example', ...CERT],
      {},
      'usage',
      /--terraform-output is required/,
    ],
    [
      'an aws-only option for local',
      [...LOCAL, '--dashboard', 'http://x/'],
      {},
      'usage',
      /--dashboard is for the aws/,
    ],
    [
      'a local-only option for aws',
      [...AWS, '--endpoints', 'local.json'],
      {},
      'usage',
      /--endpoints is for the local/,
    ],
    [
      'a missing file',
      ['aws', '--terraform-output', 'nope.json', '--server-name', 'a.example', ...CERT],
      {},
      'input_unreadable',
      /cannot read nope\.json/,
    ],
    [
      'a file that is not JSON',
      AWS,
      { 'tf.json': 'Error: No outputs found' },
      'input_not_json',
      /tf\.json is not JSON/,
    ],
    [
      'outputs without websocket_url',
      AWS,
      { 'tf.json': '{"event_bus_name":{"value":"b"}}' },
      'missing_output',
      /no "websocket_url" output/,
    ],
    ['outputs that are an array', AWS, { 'tf.json': '[]' }, 'missing_output', /no "websocket_url"/],
    [
      'a ws:// websocket_url',
      AWS,
      { 'tf.json': terraformOutputs('ws://a.example/prod') },
      'bad_websocket_url',
      /wss:\/\/<host>\/<stage>/,
    ],
    [
      'a websocket_url without a stage',
      AWS,
      { 'tf.json': terraformOutputs('wss://a.example') },
      'bad_websocket_url',
      /wss:\/\/<host>\/<stage>/,
    ],
    [
      'a websocket_url with a query',
      AWS,
      { 'tf.json': terraformOutputs('wss://a.example/prod?x=1') },
      'bad_websocket_url',
      /wss/,
    ],
    [
      'a websocket_url on an address',
      AWS,
      { 'tf.json': terraformOutputs('wss://192.0.2.1/prod') },
      'bad_websocket_url',
      /not an address/,
    ],
    [
      'a websocket_url that is not a string',
      AWS,
      { 'tf.json': terraformOutputs(42) },
      'missing_output',
      /websocket_url/,
    ],
    [
      'an endpoints file missing a field',
      LOCAL,
      { 'local.json': '{"region":"us-east-1"}' },
      'bad_endpoints',
      /has no "websocketUrl"/,
    ],
    [
      'a gateway URL that is not ws://',
      LOCAL,
      { 'local.json': localEndpoints({ websocketUrl: 'http://127.0.0.1:4510/local' }) },
      'bad_websocket_url',
      /ws:\/\/<host>:<port>\/<stage>/,
    ],
    [
      'a dashboard URL that is not http',
      LOCAL,
      { 'local.json': localEndpoints({ dashboardUrl: 'ftp://127.0.0.1/' }) },
      'bad_dashboard_url',
      /dashboardUrl must be an http/,
    ],
    [
      'a public URL that is not wss://',
      ['local', '--endpoints', 'local.json', ...CERT],
      { 'local.json': localEndpoints({ publicWebsocketUrl: 'ws://dev.example.com/live' }) },
      'bad_websocket_url',
      /publicWebsocketUrl .* must be a wss:\/\//,
    ],
    [
      'no server name and no public URL',
      ['local', '--endpoints', 'local.json', ...CERT],
      {},
      'usage',
      /--server-name is required/,
    ],
    [
      'flags that contradict the public URL',
      [...LOCAL, '--websocket-path', '/other'],
      { 'local.json': localEndpoints({ publicWebsocketUrl: 'wss://dev.example.com/live' }) },
      'public_url_mismatch',
      /serves wss:\/\/dev\.example\.com\/other, but fanout dev tells the dashboard wss:\/\/dev\.example\.com\/live/,
    ],
    [
      'a server name with a space',
      ['aws', '--terraform-output', 'tf.json', '--server-name', 'dash example.com', ...CERT],
      {},
      'bad_server_name',
      /DNS name/,
    ],
    [
      'a server name that is an address',
      ['aws', '--terraform-output', 'tf.json', '--server-name', '192.0.2.1', ...CERT],
      {},
      'bad_server_name',
      /DNS name/,
    ],
    [
      'a port out of range',
      [...AWS, '--https-port', '70000'],
      {},
      'bad_port',
      /--https-port must be a port number/,
    ],
    ['a port that is not a number', [...AWS, '--http-port', '80a'], {}, 'bad_port', /--http-port/],
    ['the same port twice', [...AWS, '--http-port', '443'], {}, 'bad_port', /must differ/],
    [
      'a path with a trailing slash',
      [...AWS, '--websocket-path', '/live/'],
      {},
      'bad_path',
      /no trailing slash/,
    ],
    ['the root path', [...AWS, '--websocket-path', '/'], {}, 'bad_path', /not "\/" alone/],
    ['a path with a query', [...AWS, '--websocket-path', '/live?x'], {}, 'bad_path', /\/live\?x/],
    [
      'a relative certificate path',
      [...AWS.slice(0, 5), '--cert', 'dash.pem', '--key', '/k'],
      {},
      'bad_file',
      /--cert must be an absolute path/,
    ],
    [
      'a key path with a quote',
      [...AWS.slice(0, 5), '--cert', '/c', '--key', '/k"\nSSLEngine off'],
      {},
      'bad_file',
      /--key/,
    ],
    ['a log directory with a space', [...AWS, '--log-dir', '/var/log/my logs'], {}, 'bad_file', /--log-dir/],
    [
      'a listen address that is a name',
      [...AWS, '--listen', 'localhost'],
      {},
      'bad_listen_address',
      /--listen/,
    ],
    [
      'a timeout that is not whole seconds',
      [...AWS, '--timeout', '1.5'],
      {},
      'bad_timeout',
      /--timeout must be whole seconds/,
    ],
    ['a zero proxy timeout', [...AWS, '--proxy-timeout', '0'], {}, 'bad_timeout', /--proxy-timeout/],
    [
      'a ping interval past the idle limit',
      [...AWS, '--ping-interval', '600'],
      {},
      'bad_ping_interval',
      /below the 600 s idle limit/,
    ],
    [
      'a ping interval that is not a number',
      [...AWS, '--ping-interval', 'often'],
      {},
      'bad_ping_interval',
      /--ping-interval/,
    ],
    [
      'timeouts that cut a pinging client',
      [...AWS, '--timeout', '60', '--proxy-timeout', '300'],
      {},
      'timeout_below_ping',
      /after 300 s .* pings only every 300 s/,
    ],
  ];

  it.each(cases)('refuses %s with its code', (_what, argv, files, code, message) => {
    const result = render(argv, files);
    expect(result.out).toBe('');
    expect(result.status).toBe(code === 'usage' ? 2 : 1);
    expect(result.err[0]).toMatch(new RegExp(`^render: ${code}: `));
    expect(result.err[0]).toMatch(message);
  });

  it('gives every code a case above', () => {
    const tested = new Set(cases.map(([, , , code]) => code));
    expect(ERROR_CODES.filter((code) => !tested.has(code))).toEqual([]);
  });

  it('prints usage with --help and exits 0', () => {
    const result = render(['--help']);
    expect(result.status).toBe(0);
    expect(result.out).toContain('render.ts aws   --terraform-output FILE|-');
  });
});

describe('templates', () => {
  it('fills placeholders and keeps or drops sections', () => {
    const template = ['a {{x}}', '{{#on}}', 'on {{x}}', '{{/on}}', '{{^on}}', 'off', '{{/on}}', 'end'].join(
      '\n',
    );
    expect(fillTemplate(template, { x: '1', on: true })).toBe('a 1\non 1\nend');
    expect(fillTemplate(template, { x: '1', on: false })).toBe('a 1\noff\nend');
    expect(fillTemplate(template, { x: '1', on: '' })).toBe('a 1\noff\nend');
  });

  it('refuses a placeholder or a section without a value, and sections that do not pair', () => {
    expect(() => fillTemplate('{{missing}}', {})).toThrow('{{missing}} has no value');
    expect(() => fillTemplate('{{#missing}}\n{{/missing}}', {})).toThrow('{{missing}} has no value');
    expect(() => fillTemplate('{{#a}}\nx', { a: true })).toThrow('{{#a}} is never closed');
    expect(() => fillTemplate('{{#a}}\n{{/b}}', { a: true, b: true })).toThrow(
      '{{/b}} closes no open section',
    );
  });
});

describe('the command line', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-render-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders with tsx from a file given with --endpoints, and exits 1 with the code on bad input', async () => {
    const endpoints = join(dir, 'local.json');
    writeFileSync(endpoints, localEndpoints());
    const tsx = join(ROOT, 'node_modules/.bin/tsx');
    const script = join(ROOT, 'deploy/apache/render.ts');
    const ok = await run(
      tsx,
      [script, 'local', '--endpoints', endpoints, '--server-name', 'dev.example.com', ...CERT],
      {
        cwd: dir,
        timeout: 20_000,
      },
    );
    expect(ok.stdout).toContain('ProxyPass        "/live" "ws://127.0.0.1:4510/local"');

    const failed = await run(tsx, [script, 'local', '--endpoints', join(dir, 'absent.json'), ...CERT], {
      cwd: dir,
      timeout: 20_000,
    }).catch((err: { code: number; stderr: string }) => err);
    expect('code' in failed && failed.code).toBe(1);
    expect('stderr' in failed && failed.stderr).toMatch(/^render: input_unreadable: cannot read /);
  });

  it('make apache-config FOR=aws renders what `terraform output -json` prints to OUT', async () => {
    // A stand-in for terraform on PATH: no AWS account here, and the target only needs its output.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(dir, 'tf.json'), terraformOutputs());
    writeFileSync(
      join(bin, 'terraform'),
      `#!/bin/sh\n[ "$1 $2 $3" = "-chdir=terraform output -json" ] || exit 3\ncat '${join(dir, 'tf.json')}'\n`,
    );
    chmodSync(join(bin, 'terraform'), 0o755);
    const out = join(dir, 'conf', 'fanout.conf');
    await run(
      'make',
      [
        '-s',
        'apache-config',
        'FOR=aws',
        `OUT=${out}`,
        `ARGS=--server-name dash.example.com ${CERT.join(' ')}`,
      ],
      { cwd: ROOT, timeout: 30_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } },
    );
    expect(readFileSync(out, 'utf8')).toContain(`ProxyPass        "/live" "${UPSTREAM}"`);
  });

  it('make apache-config refuses a FOR it does not know, naming it', async () => {
    const failed = await run('make', ['-s', 'apache-config', 'FOR=gcp', `OUT=${join(dir, 'x.conf')}`], {
      cwd: ROOT,
      timeout: 30_000,
    }).catch((err: { code: number; stderr: string }) => err);
    expect('code' in failed && failed.code).not.toBe(0);
    expect('stderr' in failed && failed.stderr).toContain("FOR must be aws or local, got 'gcp'");
  });
});
