/**
 * A real Apache httpd for tests: Debian's /usr/sbin/apache2 run in the foreground on loopback high
 * ports, with a main configuration of its own (ServerRoot, PidFile, logs in a temporary directory,
 * modules loaded by absolute path) that includes the virtual host under test. Run as root (as CI
 * does), its children switch to www-data, as Debian's own configuration has them.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SocketFactory } from '@fanout/client';
import WebSocket from 'ws';
import type { ToolAvailability } from '../../local/test/support/certificate';
import { waitUntil } from '../../local/test/support/wait';

export const APACHE_BINARY = '/usr/sbin/apache2';
export const APACHE_MODULES_DIR = '/usr/lib/apache2/modules';

/**
 * The name the tests give Apache's virtual host (its certificate's name). It resolves nowhere: clients
 * here find it with `throughApache`'s lookup, so that SNI, the certificate check and the Host header
 * all see a real name, as browsers reaching dash.example.com do.
 */
export const PUBLIC_NAME = 'dash.fanout.test';

/** Every name resolves to 127.0.0.1 (Node asks for one address or, with `all`, for a list). */
function loopbackLookup(
  _hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}

export interface ThroughApache {
  /** The test certificate, trusted as its own CA (ws and https take `ca`). */
  ca: Buffer;
  /** Source address of the client's connection, on loopback (default: the system's choice). */
  localAddress?: string;
}

/** Client options (for `ws` and `https`) that reach Apache on loopback by any name and trust its certificate. */
export function throughApache(options: ThroughApache) {
  return {
    ca: options.ca,
    lookup: loopbackLookup,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  };
}

/** A WebSocket class for FanoutClient's `WebSocket` option that connects with `throughApache`. */
export function socketThroughApache(options: ThroughApache): SocketFactory {
  const clientOptions = throughApache(options);
  return class ApacheWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, clientOptions);
    }
  };
}

/** What the shipped virtual hosts use (a2enmod proxy proxy_wstunnel proxy_http ssl headers), and the MPM. */
const MODULES: [string, string][] = [
  ['authz_core_module', 'mod_authz_core.so'],
  ['alias_module', 'mod_alias.so'],
  ['headers_module', 'mod_headers.so'],
  ['proxy_module', 'mod_proxy.so'],
  ['proxy_http_module', 'mod_proxy_http.so'],
  ['proxy_wstunnel_module', 'mod_proxy_wstunnel.so'],
  ['socache_shmcb_module', 'mod_socache_shmcb.so'],
  ['ssl_module', 'mod_ssl.so'],
];

const run = promisify(execFile);

/**
 * Whether Apache tests can run here. Without apache2 they are skipped on a developer machine and
 * fail on CI (where `CI` is set and .ci/run installs apache2).
 */
export function apacheAvailability(): ToolAvailability {
  const files = [...MODULES.map(([, file]) => file), ...Object.values(MPMS).map(({ file }) => file)];
  const absent = [APACHE_BINARY, ...files.map((file) => join(APACHE_MODULES_DIR, file))].filter(
    (path) => !existsSync(path),
  );
  if (absent.length === 0) return { run: true };
  const missing = `apache2 is not installed (${absent[0]} is missing; apt-get install -y apache2)`;
  return process.env.CI ? { run: true, missing } : { run: false, reason: missing };
}

/** Ports free on 127.0.0.1 right now (held together while choosing, so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Both MPMs Debian ships. `event` (Debian's default) runs a WebSocket tunnel on a worker thread that no
 * signal interrupts while the tunnel carries traffic: stopping it with pinging clients takes until
 * httpd escalates to SIGKILL, about 9 s after it starts reclaiming its children (after
 * GracefulShutdownTimeout for a graceful stop). `prefork` children die on the first SIGTERM, so a stop
 * cuts tunnels at once. A graceful restart keeps open tunnels on the old children with either.
 */
const MPMS = {
  event: {
    module: 'mpm_event_module',
    file: 'mod_mpm_event.so',
    // Few processes: the tests open a handful of connections; a tunnel holds a worker thread.
    settings: [
      'StartServers 1',
      'ServerLimit 4',
      'ThreadsPerChild 10',
      'MinSpareThreads 5',
      'MaxSpareThreads 20',
      'MaxRequestWorkers 40',
    ],
  },
  prefork: {
    module: 'mpm_prefork_module',
    file: 'mod_mpm_prefork.so',
    // A tunnel holds a whole process.
    settings: [
      'StartServers 2',
      'MinSpareServers 2',
      'MaxSpareServers 4',
      'ServerLimit 24',
      'MaxRequestWorkers 24',
    ],
  },
} as const;
export type Mpm = keyof typeof MPMS;

export interface MainConfigOptions {
  /** ServerRoot, PidFile, the main error log and the runtime directory. */
  dir: string;
  /** Virtual host files to include. */
  include: string[];
  /** Seconds a graceful stop waits for open connections (WebSocket tunnels) before cutting them. */
  gracefulShutdownSeconds?: number;
  /** Default `event`, Debian's. */
  mpm?: Mpm;
}

