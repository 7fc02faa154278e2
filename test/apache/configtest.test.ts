/**
 * Apache's own check (`apache2 -t`) of both shipped virtual hosts as rendered with their defaults, and
 * the README's Debian walkthrough (a2enmod, a2ensite, apachectl configtest) run on a copy of
 * /etc/apache2, so every step is checked without touching the machine's own configuration.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main as renderMain } from '../../deploy/apache/vhost';
import { makeCertificate, type TestCertificate } from '../../local/test/support/certificate';
import { apacheAvailability, configTest, mainConfig } from '../support/apache';
import { ROOT_DIR } from '../support/platform';

const availability = apacheAvailability();
const describeApache = availability.run ? describe : describe.skip;
if (!availability.run) console.warn(`Apache configuration tests skipped: ${availability.reason}`);

const run = promisify(execFile);
const DEBIAN_CONFDIR = '/etc/apache2';

describeApache('the shipped virtual hosts, as Apache reads them', () => {
  let dir = '';
  let certificate: TestCertificate;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-apache-t-'));
    certificate = makeCertificate(dir, 'dash', ['dash.example.com']);
    writeFileSync(
      join(dir, 'terraform-output.json'),
      JSON.stringify({
        websocket_url: { value: 'wss://abc123defg.execute-api.eu-west-1.amazonaws.com/prod' },
      }),
    );
    writeFileSync(
      join(dir, 'local.json'),
      JSON.stringify({
        region: 'us-east-1',
        websocketUrl: 'ws://127.0.0.1:4510/local',
        managementEndpoint: 'http://127.0.0.1:4510/local',
        eventBridgeEndpoint: 'http://127.0.0.1:4511',
        sqsEndpoint: 'http://127.0.0.1:4512',
        dynamodbEndpoint: 'http://127.0.0.1:4513',
        dashboardUrl: 'http://127.0.0.1:4500/',
        publicWebsocketUrl: 'wss://dev.example.com/live',
        eventBusName: 'fanout-local-events',
        tableName: 'fanout-local-connections',
        queueUrl: 'http://127.0.0.1:4512/000000000000/fanout-local-fanout',
        dlqUrl: 'http://127.0.0.1:4512/000000000000/fanout-local-fanout-dlq',
        jwtSecret: 'local-secret-local-secret',
        token: 'npx fanout token',
      }),
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Renders with every default but the certificate: ports 443 and 80, ${APACHE_LOG_DIR}, 660 s. */
  function render(kind: 'aws' | 'local', out: string): string {
    const input =
      kind === 'aws'
        ? ['--terraform-output', join(dir, 'terraform-output.json'), '--server-name', 'dash.example.com']
        : ['--endpoints', join(dir, 'local.json')];
    const messages: string[] = [];
    const status = renderMain(
      [kind, ...input, '--cert', certificate.certFile, '--key', certificate.keyFile, '--out', out],
      {
        out: (text) => messages.push(text),
        err: (line) => messages.push(line),
        readFile: (path) => readFileSync(path, 'utf8'),
        writeFile: (path, text) => writeFileSync(path, text),
        readStdin: () => '',
      },
      join(ROOT_DIR, 'deploy/apache'),
    );
    if (status !== 0) throw new Error(`render ${kind} failed: ${messages.join('\n')}`);
    return out;
  }

  it.each(['aws', 'local'] as const)('apache2 -t accepts the %s virtual host as rendered', async (kind) => {
    const serverRoot = join(dir, `t-${kind}`);
    mkdirSync(serverRoot);
    const vhost = render(kind, join(serverRoot, `fanout-${kind}.conf`));
    const configFile = join(serverRoot, 'httpd.conf');
    writeFileSync(configFile, mainConfig({ dir: serverRoot, include: [vhost] }));
    // ${APACHE_LOG_DIR} comes from Debian's envvars; here from the environment, as apache2ctl sets it.
    const result = await configTest(configFile, { APACHE_LOG_DIR: serverRoot });
    expect(result.output).toContain('Syntax OK');
    expect(result.output).not.toMatch(/AH00111|warn/i);
    expect(result.ok).toBe(true);
  });

  it('apache2 -t refuses a rendered virtual host without the modules it needs', async () => {
    // The check can fail: without mod_proxy, ProxyPass is an unknown directive.
    const serverRoot = join(dir, 't-no-proxy');
    mkdirSync(serverRoot);
    const vhost = render('aws', join(serverRoot, 'fanout-aws.conf'));
    const configFile = join(serverRoot, 'httpd.conf');
    const withoutProxy = mainConfig({ dir: serverRoot, include: [vhost] })
      .split('\n')
      .filter((line) => !/LoadModule proxy/.test(line))
      .join('\n');
    writeFileSync(configFile, withoutProxy);
    const result = await configTest(configFile, { APACHE_LOG_DIR: serverRoot });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/Invalid command 'ProxyPass'|SSLProxyEngine|ProxyTimeout|ProxyRequests/);
  });

  const debian = existsSync(join(DEBIAN_CONFDIR, 'apache2.conf')) && existsSync('/usr/sbin/a2enmod');
  (debian ? it : it.skip)(
    "the README's Debian steps (a2enmod, a2ensite, apachectl configtest) accept both, on a copy of /etc/apache2",
    async () => {
      const confdir = join(dir, 'etc-apache2');
      cpSync(DEBIAN_CONFDIR, confdir, { recursive: true, verbatimSymlinks: true });
      for (const sub of ['run', 'lock', 'log', 'state']) mkdirSync(join(dir, sub));
      // The copy's own envvars: Debian's points at /var/run/apache2 and /var/log/apache2.
      writeFileSync(
        join(confdir, 'envvars'),
        [
          'export APACHE_RUN_USER=www-data',
          'export APACHE_RUN_GROUP=www-data',
          `export APACHE_PID_FILE=${join(dir, 'run/apache2.pid')}`,
          `export APACHE_RUN_DIR=${join(dir, 'run')}`,
          `export APACHE_LOCK_DIR=${join(dir, 'lock')}`,
          `export APACHE_LOG_DIR=${join(dir, 'log')}`,
          'export LANG=C',
          '',
        ].join('\n'),
      );
      // a2enmod and apachectl honour APACHE_CONFDIR; a2enmod keeps its state in APACHE_STATE_DIRECTORY.
      const env = {
        ...process.env,
        APACHE_CONFDIR: confdir,
        APACHE_STATE_DIRECTORY: join(dir, 'state'),
      };
      const step = (command: string, args: string[]) =>
        run(command, args, { env, timeout: 15_000 }).catch(
          (err: Error & { stdout?: string; stderr?: string }) => {
            throw new Error(
              `${command} ${args.join(' ')} failed: ${err.message}\n${err.stdout}\n${err.stderr}`,
            );
          },
        );

      await step('a2enmod', ['proxy', 'proxy_wstunnel', 'proxy_http', 'ssl', 'headers']);
      for (const module of ['proxy', 'proxy_wstunnel', 'proxy_http', 'ssl', 'headers', 'socache_shmcb']) {
        expect([module, existsSync(join(confdir, 'mods-enabled', `${module}.load`))]).toEqual([module, true]);
      }
      render('aws', join(confdir, 'sites-available/fanout.conf'));
      render('local', join(confdir, 'sites-available/fanout-local.conf'));
      await step('a2ensite', ['fanout', 'fanout-local']);
      const { stdout, stderr } = await step('apachectl', ['configtest']);
      expect(`${stdout}${stderr}`).toContain('Syntax OK');
    },
  );
});
