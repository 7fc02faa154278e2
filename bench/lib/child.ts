import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * A child process (TypeScript run with tsx, or a bundled .mjs on plain node), spoken to by request/reply over IPC. The benchmark puts
 * the client farm and each delivering system in children of their own, so that each one's CPU time
 * is its own (`process.cpuUsage()` there) and the clients never compete with the deliverer's thread.
 */
export class Child<Request, Reply> {
  private readonly child: ChildProcess;
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (err: Error) => void }
  >();
  readonly exited: Promise<number | null>;

  /** `quiet`: the child's stdout is dropped (the fan-out bundle writes its EMF metrics there, as on Lambda). */
  constructor(
    script: string,
    env: Record<string, string> = {},
    execArgv: string[] = [],
    options: { quiet?: boolean } = {},
  ) {
    const root = join(__dirname, '..', '..');
    this.child = fork(join(root, script), [], {
      cwd: root,
      env: {
        ...process.env,
        // tsx hands its loader to children through NODE_OPTIONS: a bundled child must not inherit it.
        ...(script.endsWith('.mjs') ? { NODE_OPTIONS: '' } : {}),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      // A bundled .mjs runs on plain node: tsx's loader hooks would add their own CPU to the child's.
      execArgv: script.endsWith('.mjs') ? execArgv : ['--import', 'tsx', ...execArgv],
      stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: { seq: number; reply: Reply }) => {
      const waiter = this.pending.get(message.seq);
      if (!waiter) return;
      this.pending.delete(message.seq);
      const reply = message.reply as { type?: string; message?: string };
      if (reply.type === 'error') waiter.reject(new Error(`${script}: ${reply.message}`));
      else waiter.resolve(message.reply);
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        for (const waiter of this.pending.values()) waiter.reject(new Error(`${script} exited with ${code}`));
        this.pending.clear();
        resolve(code);
      }),
    );
  }

  request(request: Request, timeoutMs = 600_000): Promise<Reply> {
    const seq = ++this.seq;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.child.send({ seq, request });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}