/** The main configuration: everything Debian's apache2.conf would provide that the vhost relies on. */
export function mainConfig(options: MainConfigOptions): string {
  const { dir } = options;
  const asRoot = process.getuid?.() === 0;
  const mpm = MPMS[options.mpm ?? 'event'];
  return [
    '# Test-only main configuration (test/support/apache.ts).',
    `ServerRoot "${dir}"`,
    `DefaultRuntimeDir "${dir}"`,
    `PidFile "${join(dir, 'httpd.pid')}"`,
    `ErrorLog "${join(dir, 'main-error.log')}"`,
    'LogLevel warn',
    'ServerName localhost',
    `DocumentRoot "${dir}"`,
    `LoadModule ${mpm.module} "${join(APACHE_MODULES_DIR, mpm.file)}"`,
    ...MODULES.map(([name, file]) => `LoadModule ${name} "${join(APACHE_MODULES_DIR, file)}"`),
    // Apache refuses to serve as root; Debian runs its children as www-data.
    ...(asRoot ? ['User www-data', 'Group www-data'] : []),
    ...mpm.settings,
    `GracefulShutdownTimeout ${options.gracefulShutdownSeconds ?? 1}`,
    'SSLSessionCache none',
    ...options.include.map((file) => `Include "${file}"`),
    '',
  ].join('\n');
}

/** `apache2 -t -f <file>`: Apache's own check of a configuration. */
export async function configTest(
  configFile: string,
  env: Record<string, string> = {},
): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(APACHE_BINARY, ['-t', '-f', configFile], {
      timeout: 10_000,
      env: { ...process.env, ...env },
    });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${stdout}${stderr}` };
  }
}

export interface ApacheServer {
  configFile: string;
  /** The main error log and every other `*.log` in the directory, for failure messages. */
  logs(): string;
  /** `apache2 -k graceful`: re-reads the configuration; open connections stay on the old children. */
  graceful(): Promise<void>;
  /** `apache2 -k graceful-stop`: stops after open connections end or GracefulShutdownTimeout. */
  gracefulStop(): Promise<void>;
  /** Starts again with the same configuration (after gracefulStop or stop). */
  start(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s); resolves once the master process has exited. Safe to call twice. */
  stop(): Promise<void>;
  running(): boolean;
}

const READY = 'resuming normal operations';

/**
 * Writes the main configuration to `<dir>/httpd.conf`, starts `apache2 -f … -DFOREGROUND` and resolves
 * once every port in `ports` accepts connections.
 */
export async function startApache(options: MainConfigOptions & { ports: number[] }): Promise<ApacheServer> {
  const availability = apacheAvailability();
  if ('missing' in availability) throw new Error(`CI is set but ${availability.missing}`);
  const configFile = join(options.dir, 'httpd.conf');
  writeFileSync(configFile, mainConfig(options));
  const mainLog = join(options.dir, 'main-error.log');
  const readMainLog = () => (existsSync(mainLog) ? readFileSync(mainLog, 'utf8') : '');
  let child: ChildProcess | undefined;
  let output = '';

  const logs = (): string => {
    const files = ['main-error.log', ...extraLogs(options.dir)];
    return [
      `apache2 output:\n${output}`,
      ...files.map((f) => `${f}:\n${readLog(join(options.dir, f))}`),
    ].join('\n');
  };
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const exited = (proc: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });

  const start = async (): Promise<void> => {
    if (running()) throw new Error('Apache is already running');
    // A process group of its own: httpd signals its whole group (killpg) on restarts and stops, which
    // would otherwise reach jest itself.
    const proc = spawn(APACHE_BINARY, ['-f', configFile, '-DFOREGROUND'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child = proc;
    const pid = proc.pid;
    // If the test process dies before afterAll runs, take Apache with it.
    const killGroup = () => {
      if (pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    process.once('exit', killGroup);
    proc.once('exit', () => process.off('exit', killGroup));
    proc.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    await waitUntil(
      async () => {
        if (!running()) throw new Error(`apache2 exited (${proc.exitCode ?? proc.signalCode})\n${logs()}`);
        const open = await Promise.all(options.ports.map(accepts));
        return open.every(Boolean);
      },
      `Apache to listen on ${options.ports.join(', ')}`,
      10_000,
      50,
    );
  };
  const signal = async (action: 'graceful' | 'graceful-stop'): Promise<void> => {
    await run(APACHE_BINARY, ['-k', action, '-f', configFile], { timeout: 10_000 });
  };

  await start();
  return {
    configFile,
    logs,
    running,
    start,
    graceful: async () => {
      const generations = count(readMainLog(), READY);
      await signal('graceful');
      await waitUntil(
        () => count(readMainLog(), READY) > generations,
        'Apache to come back after a graceful restart',
        10_000,
        50,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${logs()}`);
      });
    },
    gracefulStop: async () => {
      const proc = child;
      if (!proc || !running()) return;
      await signal('graceful-stop');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Apache did not stop gracefully\n${logs()}`)), 10_000);
      });
      try {
        await Promise.race([exited(proc), late]);
      } finally {
        clearTimeout(timer);
      }
    },
    stop: async () => {
      const proc = child;
      if (!proc || !running()) return;
      proc.kill('SIGTERM');
      // The event MPM waits for tunnels that no signal interrupts; the children go with the group.
      const killer = setTimeout(() => {
        if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
      }, 5_000);
      await exited(proc);
      clearTimeout(killer);
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

function readLog(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '(none)';
}

function extraLogs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => name.endsWith('.log') && name !== 'main-error.log');
}
